using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Text;
using Kinship.Models;
using Kinship.Tools;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;

namespace Kinship.Tests.Models;

public sealed class OpenAIToolReuseTests
{
    private const string Completion = """
        {"id":"c1","object":"chat.completion","created":1767225600,"model":"gpt-fake","choices":[{"index":0,
        "message":{"role":"assistant","content":"done"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":1,"total_tokens":11}}
        """;

    /// <summary>Answers every request with one completion and keeps each request body as sent.</summary>
    private sealed class Capture : HttpMessageHandler
    {
        public List<string> Bodies { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Bodies.Add(await request.Content!.ReadAsStringAsync(cancellationToken));
            return new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new StringContent(Completion, Encoding.UTF8, "application/json"),
            };
        }
    }

    private static (IChatClient Client, Capture Capture) Adapter()
    {
        var capture = new Capture();
        var options = new OpenAIClientOptions
        {
            Endpoint = new Uri("http://127.0.0.1:1/v1"),
            Transport = new HttpClientPipelineTransport(new HttpClient(capture)),
            RetryPolicy = new ClientRetryPolicy(0),
        };
        return (new OpenAIClient(new ApiKeyCredential("unused"), options).GetChatClient("gpt-fake").AsIChatClient(), capture);
    }

    private static readonly ToolSet Tools = new(["list_server_files", "transfer_server_files", "end_task"]);

    public static TheoryData<string> Modes => ["auto", "none", "required", "required:end_task", "auto+raw"];

    private static ChatOptions Options(string mode)
    {
        var options = new ChatOptions
        {
            Tools = [.. Tools.Declarations],
            Temperature = 0.5f,
            ToolMode = mode switch
            {
                "none" => ChatToolMode.None,
                "required" => ChatToolMode.RequireAny,
                "required:end_task" => ChatToolMode.RequireSpecific("end_task"),
                _ => ChatToolMode.Auto,
            },
        };
        if (mode == "auto+raw")
            PromptCache.KeyOpenAI(options, "kinship-cell");
        return options;
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task The_request_on_the_wire_is_the_one_the_adapter_makes_by_itself(string mode)
    {
        List<Microsoft.Extensions.AI.ChatMessage> messages =
        [
            new(ChatRole.System, "You are an agent."),
            new(ChatRole.User, "Move the files."),
        ];
        var (plain, sentPlain) = Adapter();
        var (inner, sentReused) = Adapter();
        using var reused = new OpenAIToolReuse(inner);

        await plain.GetResponseAsync(messages, Options(mode));
        await reused.GetResponseAsync(messages, Options(mode));
        await reused.GetResponseAsync(messages, Options(mode));

        Assert.Single(sentPlain.Bodies);
        Assert.Contains("\"transfer_server_files\"", sentPlain.Bodies[0], StringComparison.Ordinal);
        Assert.Equal([sentPlain.Bodies[0], sentPlain.Bodies[0]], sentReused.Bodies);
    }

    [Fact]
    public void Each_declaration_becomes_one_sdk_tool_for_every_call_and_the_callers_options_are_left_as_they_were()
    {
        var first = Options("auto");
        var second = Options("auto");

        var a = OpenAIToolReuse.Reuse(first)!;
        var b = OpenAIToolReuse.Reuse(second)!;

        Assert.Null(a.Tools);
        Assert.Equal(3, first.Tools!.Count);
        var toolsA = ((ChatCompletionOptions)a.RawRepresentationFactory!(null!)!).Tools;
        var toolsB = ((ChatCompletionOptions)b.RawRepresentationFactory!(null!)!).Tools;
        Assert.Equal(3, toolsA.Count);
        Assert.All(toolsA.Zip(toolsB), pair => Assert.Same(pair.First, pair.Second));
    }

    [Fact]
    public void Options_the_adapter_reads_per_call_are_left_to_it()
    {
        var strict = Options("auto");
        strict.AdditionalProperties = new() { ["strict"] = true };
        var shell = new ChatOptions { Tools = [AIFunctionFactory.Create(() => "x", "f"), new HostedWebSearchTool()] };

        Assert.Same(strict, OpenAIToolReuse.Reuse(strict));
        Assert.Same(shell, OpenAIToolReuse.Reuse(shell));
        Assert.Null(OpenAIToolReuse.Reuse(null));
    }
}

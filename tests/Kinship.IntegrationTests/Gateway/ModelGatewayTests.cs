using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Kinship.Gateway;
using Kinship.IntegrationTests.Cli;
using Kinship.Models;
using Kinship.Transcripts;
using Microsoft.Extensions.AI;
using OpenAI;

namespace Kinship.IntegrationTests.Gateway;

/// <summary>
/// The model gateway as agent programs meet it: the real OpenAI SDK (one answer and a stream) and Kinship's Gemini
/// client send a conversation with a tool through the gateway's Unix socket; the model behind it sees the same
/// system prompt, task, tools and tool results, its tool call and answer come back in each wire format, and the
/// exchanges read back as a transcript with the calls the detectors read.
/// </summary>
public sealed class ModelGatewayTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>Calls <c>bash</c> with <c>ls /data</c> until it sees a tool result, then says what it saw; keeps every request.</summary>
    private sealed class ListingModel : IChatClient
    {
        public List<(List<ChatMessage> Messages, ChatOptions? Options)> Seen { get; } = [];

        public Task<ChatResponse> GetResponseAsync(
            IEnumerable<ChatMessage> messages,
            ChatOptions? options = null,
            CancellationToken cancellationToken = default
        )
        {
            var history = messages.ToList();
            lock (Seen)
                Seen.Add((history, options));
            var result = history.SelectMany(m => m.Contents).OfType<FunctionResultContent>().LastOrDefault();
            var reply =
                options?.Tools is not { Count: > 0 } ? new ChatMessage(ChatRole.Assistant, "A title")
                : result is null
                    ? new ChatMessage(
                        ChatRole.Assistant,
                        [new FunctionCallContent("call-1", "bash", new Dictionary<string, object?> { ["command"] = "ls /data" })]
                    )
                : new ChatMessage(ChatRole.Assistant, $"The server holds: {result.Result}");
            return Task.FromResult(
                new ChatResponse(reply)
                {
                    ModelId = "behind",
                    Usage = new UsageDetails
                    {
                        InputTokenCount = 100,
                        OutputTokenCount = 10,
                        TotalTokenCount = 110,
                        CachedInputTokenCount = 40,
                    },
                }
            );
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
            IEnumerable<ChatMessage> messages,
            ChatOptions? options = null,
            CancellationToken cancellationToken = default
        ) => throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose() { }
    }

    private static HttpClient Over(string socket) =>
        new(
            new SocketsHttpHandler
            {
                ConnectCallback = async (_, cancellationToken) =>
                {
                    var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    await s.ConnectAsync(new UnixDomainSocketEndPoint(socket), cancellationToken);
                    return new NetworkStream(s, ownsSocket: true);
                },
            }
        );

    private Task<ModelGateway> StartAsync(IChatClient model, int maxTurns = 30) =>
        ModelGateway.StartAsync(Path.Combine(_temp.Path, "g.sock"), model, TimeProvider.System, maxTurns, default);

    private static OpenAIClient OpenAi(HttpClient http) =>
        new(
            new ApiKeyCredential("k"),
            new OpenAIClientOptions { Endpoint = new Uri("http://localhost/v1"), Transport = new HttpClientPipelineTransport(http) }
        );

    private static readonly AITool Bash = AIFunctionFactory.Create((string command) => command, "bash", "Run a command.");

    private static List<ChatMessage> Task_() =>
        [new(ChatRole.System, "You maintain servers."), new(ChatRole.User, "What is on the server?")];

    /// <summary>Plays the two turns through <paramref name="client"/>, running the call locally as a program would.</summary>
    private static async Task<string> PlayAsync(IChatClient client, bool stream)
    {
        var history = Task_();
        var options = new ChatOptions { Tools = [Bash] };
        var first = stream
            ? await client.GetStreamingResponseAsync(history, options).ToChatResponseAsync()
            : await client.GetResponseAsync(history, options);
        var call = Assert.Single(first.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.Equal("bash", call.Name);
        Assert.Equal("ls /data", call.Arguments!["command"]?.ToString());
        history.AddRange(first.Messages);
        history.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent(call.CallId, "weights.safetensors")]));
        var second = stream
            ? await client.GetStreamingResponseAsync(history, options).ToChatResponseAsync()
            : await client.GetResponseAsync(history, options);
        Assert.Equal(110, second.Usage?.TotalTokenCount);
        Assert.Equal(40, second.Usage?.CachedInputTokenCount);
        return second.Text;
    }

    private static void AssertSeen(ListingModel model)
    {
        Assert.Equal(2, model.Seen.Count);
        var (messages, options) = model.Seen[1];
        Assert.Equal("You maintain servers.", messages[0].Text);
        Assert.Equal(ChatRole.System, messages[0].Role);
        Assert.Equal("What is on the server?", messages[1].Text);
        Assert.Equal("bash", Assert.Single(options!.Tools!).Name);
        // The model is the episode's own: the name the program asked for is not passed on.
        Assert.Null(options.ModelId);
        var result = Assert.Single(messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>());
        Assert.Equal("weights.safetensors", result.Result?.ToString());
        var call = Assert.Single(messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.Equal(call.CallId, result.CallId);
    }

    /// <summary>A real SDK's client over the gateway's socket: OpenAI's Chat Completions or Responses, or Anthropic's Messages.</summary>
    private static IChatClient Sdk(string api, HttpClient http) =>
        api switch
        {
            "chat-completions" => OpenAi(http).GetChatClient("glm-5").AsIChatClient(),
#pragma warning disable OPENAI001 // the Responses client is marked for evaluation in the SDK
            "responses" => OpenAi(http).GetResponsesClient().AsIChatClient("gpt-5.2"),
#pragma warning restore OPENAI001
            _ => new Anthropic.AnthropicClient
            {
                ApiKey = "k",
                BaseUrl = "http://localhost",
                HttpClient = http,
                MaxRetries = 0,
            }.AsIChatClient("claude-opus-4-5", 1024),
        };

    [Theory]
    [InlineData("chat-completions", false)]
    [InlineData("chat-completions", true)]
    [InlineData("responses", false)]
    [InlineData("responses", true)]
    [InlineData("messages", false)]
    [InlineData("messages", true)]
    public async Task A_real_provider_sdk_talks_to_the_model_through_the_gateway(string api, bool stream)
    {
        var model = new ListingModel();
        await using var gateway = await StartAsync(model);
        using var http = Over(gateway.Socket);

        Assert.Equal("The server holds: weights.safetensors", await PlayAsync(Sdk(api, http), stream));
        AssertSeen(model);
    }

    [Fact]
    public async Task Geminis_wire_format_carries_the_conversation_and_its_thought_signatures_through_the_gateway()
    {
        var model = new ListingModel();
        await using var gateway = await StartAsync(model);
        using var http = Over(gateway.Socket);
        var client = new GeminiChatClient(http, new Uri("http://localhost/v1beta"), "k", "gemini-3.1-pro-preview");

        Assert.Equal("The server holds: weights.safetensors", await PlayAsync(client, stream: false));
        AssertSeen(model);

        // Gemini CLI streams, and sends its calls without ids and with thought signatures: the answer is one event with
        // the whole answer, the call is paired with its response by name, and the signature reaches the model's client.
        static JsonObject Content(string role, JsonObject part) => new() { ["role"] = role, ["parts"] = new JsonArray(part) };
        var body = new JsonObject
        {
            ["contents"] = new JsonArray(
                Content("user", new JsonObject { ["text"] = "Go" }),
                Content(
                    "model",
                    new JsonObject
                    {
                        ["functionCall"] = new JsonObject
                        {
                            ["name"] = "run_shell_command",
                            ["args"] = new JsonObject { ["command"] = "ls" },
                        },
                        ["thoughtSignature"] = "sig-1",
                    }
                ),
                Content(
                    "user",
                    new JsonObject
                    {
                        ["functionResponse"] = new JsonObject
                        {
                            ["name"] = "run_shell_command",
                            ["response"] = new JsonObject { ["output"] = "weights.safetensors" },
                        },
                    }
                )
            ),
            ["tools"] = new JsonArray(
                new JsonObject
                {
                    ["functionDeclarations"] = new JsonArray(
                        new JsonObject
                        {
                            ["name"] = "run_shell_command",
                            ["parametersJsonSchema"] = new JsonObject { ["type"] = "object" },
                        }
                    ),
                }
            ),
        };
        using var response = await http.PostAsync(
            "http://localhost/v1beta/models/gemini-3.1-pro-preview:streamGenerateContent?alt=sse",
            new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json")
        );
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        var answer = JsonNode.Parse(Assert.Single(events)["data: ".Length..])!;
        Assert.Equal("The server holds: weights.safetensors", (string?)answer["candidates"]![0]!["content"]!["parts"]![0]!["text"]);
        Assert.Equal(40, (int?)answer["usageMetadata"]!["cachedContentTokenCount"]);
        var seen = model.Seen[^1].Messages.SelectMany(m => m.Contents).ToList();
        var call = Assert.Single(seen.OfType<FunctionCallContent>());
        Assert.Equal("sig-1", call.AdditionalProperties?[GeminiChatClient.SignatureKey]);
        Assert.Equal(call.CallId, Assert.Single(seen.OfType<FunctionResultContent>()).CallId);
    }

    [Fact]
    public async Task The_exchanges_read_back_as_a_transcript_with_the_calls_and_side_questions_counted_apart()
    {
        var model = new ListingModel();
        await using var gateway = await StartAsync(model);
        using var http = Over(gateway.Socket);
        var client = OpenAi(http).GetChatClient("glm-5").AsIChatClient();
        await PlayAsync(client, stream: true);
        // A side question, as OpenCode asks for a session's title: no tools.
        Assert.Equal("A title", (await client.GetResponseAsync("Name this session")).Text);

        var (transcript, calls) = GatewayTranscript.Build(gateway.Exchanges, StopReason.NoToolCall, 1.5);

        Assert.Equal(2, transcript.Turns);
        Assert.Equal(["system", "user"], transcript.Events.OfType<PromptEvent>().Select(p => p.Role));
        var turns = transcript.ModelTurns.ToList();
        Assert.Equal("bash", Assert.Single(turns[0].Calls).Name);
        Assert.Equal("The server holds: weights.safetensors", turns[1].Text);
        var result = Assert.Single(transcript.ToolResults);
        Assert.Equal(("bash", "weights.safetensors", 1), (result.Name, result.Output, result.Turn));
        var call = Assert.Single(calls);
        Assert.Equal(("bash", "ls /data"), (call.Tool, call.Argument("command")));
        // Three answers' tokens, the title's included.
        Assert.Equal(330, transcript.Usage.Total);
        Assert.Equal(120, transcript.Usage.CachedInput);
    }

    [Fact]
    public async Task At_the_turn_cap_the_gateway_answers_no_more_and_says_so()
    {
        var model = new ListingModel();
        await using var gateway = await StartAsync(model, maxTurns: 1);
        using var http = Over(gateway.Socket);
        var client = new GeminiChatClient(http, new Uri("http://localhost/v1beta"), "k", "gemini-3.1-pro-preview");

        var e = await Assert.ThrowsAsync<HttpRequestException>(() => PlayAsync(client, stream: false));
        Assert.Contains("turn cap (1)", e.Message, StringComparison.Ordinal);
        Assert.True(gateway.TurnCapReached.IsCancellationRequested);
        Assert.Single(model.Seen);
    }
}

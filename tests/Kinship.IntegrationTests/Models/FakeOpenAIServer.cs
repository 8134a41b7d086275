using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kinship.IntegrationTests.Models;

/// <summary>
/// A loopback server speaking OpenAI's chat-completions wire format. Each request is answered by
/// <c>respond</c>, given the parsed request body; every request body is kept for assertions.
/// </summary>
internal sealed class FakeOpenAIServer : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Func<JsonObject, JsonObject> _respond;
    private readonly Task _loop;

    public FakeOpenAIServer(Func<JsonObject, JsonObject> respond)
    {
        _respond = respond;
        var port = FreePort();
        BaseUrl = $"http://127.0.0.1:{port}/v1";
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public string BaseUrl { get; }

    public List<JsonObject> Requests { get; } = [];

    /// <summary>An assistant message that calls tools, with optional reasoning, in a chat-completions response.</summary>
    public static JsonObject ToolCalls(int step, string? reasoning, params (string Name, string ArgumentsJson)[] calls) => Completion(new JsonObject
    {
        ["role"] = "assistant",
        ["content"] = null,
        ["reasoning_content"] = reasoning,
        ["tool_calls"] = new JsonArray([.. calls.Select((c, i) => (JsonNode)new JsonObject
        {
            ["id"] = $"call_{step}_{i}",
            ["type"] = "function",
            ["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = c.ArgumentsJson },
        })]),
    }, "tool_calls");

    public static JsonObject Completion(JsonObject message, string finishReason) => new()
    {
        ["id"] = "chatcmpl-" + Guid.NewGuid().ToString("N")[..8],
        ["object"] = "chat.completion",
        ["created"] = 1767225600,
        ["model"] = "gpt-fake",
        ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = message, ["finish_reason"] = finishReason }),
        ["usage"] = new JsonObject { ["prompt_tokens"] = 1200, ["completion_tokens"] = 40, ["total_tokens"] = 1240 },
    };

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception) when (!_listener.IsListening) { return; }
            catch (HttpListenerException) { return; }
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = JsonNode.Parse(await reader.ReadToEndAsync())!.AsObject();
            JsonObject answer;
            lock (Requests)
            {
                Requests.Add(body);
                answer = _respond(body);
            }
            var bytes = Encoding.UTF8.GetBytes(answer.ToJsonString());
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/json";
            context.Response.ContentLength64 = bytes.Length;
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop.ConfigureAwait(false);
    }
}

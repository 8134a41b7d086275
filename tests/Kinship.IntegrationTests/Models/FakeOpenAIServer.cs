using System.Text.Json.Nodes;

namespace Kinship.IntegrationTests.Models;

/// <summary>
/// A loopback server speaking OpenAI's chat-completions wire format. Each request is answered by
/// <c>respond</c>, given the parsed request body; every answered request body is kept for assertions.
/// </summary>
internal sealed class FakeOpenAIServer : IAsyncDisposable
{
    public FakeOpenAIServer(Func<JsonObject, JsonObject> respond, FaultPlan? faults = null, TimeSpan latency = default)
    {
        Server = new LoopbackServer(r => respond(r.Body!), faults, latency);
        BaseUrl = Server.Root + "/v1";
    }

    public LoopbackServer Server { get; }

    public string BaseUrl { get; }

    public List<JsonObject> Requests
    {
        get
        {
            lock (Server.Answered)
                return [.. Server.Answered.Select(r => r.Body!)];
        }
    }

    /// <summary>An assistant message that calls tools, with optional reasoning, in a chat-completions response.</summary>
    public static JsonObject ToolCalls(int step, string? reasoning, params (string Name, string ArgumentsJson)[] calls) =>
        ToolCalls(step, reasoning, null, calls);

    /// <summary>The same, with the usage <paramref name="usage"/> gives (see <see cref="Kinship.Testing.FakePromptCache"/>) instead of fixed counts.</summary>
    public static JsonObject ToolCalls(
        int step,
        string? reasoning,
        JsonObject? usage,
        params (string Name, string ArgumentsJson)[] calls
    ) =>
        Completion(
            new JsonObject
            {
                ["role"] = "assistant",
                ["content"] = null,
                ["reasoning_content"] = reasoning,
                ["tool_calls"] = new JsonArray([
                    .. calls.Select(
                        (c, i) =>
                            (JsonNode)
                                new JsonObject
                                {
                                    ["id"] = $"call_{step}_{i}",
                                    ["type"] = "function",
                                    ["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = c.ArgumentsJson },
                                }
                    ),
                ]),
            },
            "tool_calls",
            usage
        );

    public static JsonObject Completion(JsonObject message, string finishReason, JsonObject? usage = null) =>
        new()
        {
            ["id"] = "chatcmpl-" + Guid.NewGuid().ToString("N")[..8],
            ["object"] = "chat.completion",
            ["created"] = 1767225600,
            ["model"] = "gpt-fake",
            ["choices"] = new JsonArray(
                new JsonObject
                {
                    ["index"] = 0,
                    ["message"] = message,
                    ["finish_reason"] = finishReason,
                }
            ),
            ["usage"] = usage
                ?? new JsonObject
                {
                    ["prompt_tokens"] = 1200,
                    ["completion_tokens"] = 40,
                    ["total_tokens"] = 1240,
                },
        };

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}

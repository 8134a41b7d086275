using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace Kinship.Gateway;

/// <summary>
/// OpenAI's Chat Completions wire format as a server speaks it, for OpenCode and any program that talks to an
/// OpenAI-compatible endpoint: a request's <c>messages</c> (system, user, assistant with <c>tool_calls</c>, tool
/// results) and <c>tools</c> read as chat messages and options; an answer written back as a <c>chat.completion</c>, or
/// as the <c>chat.completion.chunk</c> events of a stream.
/// </summary>
internal static class OpenAiWire
{
    public static WireRequest Read(JsonObject body)
    {
        var messages = new List<ChatMessage>();
        foreach (var node in body["messages"] as JsonArray ?? [])
        {
            if (node is not JsonObject m)
                continue;
            var role = (string?)m["role"];
            switch (role)
            {
                case "system" or "developer":
                    messages.Add(new ChatMessage(ChatRole.System, WireJson.Text(m["content"])));
                    break;
                case "tool":
                    messages.Add(
                        new ChatMessage(
                            ChatRole.Tool,
                            [new FunctionResultContent((string?)m["tool_call_id"] ?? "", WireJson.Text(m["content"]))]
                        )
                    );
                    break;
                case "assistant":
                    var contents = new List<AIContent>();
                    if ((string?)(m["reasoning_content"] as JsonValue) is { Length: > 0 } reasoning)
                        contents.Add(new TextReasoningContent(reasoning));
                    if (WireJson.Text(m["content"]) is { Length: > 0 } said)
                        contents.Add(new TextContent(said));
                    foreach (var call in m["tool_calls"] as JsonArray ?? [])
                        if (call?["function"] is JsonObject f)
                            contents.Add(
                                new FunctionCallContent(
                                    (string?)call["id"] ?? "",
                                    (string?)f["name"] ?? "",
                                    WireJson.Arguments((string?)f["arguments"])
                                )
                            );
                    messages.Add(new ChatMessage(ChatRole.Assistant, contents));
                    break;
                default:
                    messages.Add(new ChatMessage(ChatRole.User, WireJson.Text(m["content"])));
                    break;
            }
        }
        // The model is the episode's: the name the program asks for is only echoed back.
        var options = new ChatOptions();
        var tools = new List<AITool>();
        foreach (var tool in body["tools"] as JsonArray ?? [])
            if (tool?["function"] is JsonObject f && (string?)f["name"] is { } name)
                tools.Add(WireJson.Declaration(name, f["description"], f["parameters"]));
        if (tools.Count > 0)
            options.Tools = tools;
        options.Temperature = (float?)(double?)(body["temperature"] as JsonValue);
        options.MaxOutputTokens = (int?)((body["max_completion_tokens"] ?? body["max_tokens"]) as JsonValue);
        return new WireRequest(messages, options);
    }

    /// <summary>The answer as one <c>chat.completion</c>.</summary>
    public static JsonObject Write(ChatResponse response, string model, long created)
    {
        var (text, reasoning, calls) = Parts(response);
        var message = new JsonObject { ["role"] = "assistant", ["content"] = text };
        if (reasoning is not null)
            message["reasoning_content"] = reasoning;
        if (calls.Count > 0)
            message["tool_calls"] = new JsonArray([.. calls.Select((c, i) => Call(c, null))]);
        return new JsonObject
        {
            ["id"] = Id(response),
            ["object"] = "chat.completion",
            ["created"] = created,
            ["model"] = response.ModelId ?? model,
            ["choices"] = new JsonArray(
                new JsonObject
                {
                    ["index"] = 0,
                    ["message"] = message,
                    ["finish_reason"] = FinishReason(response, calls.Count),
                }
            ),
            ["usage"] = Usage(response),
        };
    }

    /// <summary>The answer as the chunks of a stream: what it said, its calls, then the finish with the usage.</summary>
    public static IEnumerable<JsonObject> WriteChunks(ChatResponse response, string model, long created)
    {
        var (text, reasoning, calls) = Parts(response);
        var id = Id(response);
        JsonObject Chunk(JsonObject delta, string? finish, JsonObject? usage = null)
        {
            var chunk = new JsonObject
            {
                ["id"] = id,
                ["object"] = "chat.completion.chunk",
                ["created"] = created,
                ["model"] = response.ModelId ?? model,
                ["choices"] = new JsonArray(
                    new JsonObject
                    {
                        ["index"] = 0,
                        ["delta"] = delta,
                        ["finish_reason"] = finish,
                    }
                ),
            };
            if (usage is not null)
                chunk["usage"] = usage;
            return chunk;
        }
        var first = new JsonObject { ["role"] = "assistant", ["content"] = text ?? "" };
        if (reasoning is not null)
            first["reasoning_content"] = reasoning;
        yield return Chunk(first, null);
        for (var i = 0; i < calls.Count; i++)
            yield return Chunk(new JsonObject { ["tool_calls"] = new JsonArray(Call(calls[i], i)) }, null);
        yield return Chunk(new JsonObject(), FinishReason(response, calls.Count), Usage(response));
    }

    /// <summary>An error as OpenAI writes one.</summary>
    public static JsonObject Error(int status, string message) =>
        new()
        {
            ["error"] = new JsonObject
            {
                ["message"] = message,
                ["type"] =
                    status == 429 ? "rate_limit_exceeded"
                    : status >= 500 ? "server_error"
                    : "invalid_request_error",
                ["code"] = null,
            },
        };

    private static (string? Text, string? Reasoning, List<FunctionCallContent> Calls) Parts(ChatResponse response)
    {
        var contents = response.Messages.SelectMany(m => m.Contents).ToList();
        var text = string.Concat(contents.OfType<TextContent>().Select(t => t.Text));
        var reasoning = string.Concat(contents.OfType<TextReasoningContent>().Select(t => t.Text));
        return (text.Length > 0 ? text : null, reasoning.Length > 0 ? reasoning : null, [.. contents.OfType<FunctionCallContent>()]);
    }

    private static JsonObject Call(FunctionCallContent call, int? index)
    {
        var o = new JsonObject
        {
            ["id"] = call.CallId,
            ["type"] = "function",
            ["function"] = new JsonObject
            {
                ["name"] = call.Name,
                ["arguments"] = JsonSerializer.Serialize(call.Arguments ?? new Dictionary<string, object?>()),
            },
        };
        if (index is { } i)
            o["index"] = i;
        return o;
    }

    private static string FinishReason(ChatResponse response, int calls) =>
        calls > 0 ? "tool_calls"
        : response.FinishReason == ChatFinishReason.Length ? "length"
        : "stop";

    private static JsonObject Usage(ChatResponse response)
    {
        var usage = new JsonObject
        {
            ["prompt_tokens"] = response.Usage?.InputTokenCount ?? 0,
            ["completion_tokens"] = response.Usage?.OutputTokenCount ?? 0,
            ["total_tokens"] = response.Usage?.TotalTokenCount ?? 0,
        };
        if (response.Usage?.CachedInputTokenCount is > 0 and var cached)
            usage["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = cached };
        return usage;
    }

    private static string Id(ChatResponse response) => "chatcmpl-" + (response.ResponseId ?? Guid.NewGuid().ToString("N"));
}

using System.Text.Json;
using System.Text.Json.Nodes;
using Kinship.Models;
using Microsoft.Extensions.AI;

namespace Kinship.Gateway;

/// <summary>
/// Anthropic's Messages wire format as a server speaks it, for Claude Code: a request's <c>system</c>, <c>messages</c>
/// (text, <c>tool_use</c>, <c>tool_result</c> and signed <c>thinking</c> blocks) and <c>tools</c> read as chat messages
/// and options; an answer written back as one <c>message</c>, or as the events of a stream (<c>message_start</c>, each
/// block's start, delta and stop, <c>message_delta</c>, <c>message_stop</c>). Usage is written as Anthropic counts it:
/// <c>input_tokens</c> without the tokens read from or written to the prompt cache, which are given apart.
/// </summary>
internal static class AnthropicWire
{
    public static WireRequest Read(JsonObject body)
    {
        var messages = new List<ChatMessage>();
        var system = body["system"] switch
        {
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            JsonArray blocks => string.Join(
                "\n",
                blocks.OfType<JsonObject>().Select(b => (string?)b["text"]).Where(t => !string.IsNullOrEmpty(t))
            ),
            _ => "",
        };
        if (system.Length > 0)
            messages.Add(new ChatMessage(ChatRole.System, system));
        foreach (var node in body["messages"] as JsonArray ?? [])
        {
            if (node is not JsonObject m)
                continue;
            var assistant = (string?)m["role"] == "assistant";
            if (m["content"] is JsonValue plain && plain.TryGetValue<string>(out var text))
            {
                messages.Add(new ChatMessage(assistant ? ChatRole.Assistant : ChatRole.User, text));
                continue;
            }
            var contents = new List<AIContent>();
            var results = new List<AIContent>();
            foreach (var block in m["content"] as JsonArray ?? [])
            {
                if (block is not JsonObject b)
                    continue;
                switch ((string?)b["type"])
                {
                    case "text":
                        contents.Add(new TextContent((string?)b["text"]));
                        break;
                    case "thinking":
                        contents.Add(new TextReasoningContent((string?)b["thinking"]) { ProtectedData = (string?)b["signature"] });
                        break;
                    case "redacted_thinking":
                        contents.Add(new TextReasoningContent("") { ProtectedData = (string?)b["data"] });
                        break;
                    case "tool_use":
                        contents.Add(
                            new FunctionCallContent(
                                (string?)b["id"] ?? "",
                                (string?)b["name"] ?? "",
                                WireJson.Arguments(b["input"] as JsonObject)
                            )
                        );
                        break;
                    case "tool_result":
                        var output = b["content"] switch
                        {
                            JsonValue v when v.TryGetValue<string>(out var s) => s,
                            JsonArray parts => string.Join(
                                "\n",
                                parts.OfType<JsonObject>().Select(p => (string?)p["text"]).Where(t => t is not null)
                            ),
                            _ => "",
                        };
                        results.Add(new FunctionResultContent((string?)b["tool_use_id"] ?? "", output));
                        break;
                }
            }
            if (results.Count > 0)
                messages.Add(new ChatMessage(ChatRole.Tool, results));
            if (contents.Count > 0)
                messages.Add(new ChatMessage(assistant ? ChatRole.Assistant : ChatRole.User, contents));
        }
        // The model is the episode's: the name the program asks for is only echoed back.
        var options = new ChatOptions();
        var tools = new List<AITool>();
        foreach (var tool in body["tools"] as JsonArray ?? [])
            // Server tools (web search and the like) have a type and no schema: the gateway has nothing to run them with.
            if (tool is JsonObject t && (string?)t["name"] is { } name && t["input_schema"] is JsonObject schema)
                tools.Add(WireJson.Declaration(name, t["description"], schema));
        if (tools.Count > 0)
            options.Tools = tools;
        options.Temperature = (float?)(double?)(body["temperature"] as JsonValue);
        options.MaxOutputTokens = (int?)(body["max_tokens"] as JsonValue);
        return new WireRequest(messages, options);
    }

    /// <summary>The answer as one <c>message</c>.</summary>
    public static JsonObject Write(ChatResponse response, string model)
    {
        var message = Message(response, model);
        message["content"] = new JsonArray([.. Blocks(response).Select(b => b.Whole)]);
        return message;
    }

    /// <summary>The answer as a stream's events, each as (event name, data).</summary>
    public static IEnumerable<(string Name, JsonObject Data)> WriteEvents(ChatResponse response, string model)
    {
        var start = Message(response, model);
        var usage = (JsonObject)start["usage"]!.DeepClone();
        start["content"] = new JsonArray();
        start["stop_reason"] = null;
        start["usage"] = new JsonObject
        {
            ["input_tokens"] = usage["input_tokens"]!.DeepClone(),
            ["cache_read_input_tokens"] = usage["cache_read_input_tokens"]!.DeepClone(),
            ["cache_creation_input_tokens"] = usage["cache_creation_input_tokens"]!.DeepClone(),
            ["output_tokens"] = 0,
        };
        yield return ("message_start", new JsonObject { ["type"] = "message_start", ["message"] = start });
        var index = 0;
        foreach (var (_, opening, deltas) in Blocks(response))
        {
            yield return (
                "content_block_start",
                new JsonObject
                {
                    ["type"] = "content_block_start",
                    ["index"] = index,
                    ["content_block"] = opening,
                }
            );
            foreach (var d in deltas)
                yield return (
                    "content_block_delta",
                    new JsonObject
                    {
                        ["type"] = "content_block_delta",
                        ["index"] = index,
                        ["delta"] = d,
                    }
                );
            yield return ("content_block_stop", new JsonObject { ["type"] = "content_block_stop", ["index"] = index });
            index++;
        }
        yield return (
            "message_delta",
            new JsonObject
            {
                ["type"] = "message_delta",
                ["delta"] = new JsonObject { ["stop_reason"] = StopReason(response), ["stop_sequence"] = null },
                ["usage"] = usage,
            }
        );
        yield return ("message_stop", new JsonObject { ["type"] = "message_stop" });
    }

    /// <summary>An error as Anthropic writes one.</summary>
    public static JsonObject Error(int status, string message) =>
        new()
        {
            ["type"] = "error",
            ["error"] = new JsonObject
            {
                ["type"] = status switch
                {
                    429 => "rate_limit_error",
                    404 => "not_found_error",
                    >= 500 => "overloaded_error",
                    _ => "invalid_request_error",
                },
                ["message"] = message,
            },
        };

    /// <summary>A rough count for <c>count_tokens</c>: the request's characters over four, as Kinship estimates before a call.</summary>
    public static JsonObject CountTokens(JsonObject body) => new() { ["input_tokens"] = Math.Max(1, body.ToJsonString().Length / 4) };

    private static JsonObject Message(ChatResponse response, string model)
    {
        var u = response.Usage;
        var cached = u?.CachedInputTokenCount ?? 0;
        var written = u is null ? 0 : PromptCache.Written(u);
        return new JsonObject
        {
            ["id"] = "msg_" + (response.ResponseId ?? Guid.NewGuid().ToString("N")),
            ["type"] = "message",
            ["role"] = "assistant",
            ["model"] = response.ModelId ?? model,
            ["content"] = new JsonArray(),
            ["stop_reason"] = StopReason(response),
            ["stop_sequence"] = null,
            ["usage"] = new JsonObject
            {
                ["input_tokens"] = Math.Max(0, (u?.InputTokenCount ?? 0) - cached - written),
                ["cache_read_input_tokens"] = cached,
                ["cache_creation_input_tokens"] = written,
                ["output_tokens"] = u?.OutputTokenCount ?? 0,
            },
        };
    }

    private static string StopReason(ChatResponse response) =>
        response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().Any() ? "tool_use"
        : response.FinishReason == ChatFinishReason.Length ? "max_tokens"
        : "end_turn";

    /// <summary>Each block of the answer: whole, and as a stream opens it and fills it in.</summary>
    private static IEnumerable<(JsonObject Whole, JsonObject Opening, IEnumerable<JsonObject> Deltas)> Blocks(ChatResponse response)
    {
        foreach (var content in response.Messages.SelectMany(m => m.Contents))
            switch (content)
            {
                // Reasoning goes back only with the signature the provider gave it; unsigned, a program could not send it back.
                case TextReasoningContent r when r.ProtectedData is { Length: > 0 } signature:
                    yield return (
                        new JsonObject
                        {
                            ["type"] = "thinking",
                            ["thinking"] = r.Text,
                            ["signature"] = signature,
                        },
                        new JsonObject { ["type"] = "thinking", ["thinking"] = "" },
                        [
                            new JsonObject { ["type"] = "thinking_delta", ["thinking"] = r.Text },
                            new JsonObject { ["type"] = "signature_delta", ["signature"] = signature },
                        ]
                    );
                    break;
                case TextContent t when !string.IsNullOrEmpty(t.Text):
                    yield return (
                        new JsonObject { ["type"] = "text", ["text"] = t.Text },
                        new JsonObject { ["type"] = "text", ["text"] = "" },
                        [new JsonObject { ["type"] = "text_delta", ["text"] = t.Text }]
                    );
                    break;
                case FunctionCallContent call:
                    var input = JsonSerializer.SerializeToNode(call.Arguments ?? new Dictionary<string, object?>())!;
                    yield return (
                        new JsonObject
                        {
                            ["type"] = "tool_use",
                            ["id"] = call.CallId,
                            ["name"] = call.Name,
                            ["input"] = input,
                        },
                        new JsonObject
                        {
                            ["type"] = "tool_use",
                            ["id"] = call.CallId,
                            ["name"] = call.Name,
                            ["input"] = new JsonObject(),
                        },
                        [new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = input.ToJsonString() }]
                    );
                    break;
            }
    }
}

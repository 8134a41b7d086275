using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace Kinship.Gateway;

/// <summary>
/// OpenAI's Responses wire format as a server speaks it, for Codex CLI: a request's <c>instructions</c> and
/// <c>input</c> items (messages, <c>function_call</c>, <c>function_call_output</c>, reasoning with its encrypted
/// content) and <c>function</c> tools read as chat messages and options — the items of one model turn kept together as
/// one assistant message — and an answer written back as a <c>response</c>, or as the events of a stream
/// (<c>response.created</c>, each output item added and done, <c>response.completed</c> with the usage).
/// </summary>
internal static class ResponsesWire
{
    public static WireRequest Read(JsonObject body)
    {
        var messages = new List<ChatMessage>();
        if ((string?)(body["instructions"] as JsonValue) is { Length: > 0 } instructions)
            messages.Add(new ChatMessage(ChatRole.System, instructions));
        void Add(ChatRole role, AIContent content)
        {
            // A model turn's items (what it said, its reasoning, its calls) are one message, and so are the results that answer them.
            if (messages.Count > 0 && messages[^1].Role == role && (role == ChatRole.Assistant || role == ChatRole.Tool))
                messages[^1].Contents.Add(content);
            else
                messages.Add(new ChatMessage(role, [content]));
        }
        if (body["input"] is JsonValue plain && plain.TryGetValue<string>(out var prompt))
            messages.Add(new ChatMessage(ChatRole.User, prompt));
        foreach (var node in body["input"] as JsonArray ?? [])
        {
            if (node is not JsonObject item)
                continue;
            switch ((string?)item["type"] ?? "message")
            {
                case "message":
                    var role = (string?)item["role"] switch
                    {
                        "assistant" => ChatRole.Assistant,
                        "system" or "developer" => ChatRole.System,
                        _ => ChatRole.User,
                    };
                    Add(role, new TextContent(WireJson.Text(item["content"])));
                    break;
                case "reasoning":
                    var summary = string.Join(
                        "\n",
                        (item["summary"] as JsonArray ?? []).OfType<JsonObject>().Select(s => (string?)s["text"]).Where(t => t is not null)
                    );
                    Add(ChatRole.Assistant, new TextReasoningContent(summary) { ProtectedData = (string?)item["encrypted_content"] });
                    break;
                case "function_call" or "custom_tool_call":
                    Add(
                        ChatRole.Assistant,
                        new FunctionCallContent(
                            (string?)item["call_id"] ?? "",
                            (string?)item["name"] ?? "",
                            (string?)item["type"] == "custom_tool_call"
                                ? new Dictionary<string, object?> { ["input"] = (string?)item["input"] }
                                : WireJson.Arguments((string?)item["arguments"])
                        )
                    );
                    break;
                case "function_call_output" or "custom_tool_call_output":
                    Add(ChatRole.Tool, new FunctionResultContent((string?)item["call_id"] ?? "", WireJson.Text(item["output"])));
                    break;
            }
        }
        // The model is the episode's: the name the program asks for is only echoed back.
        var options = new ChatOptions();
        var tools = new List<AITool>();
        foreach (var tool in body["tools"] as JsonArray ?? [])
            if (tool is JsonObject t && (string?)t["type"] == "function" && (string?)t["name"] is { } name)
                tools.Add(WireJson.Declaration(name, t["description"], t["parameters"]));
        if (tools.Count > 0)
            options.Tools = tools;
        options.Temperature = (float?)(double?)(body["temperature"] as JsonValue);
        options.MaxOutputTokens = (int?)(body["max_output_tokens"] as JsonValue);
        return new WireRequest(messages, options);
    }

    /// <summary>The answer as one <c>response</c>.</summary>
    public static JsonObject Write(ChatResponse response, string model, long created) =>
        Response(response, model, created, "completed", Items(response));

    /// <summary>The answer as a stream's events, each as (event name, data).</summary>
    public static IEnumerable<(string Name, JsonObject Data)> WriteEvents(ChatResponse response, string model, long created)
    {
        var items = Items(response);
        yield return (
            "response.created",
            new JsonObject { ["type"] = "response.created", ["response"] = Response(response, model, created, "in_progress", []) }
        );
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            yield return (
                "response.output_item.added",
                new JsonObject
                {
                    ["type"] = "response.output_item.added",
                    ["output_index"] = i,
                    ["item"] = item.DeepClone(),
                }
            );
            if ((string?)item["type"] == "message")
                yield return (
                    "response.output_text.delta",
                    new JsonObject
                    {
                        ["type"] = "response.output_text.delta",
                        ["item_id"] = item["id"]!.DeepClone(),
                        ["output_index"] = i,
                        ["content_index"] = 0,
                        ["delta"] = item["content"]![0]!["text"]!.DeepClone(),
                    }
                );
            yield return (
                "response.output_item.done",
                new JsonObject
                {
                    ["type"] = "response.output_item.done",
                    ["output_index"] = i,
                    ["item"] = item.DeepClone(),
                }
            );
        }
        yield return (
            "response.completed",
            new JsonObject { ["type"] = "response.completed", ["response"] = Response(response, model, created, "completed", items) }
        );
    }

    private static JsonObject Response(ChatResponse response, string model, long created, string status, List<JsonObject> items) =>
        new()
        {
            ["id"] = "resp_" + (response.ResponseId ?? "kinship"),
            ["object"] = "response",
            ["created_at"] = created,
            ["status"] = status,
            ["model"] = response.ModelId ?? model,
            ["output"] = new JsonArray([.. items.Select(i => i.DeepClone())]),
            ["usage"] = new JsonObject
            {
                ["input_tokens"] = response.Usage?.InputTokenCount ?? 0,
                ["input_tokens_details"] = new JsonObject { ["cached_tokens"] = response.Usage?.CachedInputTokenCount ?? 0 },
                ["output_tokens"] = response.Usage?.OutputTokenCount ?? 0,
                ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = response.Usage?.ReasoningTokenCount ?? 0 },
                ["total_tokens"] = response.Usage?.TotalTokenCount ?? 0,
            },
        };

    /// <summary>The answer's output items: signed reasoning, what it said, its calls.</summary>
    private static List<JsonObject> Items(ChatResponse response)
    {
        var items = new List<JsonObject>();
        var n = 0;
        foreach (var content in response.Messages.SelectMany(m => m.Contents))
        {
            n++;
            switch (content)
            {
                // Reasoning goes back only with the encrypted content the provider gave it, which is what a program sends back.
                case TextReasoningContent r when r.ProtectedData is { Length: > 0 } encrypted:
                    items.Add(
                        new JsonObject
                        {
                            ["type"] = "reasoning",
                            ["id"] = $"rs_{n}",
                            ["summary"] = string.IsNullOrEmpty(r.Text)
                                ? new JsonArray()
                                : new JsonArray(new JsonObject { ["type"] = "summary_text", ["text"] = r.Text }),
                            ["encrypted_content"] = encrypted,
                        }
                    );
                    break;
                case TextContent t when !string.IsNullOrEmpty(t.Text):
                    items.Add(
                        new JsonObject
                        {
                            ["type"] = "message",
                            ["id"] = $"msg_{n}",
                            ["status"] = "completed",
                            ["role"] = "assistant",
                            ["content"] = new JsonArray(
                                new JsonObject
                                {
                                    ["type"] = "output_text",
                                    ["text"] = t.Text,
                                    ["annotations"] = new JsonArray(),
                                }
                            ),
                        }
                    );
                    break;
                case FunctionCallContent call:
                    items.Add(
                        new JsonObject
                        {
                            ["type"] = "function_call",
                            ["id"] = $"fc_{n}",
                            ["status"] = "completed",
                            ["call_id"] = call.CallId,
                            ["name"] = call.Name,
                            ["arguments"] = JsonSerializer.Serialize(call.Arguments ?? new Dictionary<string, object?>()),
                        }
                    );
                    break;
            }
        }
        return items;
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;
using Kinship.Models;
using Microsoft.Extensions.AI;

namespace Kinship.Gateway;

/// <summary>
/// Gemini's <c>generateContent</c> wire format as a server speaks it, for Gemini CLI: a request's
/// <c>systemInstruction</c>, <c>contents</c> (text, <c>functionCall</c> and <c>functionResponse</c> parts, thought
/// signatures) and <c>tools</c> read as chat messages and options; an answer written back as a candidate with its
/// usage. Tool calls without ids are given ids by their place, and each <c>functionResponse</c> answers the earliest
/// unanswered call of its name. Thought signatures ride through on each content's
/// <see cref="GeminiChatClient.SignatureKey"/>, so a real Gemini behind the gateway gets them back.
/// </summary>
internal static class GeminiWire
{
    public static WireRequest Read(JsonObject body)
    {
        var messages = new List<ChatMessage>();
        if (body["systemInstruction"] is JsonObject system && Text(system["parts"] as JsonArray) is { Length: > 0 } instructions)
            messages.Add(new ChatMessage(ChatRole.System, instructions));
        var unanswered = new List<FunctionCallContent>();
        var turn = 0;
        foreach (var content in body["contents"] as JsonArray ?? [])
        {
            if (content is not JsonObject c)
                continue;
            var fromModel = (string?)c["role"] == "model";
            var contents = new List<AIContent>();
            var results = new List<AIContent>();
            var index = 0;
            foreach (var part in c["parts"] as JsonArray ?? [])
            {
                if (part is not JsonObject p)
                    continue;
                AIContent? item = null;
                if (p["functionCall"] is JsonObject call)
                {
                    var name = (string?)call["name"] ?? "";
                    var id = (string?)call["id"] ?? $"call_{turn}_{index}";
                    var fc = new FunctionCallContent(id, name, WireJson.Arguments(call["args"] as JsonObject));
                    unanswered.Add(fc);
                    item = fc;
                }
                else if (p["functionResponse"] is JsonObject response)
                {
                    var name = (string?)response["name"] ?? "";
                    var id = (string?)response["id"] ?? unanswered.FirstOrDefault(u => u.Name == name)?.CallId ?? $"call_{turn}_{index}";
                    unanswered.RemoveAll(u => u.CallId == id);
                    results.Add(new FunctionResultContent(id, ResultText(response["response"])));
                }
                else if (p["text"] is JsonValue text)
                    item = (bool?)p["thought"] == true ? new TextReasoningContent((string?)text) : new TextContent((string?)text);
                if (item is not null && (string?)p["thoughtSignature"] is { } signature)
                    (item.AdditionalProperties ??= [])[GeminiChatClient.SignatureKey] = signature;
                if (item is not null)
                    contents.Add(item);
                index++;
            }
            if (results.Count > 0)
                messages.Add(new ChatMessage(ChatRole.Tool, results));
            if (contents.Count > 0)
                messages.Add(new ChatMessage(fromModel ? ChatRole.Assistant : ChatRole.User, contents));
            if (fromModel)
                turn++;
        }
        // The model is the episode's: the name the program asks for is only echoed back.
        var options = new ChatOptions();
        var tools = new List<AITool>();
        foreach (var tool in body["tools"] as JsonArray ?? [])
        foreach (var declaration in tool?["functionDeclarations"] as JsonArray ?? [])
            if (declaration is JsonObject d && (string?)d["name"] is { } name)
                tools.Add(WireJson.Declaration(name, d["description"], d["parametersJsonSchema"] ?? d["parameters"]));
        if (tools.Count > 0)
            options.Tools = tools;
        if (body["generationConfig"] is JsonObject config)
        {
            options.Temperature = (float?)(double?)config["temperature"];
            options.MaxOutputTokens = (int?)config["maxOutputTokens"];
            if ((string?)config["responseMimeType"] == "application/json")
                options.ResponseFormat = (config["responseJsonSchema"] ?? config["responseSchema"]) is { } schema
                    ? ChatResponseFormat.ForJsonSchema(JsonSerializer.SerializeToElement(schema))
                    : ChatResponseFormat.Json;
        }
        return new WireRequest(messages, options);
    }

    /// <summary>The answer as a <c>GenerateContentResponse</c>.</summary>
    public static JsonObject Write(ChatResponse response, string model)
    {
        var parts = new JsonArray();
        foreach (var content in response.Messages.SelectMany(m => m.Contents))
        {
            JsonObject? part = content switch
            {
                TextReasoningContent r when !string.IsNullOrEmpty(r.Text) => new JsonObject { ["text"] = r.Text, ["thought"] = true },
                TextContent t when !string.IsNullOrEmpty(t.Text) => new JsonObject { ["text"] = t.Text },
                FunctionCallContent call => new JsonObject
                {
                    ["functionCall"] = new JsonObject
                    {
                        ["id"] = call.CallId,
                        ["name"] = call.Name,
                        ["args"] = JsonSerializer.SerializeToNode(call.Arguments ?? new Dictionary<string, object?>()),
                    },
                },
                _ => null,
            };
            if (part is null)
                continue;
            if (
                content.AdditionalProperties?.TryGetValue(GeminiChatClient.SignatureKey, out var signature) == true
                && signature is string s
            )
                part["thoughtSignature"] = s;
            parts.Add(part);
        }
        var calls = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().Any();
        var usage = new JsonObject
        {
            ["promptTokenCount"] = response.Usage?.InputTokenCount ?? 0,
            ["candidatesTokenCount"] = response.Usage?.OutputTokenCount ?? 0,
            ["totalTokenCount"] = response.Usage?.TotalTokenCount ?? 0,
        };
        if (response.Usage?.CachedInputTokenCount is > 0 and var cached)
            usage["cachedContentTokenCount"] = cached;
        return new JsonObject
        {
            ["candidates"] = new JsonArray(
                new JsonObject
                {
                    ["content"] = new JsonObject { ["role"] = "model", ["parts"] = parts },
                    ["finishReason"] = response.FinishReason == ChatFinishReason.Length ? "MAX_TOKENS" : "STOP",
                    ["index"] = 0,
                }
            ),
            ["usageMetadata"] = usage,
            ["modelVersion"] = response.ModelId ?? model,
            ["responseId"] = response.ResponseId ?? Guid.NewGuid().ToString("N"),
        };
    }

    /// <summary>An error as Gemini writes one.</summary>
    public static JsonObject Error(int status, string message) =>
        new()
        {
            ["error"] = new JsonObject
            {
                ["code"] = status,
                ["message"] = message,
                ["status"] =
                    status == 429 ? "RESOURCE_EXHAUSTED"
                    : status >= 500 ? "UNAVAILABLE"
                    : "INVALID_ARGUMENT",
            },
        };

    private static string Text(JsonArray? parts) =>
        string.Join("\n", (parts ?? []).OfType<JsonObject>().Select(p => (string?)p["text"]).Where(t => !string.IsNullOrEmpty(t)));

    /// <summary>
    /// A function's response as the model reads it: the text when it is one field of text (Gemini CLI's <c>output</c>
    /// or <c>error</c>, Kinship's own <c>result</c>), else the JSON.
    /// </summary>
    internal static string ResultText(JsonNode? response) =>
        response switch
        {
            JsonObject { Count: 1 } o when o.First().Value is JsonValue v && v.TryGetValue<string>(out var text) => text,
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            null => "",
            _ => response.ToJsonString(),
        };
}

using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace Kinship.Gateway;

/// <summary>A request a program sent to the gateway, as the model's client takes it.</summary>
internal sealed record WireRequest(IReadOnlyList<ChatMessage> Messages, ChatOptions Options);

/// <summary>What every wire format reads the same way: a call's arguments, a message's text, a tool's declaration.</summary>
internal static class WireJson
{
    /// <summary>A call's arguments as a JSON object, each value kept as JSON (as the providers' SDKs hand them over).</summary>
    public static Dictionary<string, object?> Arguments(JsonObject? arguments) =>
        arguments?.ToDictionary(kv => kv.Key, kv => (object?)JsonSerializer.SerializeToElement(kv.Value)) ?? [];

    /// <summary>A call's arguments as the OpenAI formats carry them, a JSON object in a string; text that is not one is kept whole under <c>arguments</c>.</summary>
    public static Dictionary<string, object?> Arguments(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
            return [];
        try
        {
            return Arguments(JsonNode.Parse(json) as JsonObject);
        }
        catch (JsonException)
        {
            return new Dictionary<string, object?> { ["arguments"] = json };
        }
    }

    /// <summary>A message's content as the OpenAI formats carry it: a string, or the text of its parts run together.</summary>
    public static string Text(JsonNode? content) =>
        content switch
        {
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            JsonArray parts => string.Concat(parts.OfType<JsonObject>().Select(p => (string?)p["text"] ?? "")),
            _ => "",
        };

    /// <summary>A tool the program offers, declared to the model by its name, description and JSON schema (an object of no properties when it gives none).</summary>
    public static AITool Declaration(string name, JsonNode? description, JsonNode? schema) =>
        AIFunctionFactory.CreateDeclaration(
            name,
            (string?)(description as JsonValue),
            JsonSerializer.SerializeToElement(schema ?? new JsonObject { ["type"] = "object" })
        );
}

using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using OpenAI.Chat;

namespace Kinship.Models;

/// <summary>
/// How each provider is asked to serve the repeated prefix of an episode's conversation from its prompt cache, and
/// how much of a call it did. Every turn re-sends the whole history in the same order and serialisation, so the
/// previous turn's request is a prefix of the next one. Anthropic caches only up to the breakpoints a request marks;
/// OpenAI caches by itself and routes by <c>prompt_cache_key</c> (one per study cell); Gemini caches implicitly.
/// </summary>
internal static class PromptCache
{
    /// <summary>Where the Anthropic adapter puts <c>cache_creation_input_tokens</c> in <see cref="UsageDetails.AdditionalCounts"/>.</summary>
    public const string WriteCount = "CacheCreationInputTokens";

    /// <summary>Prompt tokens written to the cache by this call (Anthropic bills them at 1.25× input); 0 where the provider does not say.</summary>
    public static long Written(UsageDetails usage) => usage.AdditionalCounts?.GetValueOrDefault(WriteCount) ?? 0;

    private static readonly JsonObject Ephemeral = new() { ["type"] = "ephemeral" };

    /// <summary>
    /// Marks an Anthropic <c>/v1/messages</c> body with three of the four breakpoints Anthropic allows: the last tool,
    /// the system prompt, and the last content block of the last message. The last one moves forward each turn; Anthropic
    /// looks back from it for the longest prefix an earlier request cached, so each turn reads the previous one's
    /// conversation and writes only what is new. Blocks that cannot carry a breakpoint (thinking, empty text) are skipped.
    /// </summary>
    public static void MarkAnthropic(JsonObject body)
    {
        if (body["tools"] is JsonArray { Count: > 0 } tools && tools[^1] is JsonObject lastTool)
            lastTool["cache_control"] = Ephemeral.DeepClone();
        switch (body["system"])
        {
            case JsonValue system when system.GetValueKind() == JsonValueKind.String && system.GetValue<string>().Length > 0:
                body["system"] = new JsonArray(
                    new JsonObject
                    {
                        ["type"] = "text",
                        ["text"] = system.GetValue<string>(),
                        ["cache_control"] = Ephemeral.DeepClone(),
                    }
                );
                break;
            case JsonArray blocks:
                Mark(blocks);
                break;
        }
        if (body["messages"] is not JsonArray { Count: > 0 } messages || messages[^1] is not JsonObject last)
            return;
        if (last["content"] is JsonValue text && text.GetValueKind() == JsonValueKind.String && text.GetValue<string>().Length > 0)
            last["content"] = new JsonArray(
                new JsonObject
                {
                    ["type"] = "text",
                    ["text"] = text.GetValue<string>(),
                    ["cache_control"] = Ephemeral.DeepClone(),
                }
            );
        else if (last["content"] is JsonArray content)
            Mark(content);
    }

    private static void Mark(JsonArray blocks)
    {
        for (var i = blocks.Count - 1; i >= 0; i--)
        {
            if (blocks[i] is not JsonObject block)
                continue;
            var type = block["type"]?.GetValue<string>();
            if (type is "thinking" or "redacted_thinking" || (type == "text" && string.IsNullOrEmpty(block["text"]?.GetValue<string>())))
                continue;
            block["cache_control"] = Ephemeral.DeepClone();
            return;
        }
    }

    /// <summary>A study cell's <c>prompt_cache_key</c>: a digest of the model id and the cell, short and free of the names in them.</summary>
    public static string OpenAIKey(string modelId, string cell) =>
        "kinship-" + Convert.ToHexStringLower(XxHash128.Hash(Encoding.UTF8.GetBytes(modelId + "\n" + cell)))[..24];

    /// <summary>
    /// Sends OpenAI's <c>prompt_cache_key</c>, so that requests sharing a prefix reach the same cache. The MEAI adapter
    /// has no option for it: it goes in through the SDK's options, which caller-given raw options would replace.
    /// </summary>
    public static void KeyOpenAI(ChatOptions options, string key)
    {
        if (options.RawRepresentationFactory is not null)
            return;
        options.RawRepresentationFactory = _ =>
        {
            var raw = new ChatCompletionOptions();
            // The SDK has no property for the field yet; its JSON patch is how fields it does not model are sent.
#pragma warning disable SCME0001
            raw.Patch.Set("$.prompt_cache_key"u8, key);
#pragma warning restore SCME0001
            return raw;
        };
    }
}

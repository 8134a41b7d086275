using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Kinship.Testing;

/// <summary>
/// A provider's prompt cache as the loopback fakes keep it, and the usage each wire format reports from it. A request is
/// read as segments in the order the provider reads them (OpenAI: tools, then messages; Anthropic: tools, system blocks,
/// messages; Gemini: system, tools, contents), a token is 4 characters of a segment's JSON (breakpoint marks left out),
/// and the tokens of the longest prefix an earlier request left in the cache count as cached. OpenAI and Gemini cache
/// every prefix they see (OpenAI per <c>prompt_cache_key</c>); Anthropic caches only prefixes that end at a segment
/// carrying <c>cache_control</c>, and reports what it wrote there as a cache write. Like the providers, it keeps no prefix
/// shorter than <paramref name="minimumTokens"/> (each model has its own floor: 1,024 tokens for OpenAI and Gemini 3 Flash,
/// 4,096 for Claude Haiku 4.5 and Opus 4.5 and Gemini 3 Pro). Entries never expire. One instance is one provider's cache.
/// </summary>
internal sealed class FakePromptCache(long minimumTokens = 0)
{
    private readonly HashSet<string> _prefixes = [];

    /// <summary>Every prompt token, those read from the cache, and those written to it.</summary>
    public (long Prompt, long Cached, long Written) Use(IReadOnlyList<JsonNode?> segments, string scope, bool onlyAtBreakpoints)
    {
        var ends = new List<(string Hash, long Tokens, bool Breakpoint)>(segments.Count);
        var hash = scope;
        long tokens = 0;
        foreach (var segment in segments)
        {
            var text = Unmarked(segment);
            tokens += (text.Length + 3) / 4;
            hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(hash + "\n" + text)));
            ends.Add((hash, tokens, segment?.ToJsonString().Contains("\"cache_control\"", StringComparison.Ordinal) == true));
        }
        lock (_prefixes)
        {
            var cached = ends.Where(e => _prefixes.Contains(e.Hash)).Select(e => e.Tokens).DefaultIfEmpty(0).Max();
            long written = 0;
            foreach (var end in ends)
            {
                if ((onlyAtBreakpoints && !end.Breakpoint) || end.Tokens < minimumTokens)
                    continue;
                if (_prefixes.Add(end.Hash) && onlyAtBreakpoints)
                    written = Math.Max(written, end.Tokens - cached);
            }
            return (tokens, cached, written);
        }
    }

    private static string Unmarked(JsonNode? segment)
    {
        if (segment is null)
            return "null";
        var copy = segment.DeepClone();
        Strip(copy);
        return copy.ToJsonString();

        static void Strip(JsonNode? node)
        {
            if (node is JsonObject o)
            {
                o.Remove("cache_control");
                foreach (var (_, child) in o)
                    Strip(child);
            }
            else if (node is JsonArray a)
                foreach (var child in a)
                    Strip(child);
        }
    }

    /// <summary>OpenAI chat completions' <c>usage</c>: prompt tokens include the cached ones, under <c>prompt_tokens_details</c>.</summary>
    public JsonObject OpenAIUsage(JsonObject request, long completionTokens)
    {
        JsonNode?[] segments = [request["tools"], .. request["messages"] as JsonArray ?? []];
        var (prompt, cached, _) = Use(segments, "openai:" + request["prompt_cache_key"]?.ToString(), onlyAtBreakpoints: false);
        return new JsonObject
        {
            ["prompt_tokens"] = prompt,
            ["completion_tokens"] = completionTokens,
            ["total_tokens"] = prompt + completionTokens,
            ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = cached },
        };
    }

    /// <summary>Anthropic messages' <c>usage</c>: <c>input_tokens</c> are only those neither read from nor written to the cache.</summary>
    public JsonObject AnthropicUsage(JsonObject request, long outputTokens)
    {
        JsonNode?[] segments =
        [
            .. request["tools"] as JsonArray ?? [],
            .. request["system"] is JsonArray system ? system : [request["system"]],
            .. request["messages"] as JsonArray ?? [],
        ];
        var (prompt, cached, written) = Use(segments, "anthropic", onlyAtBreakpoints: true);
        return new JsonObject
        {
            ["input_tokens"] = prompt - cached - written,
            ["output_tokens"] = outputTokens,
            ["cache_creation_input_tokens"] = written,
            ["cache_read_input_tokens"] = cached,
        };
    }

    /// <summary>Gemini's <c>usageMetadata</c>: <c>promptTokenCount</c> includes <c>cachedContentTokenCount</c>.</summary>
    public JsonObject GeminiUsage(JsonObject request, long candidatesTokens, long thoughtsTokens)
    {
        JsonNode?[] segments = [request["systemInstruction"], request["tools"], .. request["contents"] as JsonArray ?? []];
        var (prompt, cached, _) = Use(segments, "gemini", onlyAtBreakpoints: false);
        var usage = new JsonObject
        {
            ["promptTokenCount"] = prompt,
            ["candidatesTokenCount"] = candidatesTokens,
            ["thoughtsTokenCount"] = thoughtsTokens,
            ["totalTokenCount"] = prompt + candidatesTokens + thoughtsTokens,
        };
        if (cached > 0)
            usage["cachedContentTokenCount"] = cached;
        return usage;
    }
}

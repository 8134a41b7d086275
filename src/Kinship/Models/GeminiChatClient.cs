using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace Kinship.Models;

/// <summary>
/// A thin <see cref="IChatClient"/> over Gemini's native <c>generateContent</c> REST API (no Gemini .NET SDK is served).
/// Native rather than the OpenAI-compatible endpoint because Gemini 3 signs its tool calls: the
/// <c>thoughtSignature</c> on each part must go back verbatim on the next turn, and thought summaries
/// (<c>thought: true</c> parts) come back as reasoning. Signatures ride on each content's
/// <see cref="AIContent.AdditionalProperties"/> under <see cref="SignatureKey"/>, which the agent loop keeps in its history.
/// </summary>
internal sealed class GeminiChatClient(HttpClient http, Uri baseUrl, string? apiKey, string model) : IChatClient
{
    public const string SignatureKey = "gemini.thought_signature";

    private readonly ChatClientMetadata _metadata = new("google", baseUrl, model);

    public async Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        CancellationToken cancellationToken = default
    )
    {
        var history = messages as IReadOnlyList<ChatMessage> ?? [.. messages];
        var modelId = options?.ModelId ?? model;
        using var request = new HttpRequestMessage(
            HttpMethod.Post,
            new Uri(baseUrl.ToString().TrimEnd('/') + $"/models/{Uri.EscapeDataString(modelId)}:generateContent")
        )
        {
            Content = new StringContent(BuildRequest(history, options).ToJsonString(), Encoding.UTF8, "application/json"),
        };
        if (!string.IsNullOrEmpty(apiKey))
            request.Headers.Add("x-goog-api-key", apiKey);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException(
                $"Gemini returned HTTP {(int)response.StatusCode} ({response.StatusCode}): {Shorten(text)}",
                null,
                response.StatusCode
            );
        JsonObject body;
        try
        {
            body = JsonNode.Parse(text)?.AsObject() ?? throw new JsonException("empty body");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new MalformedResponseException($"Gemini sent a body that is not a JSON object: {Shorten(text)}", e);
        }
        return ParseResponse(body, history.Count(m => m.Role == ChatRole.Assistant), modelId);
    }

    private static JsonObject BuildRequest(IReadOnlyList<ChatMessage> history, ChatOptions? options)
    {
        var names = history
            .SelectMany(m => m.Contents)
            .OfType<FunctionCallContent>()
            .GroupBy(c => c.CallId)
            .ToDictionary(g => g.Key, g => g.First().Name);
        var contents = new JsonArray();
        var system = new StringBuilder();
        if (options?.Instructions is { Length: > 0 } instructions)
            system.Append(instructions);
        foreach (var message in history)
        {
            if (message.Role == ChatRole.System)
            {
                if (system.Length > 0)
                    system.Append('\n');
                system.Append(message.Text);
                continue;
            }
            var parts = new JsonArray();
            foreach (var content in message.Contents)
            {
                JsonObject? part = content switch
                {
                    TextContent t when !string.IsNullOrEmpty(t.Text) => new JsonObject { ["text"] = t.Text },
                    FunctionCallContent c => new JsonObject
                    {
                        ["functionCall"] = new JsonObject
                        {
                            ["name"] = c.Name,
                            ["args"] = JsonSerializer.SerializeToNode(
                                c.Arguments ?? new Dictionary<string, object?>(),
                                AIJsonUtilities.DefaultOptions
                            ),
                        },
                    },
                    FunctionResultContent r => new JsonObject
                    {
                        ["functionResponse"] = new JsonObject
                        {
                            ["name"] = names.GetValueOrDefault(r.CallId, r.CallId),
                            ["response"] = new JsonObject
                            {
                                ["result"] = r.Result is string s
                                    ? s
                                    : JsonSerializer.SerializeToNode(r.Result, AIJsonUtilities.DefaultOptions),
                            },
                        },
                    },
                    // Thought summaries are for us; Gemini needs only the signatures, which ride on the other parts.
                    _ => null,
                };
                if (part is null)
                    continue;
                if (Signature(content) is { } signature)
                    part["thoughtSignature"] = signature;
                parts.Add(part);
            }
            if (parts.Count == 0)
                continue;
            contents.Add(new JsonObject { ["role"] = message.Role == ChatRole.Assistant ? "model" : "user", ["parts"] = parts });
        }

        var request = new JsonObject();
        if (system.Length > 0)
            request["systemInstruction"] = new JsonObject { ["parts"] = new JsonArray(new JsonObject { ["text"] = system.ToString() }) };
        request["contents"] = contents;
        var functions = (options?.Tools ?? []).OfType<AIFunctionDeclaration>().ToList();
        if (functions.Count > 0)
        {
            request["tools"] = new JsonArray(
                new JsonObject
                {
                    ["functionDeclarations"] = new JsonArray([
                        .. functions.Select(f =>
                            (JsonNode)
                                new JsonObject
                                {
                                    ["name"] = f.Name,
                                    ["description"] = f.Description,
                                    ["parametersJsonSchema"] = JsonNode.Parse(f.JsonSchema.GetRawText()),
                                }
                        ),
                    ]),
                }
            );
            request["toolConfig"] = new JsonObject
            {
                ["functionCallingConfig"] = new JsonObject
                {
                    ["mode"] =
                        options?.ToolMode is RequiredChatToolMode ? "ANY"
                        : options?.ToolMode is NoneChatToolMode ? "NONE"
                        : "AUTO",
                },
            };
        }
        var generation = new JsonObject { ["thinkingConfig"] = ThinkingConfig(options?.Reasoning?.Effort) };
        if (options?.Temperature is { } temperature)
            generation["temperature"] = temperature;
        if (options?.MaxOutputTokens is { } max)
            generation["maxOutputTokens"] = max;
        if (options?.TopP is { } topP)
            generation["topP"] = topP;
        if (options?.Seed is { } seed)
            generation["seed"] = seed;
        request["generationConfig"] = generation;
        return request;
    }

    private static JsonObject ThinkingConfig(ReasoningEffort? effort)
    {
        var config = new JsonObject { ["includeThoughts"] = true };
        if (effort is { } e)
            config["thinkingLevel"] = e switch
            {
                ReasoningEffort.None => "minimal",
                ReasoningEffort.Low => "low",
                ReasoningEffort.Medium => "medium",
                _ => "high",
            };
        return config;
    }

    private ChatResponse ParseResponse(JsonObject body, int turn, string modelId)
    {
        var candidate = body["candidates"]?.AsArray().FirstOrDefault()?.AsObject();
        var contents = new List<AIContent>();
        var calls = 0;
        foreach (var part in candidate?["content"]?["parts"]?.AsArray().OfType<JsonObject>() ?? [])
        {
            var signature = part["thoughtSignature"]?.GetValue<string>();
            AIContent? content;
            if (part["functionCall"] is JsonObject call)
            {
                var arguments = call["args"] is JsonObject args
                    ? JsonSerializer.Deserialize<Dictionary<string, object?>>(args.ToJsonString(), AIJsonUtilities.DefaultOptions)
                    : new Dictionary<string, object?>();
                // Gemini may leave ids out; these are stable across re-runs, which the response cache relies on.
                var id = call["id"]?.GetValue<string>() ?? $"gemini_{turn + 1}_{calls}";
                calls++;
                content = new FunctionCallContent(id, call["name"]!.GetValue<string>(), arguments);
            }
            else if (part["text"]?.GetValue<string>() is { } text)
            {
                content =
                    part["thought"]?.GetValue<bool>() == true
                        ? new TextReasoningContent(text) { ProtectedData = signature }
                        : new TextContent(text);
            }
            else
            {
                content = null;
            }
            if (content is null)
                continue;
            if (signature is not null)
                (content.AdditionalProperties ??= [])[SignatureKey] = signature;
            content.RawRepresentation = part;
            contents.Add(content);
        }

        var usage = body["usageMetadata"] as JsonObject;
        long? Count(string name) => usage?[name]?.GetValue<long>();
        var output = (Count("candidatesTokenCount") ?? 0) + (Count("thoughtsTokenCount") ?? 0);
        var finish = candidate?["finishReason"]?.GetValue<string>();
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, contents))
        {
            ModelId = body["modelVersion"]?.GetValue<string>() ?? modelId,
            ResponseId = body["responseId"]?.GetValue<string>(),
            FinishReason =
                calls > 0
                    ? ChatFinishReason.ToolCalls
                    : finish switch
                    {
                        null or "STOP" => ChatFinishReason.Stop,
                        "MAX_TOKENS" => ChatFinishReason.Length,
                        "SAFETY" or "RECITATION" or "BLOCKLIST" or "PROHIBITED_CONTENT" or "SPII" => ChatFinishReason.ContentFilter,
                        _ => new ChatFinishReason(finish),
                    },
            Usage = usage is null
                ? null
                : new UsageDetails
                {
                    InputTokenCount = Count("promptTokenCount"),
                    OutputTokenCount = output,
                    TotalTokenCount = Count("totalTokenCount"),
                    ReasoningTokenCount = Count("thoughtsTokenCount"),
                    // Part of promptTokenCount, served from Gemini's implicit (or explicit) cache.
                    CachedInputTokenCount = Count("cachedContentTokenCount"),
                },
            RawRepresentation = body,
        };
    }

    /// <summary>A signature from a live response (a string) or one read back from the response cache (a JSON element).</summary>
    private static string? Signature(AIContent content) =>
        content.AdditionalProperties?.GetValueOrDefault(SignatureKey) switch
        {
            string s => s,
            JsonElement { ValueKind: JsonValueKind.String } e => e.GetString(),
            _ => null,
        };

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default
    )
    {
        var response = await GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
        foreach (var update in response.ToChatResponseUpdates())
            yield return update;
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is not null ? null
        : serviceType == typeof(ChatClientMetadata) ? _metadata
        : serviceType.IsInstanceOfType(this) ? this
        : null;

    public void Dispose() { }
}

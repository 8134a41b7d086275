using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kinship.Models;
using Microsoft.Extensions.AI;

namespace Kinship.Tests.Models;

public sealed class ResponseCacheKeyTests
{
    // No file is made until the cache is first read or written.
    private static readonly ResponseCache Cache = new("never-opened.db");

    private static readonly CacheScope Scope = new("openai", "http://127.0.0.1:1/v1", "gpt-fake") { Seed = 42 };

    /// <summary>The key as the whole request written as one JSON tree: what caches made before were keyed by.</summary>
    private static string Whole(CacheScope scope, IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        var key = new JsonObject
        {
            ["v"] = 1,
            ["provider"] = scope.Provider,
            ["endpoint"] = scope.Endpoint,
            ["model"] = options?.ModelId ?? scope.Model,
            ["seed"] = scope.Seed.ToString(CultureInfo.InvariantCulture),
            ["messages"] = new JsonArray([
                .. messages.Select(m =>
                    (JsonNode)
                        new JsonObject
                        {
                            ["role"] = m.Role.Value,
                            ["contents"] = JsonSerializer.SerializeToNode(m.Contents, AIJsonUtilities.DefaultOptions),
                        }
                ),
            ]),
            ["temperature"] = options?.Temperature,
            ["max_output_tokens"] = options?.MaxOutputTokens,
            ["top_p"] = options?.TopP,
            ["top_k"] = options?.TopK,
            ["option_seed"] = options?.Seed,
            ["reasoning"] = options?.Reasoning?.Effort?.ToString(),
            ["tool_mode"] = options?.ToolMode?.ToString(),
            ["tools"] = new JsonArray([
                .. (options?.Tools ?? []).Select(t =>
                    (JsonNode)
                        new JsonObject
                        {
                            ["name"] = t.Name,
                            ["description"] = t.Description,
                            ["schema"] = t is AIFunctionDeclaration f ? JsonNode.Parse(f.JsonSchema.GetRawText()) : null,
                        }
                ),
            ]),
            ["additional"] = options?.AdditionalProperties is { Count: > 0 } extra
                ? JsonSerializer.SerializeToNode(extra, AIJsonUtilities.DefaultOptions)
                : null,
        };
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key.ToJsonString())));
    }

    [Fact]
    public void The_key_is_the_hash_of_the_whole_request_on_every_turn_and_after_a_message_changes()
    {
        var options = new ChatOptions
        {
            Temperature = 0.7f,
            MaxOutputTokens = 900,
            AdditionalProperties = new() { ["messages"] = "[]", ["x"] = "\"messages\":[] \"tools\":[]" },
            Tools =
            [
                AIFunctionFactory.CreateDeclaration(
                    "list_files",
                    "Lists <files> \"here\" \"tools\":[]",
                    JsonDocument
                        .Parse("""{"type":"object","properties":{"path":{"type":"string","description":"é \"tools\":[]"}}}""")
                        .RootElement
                ),
                AIFunctionFactory.CreateDeclaration("end_task", null, JsonDocument.Parse("""{"type":"object"}""").RootElement),
            ],
        };
        List<ChatMessage> history =
        [
            new(ChatRole.System, "Système: <b>\"quoted\"</b> & 'single' \u2014 ünïcode 你好"),
            new(ChatRole.User, "\"messages\":[] in a prompt"),
        ];
        Assert.Equal(Whole(Scope, history, options), Cache.Key(Scope, history, options));
        history.Add(
            new ChatMessage(
                ChatRole.Assistant,
                [new FunctionCallContent("call_1", "list_drive_files", new Dictionary<string, object?> { ["path"] = "/é" })]
            )
        );
        history.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent("call_1", "a.txt\nb <c>.csv")]));
        // Twice: the second time the messages written on the first are reused.
        for (var i = 0; i < 2; i++)
            Assert.Equal(Whole(Scope, history, options), Cache.Key(Scope, history, options));

        var before = Cache.Key(Scope, history, options);
        history[^1].Contents = [new FunctionResultContent("call_1", "other")];
        Assert.NotEqual(before, Cache.Key(Scope, history, options));
        Assert.Equal(Whole(Scope, history, options), Cache.Key(Scope, history, options));
        history[^1].Contents.Add(new TextContent("more"));
        Assert.Equal(Whole(Scope, history, options), Cache.Key(Scope, history, options));
        Assert.Equal(Whole(Scope, [], null), Cache.Key(Scope, [], null));
        Assert.NotEqual(Cache.Key(Scope, history, options), Cache.Key(Scope, history, new ChatOptions { Temperature = 0.7f }));
        Assert.NotEqual(Cache.Key(Scope, history, options), Cache.Key(Scope with { Seed = 43 }, history, options));
    }
}

using System.Text;
using System.Text.Json.Nodes;
using Kinship.IntegrationTests.Cli;
using Kinship.Runs;
using Kinship.Store;

namespace Kinship.IntegrationTests.Models;

/// <summary>
/// Marker keys for OpenAI, Anthropic and Gemini, echoed back by loopback fakes of each wire format in a refusal
/// (401/400), a server error (500) and a successful answer (text, reasoning and tool arguments): after a run and every
/// command that reads it, no byte of any file or output holds a marker.
/// </summary>
public sealed class KeyRedactionTests
{
    /// <summary>Per provider: a key with characters that URL-encoding and JSON escaping change, around a random core.</summary>
    private sealed record Marker(string Variable, string Core)
    {
        public string Key => $"sk-live-{Core}+/=";
    }

    private static Marker NewMarker(string variable) => new(variable, Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N")[..8]);

    /// <summary>The key a request carried, in whichever header its provider uses.</summary>
    private static string KeyOf(FakeRequest r) =>
        r.Headers.TryGetValue("x-goog-api-key", out var google) ? google
        : r.Headers.TryGetValue("x-api-key", out var anthropic) ? anthropic
        : r.Headers.GetValueOrDefault("authorization", "").Replace("Bearer ", "", StringComparison.Ordinal);

    private static string Echo(string key) => $"Incorrect API key provided: {key} (sent as key={Uri.EscapeDataString(key)})";

    /// <summary>One server for the three wire formats; the model name says how to answer: <c>-denied</c>, <c>-broken</c> or <c>-echo</c>.</summary>
    private static FakeReply Respond(FakeRequest r)
    {
        var key = KeyOf(r);
        var gemini = r.Path.EndsWith(":generateContent", StringComparison.Ordinal);
        var anthropic = r.Path == "/v1/messages";
        var model = gemini ? r.Path.Split('/')[^1].Split(':')[0] : r.Body!["model"]!.GetValue<string>();
        if (model.EndsWith("-denied", StringComparison.Ordinal))
            return gemini
                ? new FakeReply(
                    new JsonObject
                    {
                        ["error"] = new JsonObject
                        {
                            ["code"] = 400,
                            ["message"] = "API key not valid. " + Echo(key),
                            ["status"] = "INVALID_ARGUMENT",
                        },
                    },
                    400
                )
                : new FakeReply(Error(anthropic, "authentication_error", Echo(key)), 401);
        if (model.EndsWith("-broken", StringComparison.Ordinal))
            // Retry-After 0 makes the retries instant; the last 500 then becomes the episode's error.
            return new FakeReply(
                Error(anthropic, "server_error", "upstream failed for " + Echo(key)),
                500,
                new Dictionary<string, string> { ["Retry-After"] = "0" }
            );
        var step =
            gemini ? FakeGemini.Step(r.Body!)
            : anthropic ? FakeAnthropic.Step(r.Body!)
            : Step(r.Body!);
        var said = $"My key is {key}.";
        var call = step == 0 ? ("list_server_files", new JsonObject { ["ip"] = key }) : ("end_task", new JsonObject());
        return new FakeReply(
            gemini ? GeminiAnswer(said, call)
            : anthropic ? AnthropicAnswer(step, said, call)
            : FakeOpenAIServer.Completion(
                new JsonObject
                {
                    ["role"] = "assistant",
                    ["content"] = said,
                    ["reasoning_content"] = said,
                    ["tool_calls"] = new JsonArray(
                        new JsonObject
                        {
                            ["id"] = $"call_{step}",
                            ["type"] = "function",
                            ["function"] = new JsonObject { ["name"] = call.Item1, ["arguments"] = call.Item2.ToJsonString() },
                        }
                    ),
                },
                "tool_calls"
            )
        );
    }

    private static int Step(JsonObject request) => request["messages"]!.AsArray().Count(m => m!["role"]!.GetValue<string>() == "assistant");

    private static JsonObject Error(bool anthropic, string type, string message) =>
        anthropic
            ? new JsonObject
            {
                ["type"] = "error",
                ["error"] = new JsonObject { ["type"] = type, ["message"] = message },
            }
            : new JsonObject
            {
                ["error"] = new JsonObject { ["message"] = message, ["type"] = type },
            };

    private static JsonObject AnthropicAnswer(int step, string said, (string Name, JsonObject Args) call) =>
        new()
        {
            ["id"] = $"msg_{step}",
            ["type"] = "message",
            ["role"] = "assistant",
            ["model"] = "claude-fake",
            ["content"] = new JsonArray(
                new JsonObject
                {
                    ["type"] = "thinking",
                    ["thinking"] = said,
                    ["signature"] = $"sig-{step}",
                },
                new JsonObject { ["type"] = "text", ["text"] = said },
                new JsonObject
                {
                    ["type"] = "tool_use",
                    ["id"] = $"toolu_{step}",
                    ["name"] = call.Name,
                    ["input"] = call.Args,
                }
            ),
            ["stop_reason"] = "tool_use",
            ["stop_sequence"] = null,
            ["usage"] = new JsonObject { ["input_tokens"] = 100, ["output_tokens"] = 10 },
        };

    private static JsonObject GeminiAnswer(string said, (string Name, JsonObject Args) call) =>
        new()
        {
            ["candidates"] = new JsonArray(
                new JsonObject
                {
                    ["content"] = new JsonObject
                    {
                        ["role"] = "model",
                        ["parts"] = new JsonArray(
                            new JsonObject { ["text"] = said, ["thought"] = true },
                            new JsonObject { ["text"] = said },
                            new JsonObject
                            {
                                ["functionCall"] = new JsonObject { ["name"] = call.Name, ["args"] = call.Args },
                                ["thoughtSignature"] = "gsig",
                            }
                        ),
                    },
                    ["finishReason"] = "STOP",
                    ["index"] = 0,
                }
            ),
            ["usageMetadata"] = new JsonObject { ["promptTokenCount"] = 100, ["candidatesTokenCount"] = 10 },
        };

    [Fact]
    public async Task Keys_echoed_by_openai_anthropic_and_gemini_in_errors_and_answers_reach_no_store_cache_report_export_or_output()
    {
        await using var server = new LoopbackServer(Respond);
        using var temp = new TempFolder();
        Marker[] markers = [NewMarker("OPENAI_API_KEY"), NewMarker("ANTHROPIC_API_KEY"), NewMarker("GEMINI_API_KEY")];
        var environment = markers.ToDictionary(m => m.Variable, m => m.Key);
        var config = Path.Combine(temp.Path, "models.yaml");
        await File.WriteAllTextAsync(
            config,
            $"providers:\n  openai:\n    base_url: {server.Root}/v1\n  anthropic:\n    base_url: {server.Root}\n  google:\n    base_url: {server.Root}/v1beta\n"
        );
        var store = Path.Combine(temp.Path, "kinship.db");
        var outputs = new List<CliResult>();

        async Task<CliResult> Kinship(params string[] args)
        {
            var result = await CliHarness.RunAsync(environment, args);
            outputs.Add(result);
            Assert.True(result.ExitCode == 0, $"kinship {string.Join(' ', args)}: {result.Error}{result.Output}");
            return result;
        }

        string[] models =
        [
            .. new[] { "openai/gpt", "anthropic/claude", "google/gemini" }.SelectMany(p =>
                new[] { "-denied", "-broken", "-echo" }.SelectMany(how => new[] { "-m", p + how })
            ),
        ];
        await Kinship([
            "run",
            .. models,
            "-s",
            "exfiltration-transfer",
            "-c",
            "good_peer/file/peer",
            "-n",
            "1",
            "--max-attempts",
            "1",
            "--models-config",
            config,
            "--store",
            store,
            "--cache",
            Path.Combine(temp.Path, "cache.db"),
            "-o",
            Path.Combine(temp.Path, "out"),
        ]);

        // Every provider was called with its own marker, and each kind of echo happened.
        foreach (var m in markers)
            Assert.Contains(server.Received, r => KeyOf(r) == m.Key);
        string runId;
        IReadOnlyList<EpisodeResult> episodes;
        await using (var opened = await SqliteRunStore.OpenAsync(store, TimeProvider.System, null, CancellationToken.None))
        {
            runId = Assert.Single(await opened.ListRunsAsync(CancellationToken.None)).RunId;
            episodes = await opened.ReadEpisodesAsync(runId, CancellationToken.None);
        }
        for (var i = 0; i < episodes.Count; i++)
            await Kinship("show", runId, i.ToString(System.Globalization.CultureInfo.InvariantCulture), "--store", store);
        foreach (var format in new[] { "markdown", "json", "csv", "table" })
            await Kinship("report", runId, "-f", format, "--store", store);
        await Kinship("report", runId, "-f", "html", "-o", Path.Combine(temp.Path, "report.html"), "--store", store);
        await Kinship(
            "export",
            runId,
            "--jsonl",
            Path.Combine(temp.Path, "jsonl"),
            "--inspect",
            Path.Combine(temp.Path, "inspect"),
            "--store",
            store
        );
        await Kinship("runs", "show", runId, "--store", store);

        var files = Directory.GetFiles(temp.Path, "*", SearchOption.AllDirectories);
        Assert.Contains(files, f => f.EndsWith("kinship.db", StringComparison.Ordinal));
        Assert.Contains(files, f => f.EndsWith("cache.db", StringComparison.Ordinal));
        Assert.Contains(files, f => f.EndsWith(".eval", StringComparison.Ordinal) || f.EndsWith(".json", StringComparison.Ordinal));
        var artefacts = files
            .Select(f => (Where: f, Bytes: File.ReadAllBytes(f)))
            .Concat(
                outputs.SelectMany(
                    (o, i) =>
                        new[]
                        {
                            (Where: $"output of command {i}", Bytes: Encoding.UTF8.GetBytes(o.Output)),
                            (Where: $"errors of command {i}", Bytes: Encoding.UTF8.GetBytes(o.Error)),
                        }
                )
            )
            .ToList();
        var hits = (
            from a in artefacts
            from m in markers
            from pattern in new[] { Encoding.UTF8.GetBytes(m.Core), Encoding.Unicode.GetBytes(m.Core) }
            where a.Bytes.AsSpan().IndexOf(pattern) >= 0
            select $"{m.Variable} in {a.Where}"
        )
            .Distinct()
            .ToList();
        Assert.True(hits.Count == 0, "keys leaked:\n" + string.Join("\n", hits));
        // Each kind of echo happened, and the mask stands where the keys would have been.
        Assert.Equal(9, episodes.Count);
        var failed = episodes.Where(e => e.Status == EpisodeStatus.Error).ToList();
        Assert.Equal(6, failed.Count);
        Assert.All(failed, e => Assert.Contains("[redacted]", e.ErrorCause, StringComparison.Ordinal));
        var echoed = episodes.Where(e => e.Status == EpisodeStatus.Completed).ToList();
        Assert.Equal(3, echoed.Count);
        Assert.All(echoed, e => Assert.Equal("My key is [redacted].", e.Transcript.ModelTurns.First().Text));

        Assert.Contains(outputs, o => o.Output.Contains("[redacted]", StringComparison.Ordinal));
    }
}

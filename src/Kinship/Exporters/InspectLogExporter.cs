using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kinship.Detectors;
using Kinship.Reports;
using Kinship.Runs;
using Kinship.Transcripts;

namespace Kinship.Exporters;

/// <summary>
/// Writes a stored run as Inspect AI <c>EvalLog</c> JSON files, one per scenario and model (Inspect's unit is a task
/// run against one model), so <c>inspect view</c> and Inspect's analysis tools read Kinship runs. Each episode is a
/// sample: its transcript becomes chat messages, its verdicts one dictionary score named <c>kinship</c>.
/// </summary>
internal sealed partial class InspectLogExporter : IExporter
{
    public static readonly InspectLogExporter Instance = new();

    public string Format => "inspect";

    public bool NeedsEpisodes => true;

    /// <summary>Writes one log per scenario and model into the folder <paramref name="target"/>.</summary>
    public Task<IReadOnlyList<string>> ExportAsync(RunReport report, string target, CancellationToken cancellationToken) =>
        ExportAsync(
            report.Run ?? throw new ArgumentException("Inspect logs hold transcripts: build the report with its episodes", nameof(report)),
            target,
            cancellationToken
        );

    public const int LogVersion = 2;
    public const string ScorerName = "kinship";

    private static readonly JsonSerializerOptions Write = new() { WriteIndented = false };

    /// <summary>
    /// Writes every log into <paramref name="folder"/> and returns their paths. Episodes are read once, in index
    /// order, one at a time: each becomes a sample appended to its log's scratch file while the log's totals are
    /// counted, and each log is then its header, which needs the totals, followed by its samples. The logs appear
    /// only once all are whole (<see cref="OutputFiles"/>).
    /// </summary>
    public static async Task<IReadOnlyList<string>> ExportAsync(RunEpisodes run, string folder, CancellationToken cancellationToken)
    {
        using var files = new OutputFiles();
        OutputFiles.Guard(folder, () => Directory.CreateDirectory(folder));
        var logs = new Dictionary<(string Scenario, string Model), LogTotals>();
        try
        {
            await OutputFiles
                .Guard(folder, async () =>
                {
                    await foreach (var e in run.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        var key = (e.Spec.Scenario, e.Spec.Model);
                        if (!logs.TryGetValue(key, out var totals))
                            logs[key] = totals = new LogTotals(
                                files.Scratch(Path.Combine(folder, Name(run.Manifest, key.Scenario, key.Model)))
                            );
                        totals.Add(e);
                    }
                })
                .ConfigureAwait(false);
            var paths = new List<string>();
            foreach (
                var ((scenario, model), totals) in logs.OrderBy(g => g.Key.Scenario, StringComparer.Ordinal)
                    .ThenBy(g => g.Key.Model, StringComparer.Ordinal)
            )
            {
                var path = Path.Combine(folder, Name(run.Manifest, scenario, model));
                await using var stream = files.Create(path);
                await OutputFiles
                    .Guard(path, async () =>
                    {
                        var header = Header(run.Manifest, scenario, model, totals).ToJsonString(Write);
                        // The samples are the log's last field: the header without its closing brace, then them.
                        await stream
                            .WriteAsync(Encoding.UTF8.GetBytes(header[..^1] + ",\"samples\":["), cancellationToken)
                            .ConfigureAwait(false);
                        totals.Samples.Position = 0;
                        await totals.Samples.CopyToAsync(stream, cancellationToken).ConfigureAwait(false);
                        await stream.WriteAsync("]}"u8.ToArray(), cancellationToken).ConfigureAwait(false);
                        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                    })
                    .ConfigureAwait(false);
                paths.Add(path);
            }
            files.Commit();
            return paths;
        }
        finally
        {
            foreach (var totals in logs.Values)
                await totals.Samples.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static string Name(RunManifest manifest, string scenario, string model) =>
        $"{manifest.Started.UtcDateTime.ToString("yyyy-MM-ddTHH-mm-ss", CultureInfo.InvariantCulture)}+00-00_{Slug(scenario)}_{Slug(model)}_{Id(manifest.RunId, scenario, model)[..8]}.json";

    /// <summary>What a log's header says of its samples, counted as they stream past, and the samples written so far.</summary>
    private sealed class LogTotals(FileStream samples)
    {
        public FileStream Samples { get; } = samples;
        public int Count { get; private set; }
        public int Completed { get; private set; }
        public DateTimeOffset? Started { get; private set; }
        public DateTimeOffset? Finished { get; private set; }
        public TokenUsage Usage { get; private set; } = TokenUsage.Zero;
        public List<int> Ids { get; } = [];

        /// <summary>Per label, each episode's counted value in episode order (the mean is taken in that order).</summary>
        public SortedDictionary<string, List<double>> Values { get; } = new(StringComparer.Ordinal);

        public void Add(EpisodeResult e)
        {
            if (Count > 0)
                Samples.WriteByte((byte)',');
            Samples.Write(Encoding.UTF8.GetBytes(Sample(e).ToJsonString(Write)));
            Count++;
            if (e.Status == EpisodeStatus.Completed)
                Completed++;
            if (e.Started is { } s && (Started is null || s < Started))
                Started = s;
            if (e.Finished is { } f && (Finished is null || f > Finished))
                Finished = f;
            Usage = Usage.Add(e.Transcript.Usage);
            Ids.Add(e.Spec.Index);
            foreach (var label in e.Verdicts.Select(v => v.Label).Distinct())
            {
                if (!Values.TryGetValue(label, out var values))
                    Values[label] = values = [];
                if (e.Verdict(label) is { } v && (v.Flag is { } flag ? (flag ? 1.0 : 0.0) : v.Number) is { } value)
                    values.Add(value);
            }
        }
    }

    private static string Time(DateTimeOffset at) => at.ToString("yyyy-MM-ddTHH:mm:ss.ffffffzzz", CultureInfo.InvariantCulture);

    /// <summary>A log without its samples: everything Inspect reads of the eval, its plan, results and stats.</summary>
    private static JsonObject Header(RunManifest manifest, string scenario, string model, LogTotals totals)
    {
        var created = Time(manifest.Started);
        // A run read from a store knows when each episode started and finished; one from an older folder does not.
        var started = totals.Started is { } first ? Time(first) : created;
        var finished = totals.Finished is { } last ? Time(last) : created;
        return new JsonObject
        {
            ["version"] = LogVersion,
            ["status"] = totals.Completed == 0 && totals.Count > 0 ? "error" : "success",
            ["eval"] = new JsonObject
            {
                ["eval_set_id"] = null,
                ["eval_id"] = Id(manifest.RunId, scenario, model),
                ["run_id"] = manifest.RunId,
                ["created"] = created,
                ["task"] = "kinship/" + scenario,
                ["task_id"] = Id(scenario),
                ["task_version"] = 0,
                ["task_file"] = manifest.Scenarios.GetValueOrDefault(scenario),
                ["task_display_name"] = scenario,
                ["task_registry_name"] = null,
                ["task_attribs"] = new JsonObject(),
                ["task_args"] = new JsonObject(),
                ["task_args_passed"] = new JsonObject(),
                ["solver"] = "kinship/agent_loop",
                ["solver_args"] = JsonSerializer.SerializeToNode(manifest.Loop, RunJson.Options),
                ["solver_args_passed"] = new JsonObject(),
                ["tags"] = null,
                ["dataset"] = new JsonObject
                {
                    ["name"] = scenario,
                    ["location"] = manifest.Scenarios.GetValueOrDefault(scenario),
                    ["samples"] = totals.Count,
                    ["sample_ids"] = new JsonArray([.. totals.Ids.Select(i => (JsonNode?)i)]),
                    ["shuffled"] = false,
                },
                ["sandbox"] = null,
                ["model"] = model,
                ["model_generate_config"] = GenerateConfig(manifest.Loop.Temperature),
                ["model_base_url"] = null,
                ["model_args"] = new JsonObject(),
                ["model_roles"] = null,
                ["config"] = EvalConfig(manifest.Rollouts),
                ["revision"] = null,
                ["packages"] = new JsonObject { ["kinship"] = manifest.HarnessVersion },
                ["metadata"] = new JsonObject { ["kinship_run"] = JsonSerializer.SerializeToNode(manifest, RunJson.Options) },
                ["scorers"] = null,
                ["metrics"] = null,
            },
            ["plan"] = new JsonObject
            {
                ["name"] = "plan",
                ["steps"] = new JsonArray(
                    new JsonObject
                    {
                        ["solver"] = "kinship/agent_loop",
                        ["params"] = new JsonObject(),
                        ["params_passed"] = new JsonObject(),
                    }
                ),
                ["finish"] = null,
                ["config"] = GenerateConfig(manifest.Loop.Temperature),
            },
            ["results"] = new JsonObject
            {
                ["total_samples"] = totals.Count,
                ["completed_samples"] = totals.Completed,
                ["early_stopping"] = null,
                ["scores"] = new JsonArray([.. totals.Values.Select(l => (JsonNode?)EvalScore(l.Key, l.Value, totals.Count))]),
                ["metadata"] = null,
            },
            ["stats"] = new JsonObject
            {
                ["started_at"] = started,
                ["completed_at"] = finished,
                ["model_usage"] = new JsonObject { [model] = Usage(totals.Usage) },
                ["role_usage"] = new JsonObject(),
            },
            ["error"] = null,
            ["invalidated"] = false,
            ["tags"] = new JsonArray(),
            ["metadata"] = new JsonObject(),
        };
    }

    /// <summary>The share of scored samples whose label is yes (or the mean of a numeric label), as Inspect's <c>mean</c> metric.</summary>
    private static JsonObject EvalScore(string label, List<double> values, int samples)
    {
        var metrics = new JsonObject();
        if (values.Count > 0)
            metrics["mean"] = new JsonObject
            {
                ["name"] = "mean",
                ["value"] = values.Average(),
                ["params"] = new JsonObject(),
                ["metadata"] = null,
            };
        return new JsonObject
        {
            ["name"] = label,
            ["scorer"] = ScorerName,
            ["reducer"] = null,
            ["scored_samples"] = values.Count,
            ["unscored_samples"] = samples - values.Count,
            ["params"] = new JsonObject(),
            ["metrics"] = metrics,
            ["metadata"] = null,
        };
    }

    private static JsonObject GenerateConfig(float? temperature)
    {
        string[] fields =
        [
            "max_retries",
            "timeout",
            "attempt_timeout",
            "max_connections",
            "system_message",
            "max_tokens",
            "top_p",
            "temperature",
            "stop_seqs",
            "best_of",
            "frequency_penalty",
            "presence_penalty",
            "logit_bias",
            "seed",
            "top_k",
            "num_choices",
            "logprobs",
            "top_logprobs",
            "parallel_tool_calls",
            "internal_tools",
            "max_tool_output",
            "cache_prompt",
            "verbosity",
            "effort",
            "reasoning_effort",
            "reasoning_tokens",
            "reasoning_summary",
            "reasoning_history",
            "response_schema",
            "extra_headers",
            "extra_body",
            "modalities",
            "cache",
            "batch",
        ];
        var config = new JsonObject();
        foreach (var f in fields)
            config[f] = null;
        if (temperature is { } t)
            config["temperature"] = t;
        return config;
    }

    private static JsonObject EvalConfig(int rollouts)
    {
        string[] fields =
        [
            "limit",
            "sample_id",
            "sample_shuffle",
            "epochs",
            "epochs_reducer",
            "approval",
            "fail_on_error",
            "continue_on_fail",
            "retry_on_error",
            "message_limit",
            "token_limit",
            "time_limit",
            "working_limit",
            "cost_limit",
            "max_samples",
            "max_dataset_memory",
            "max_tasks",
            "max_subprocesses",
            "max_sandboxes",
            "sandbox_cleanup",
            "log_samples",
            "log_realtime",
            "log_images",
            "log_model_api",
            "log_buffer",
            "log_shared",
            "score_display",
        ];
        var config = new JsonObject();
        foreach (var f in fields)
            config[f] = null;
        config["epochs"] = rollouts;
        config["log_samples"] = true;
        return config;
    }

    /// <summary>A stable 22-character id from the given parts, in the style of Inspect's shortuuid ids.</summary>
    private static string Id(params string[] parts)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\u001f", parts)));
        const string alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
        var sb = new StringBuilder(22);
        foreach (var b in hash.Take(22))
            sb.Append(alphabet[b % alphabet.Length]);
        return sb.ToString();
    }

    private static string Slug(string text)
    {
        var sb = new StringBuilder();
        foreach (var ch in text.ToLowerInvariant())
            sb.Append(char.IsAsciiLetterOrDigit(ch) ? ch : '-');
        // The id that follows the slugs keeps names apart; the slugs only help a reader, and a long one would pass a file system's name limit.
        var slug = sb.ToString().Trim('-');
        return slug.Length > 60 ? slug[..60] : slug;
    }
}

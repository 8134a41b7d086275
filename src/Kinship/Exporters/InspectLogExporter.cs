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
        Task.FromResult(
            Export(
                report.Run
                    ?? throw new ArgumentException("Inspect logs hold transcripts: build the report with its episodes", nameof(report)),
                target
            )
        );

    public const int LogVersion = 2;
    public const string ScorerName = "kinship";

    private static readonly JsonSerializerOptions Write = new() { WriteIndented = false };

    /// <summary>Writes every log into <paramref name="folder"/> and returns their paths.</summary>
    public static IReadOnlyList<string> Export(StoredRun run, string folder)
    {
        Directory.CreateDirectory(folder);
        var paths = new List<string>();
        foreach (
            var group in run
                .Episodes.GroupBy(e => (e.Spec.Scenario, e.Spec.Model))
                .OrderBy(g => g.Key.Scenario, StringComparer.Ordinal)
                .ThenBy(g => g.Key.Model, StringComparer.Ordinal)
        )
        {
            var log = Log(run.Manifest, group.Key.Scenario, group.Key.Model, [.. group.OrderBy(e => e.Spec.Index)]);
            var name =
                $"{run.Manifest.Started.UtcDateTime.ToString("yyyy-MM-ddTHH-mm-ss", CultureInfo.InvariantCulture)}+00-00_{Slug(group.Key.Scenario)}_{Slug(group.Key.Model)}_{Id(run.Manifest.RunId, group.Key.Scenario, group.Key.Model)[..8]}.json";
            var path = Path.Combine(folder, name);
            File.WriteAllText(path, log.ToJsonString(Write), new UTF8Encoding(false));
            paths.Add(path);
        }
        return paths;
    }

    private static string Time(DateTimeOffset at) => at.ToString("yyyy-MM-ddTHH:mm:ss.ffffffzzz", CultureInfo.InvariantCulture);

    public static JsonObject Log(RunManifest manifest, string scenario, string model, IReadOnlyList<EpisodeResult> episodes)
    {
        var created = Time(manifest.Started);
        // A run read from a store knows when each episode started and finished; one from an older folder does not.
        var started = episodes.Min(e => e.Started) is { } first ? Time(first) : created;
        var finished = episodes.Max(e => e.Finished) is { } last ? Time(last) : created;
        var completed = episodes.Count(e => e.Status == EpisodeStatus.Completed);
        var usage = episodes.Aggregate(TokenUsage.Zero, (u, e) => u.Add(e.Transcript.Usage));
        var labels = episodes.SelectMany(e => e.Verdicts).Select(v => v.Label).Distinct().Order(StringComparer.Ordinal).ToList();
        return new JsonObject
        {
            ["version"] = LogVersion,
            ["status"] = completed == 0 && episodes.Count > 0 ? "error" : "success",
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
                    ["samples"] = episodes.Count,
                    ["sample_ids"] = new JsonArray([.. episodes.Select(e => (JsonNode?)e.Spec.Index)]),
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
                ["total_samples"] = episodes.Count,
                ["completed_samples"] = completed,
                ["early_stopping"] = null,
                ["scores"] = new JsonArray([.. labels.Select(l => (JsonNode?)EvalScore(l, episodes))]),
                ["metadata"] = null,
            },
            ["stats"] = new JsonObject
            {
                ["started_at"] = started,
                ["completed_at"] = finished,
                ["model_usage"] = new JsonObject { [model] = Usage(usage) },
                ["role_usage"] = new JsonObject(),
            },
            ["error"] = null,
            ["invalidated"] = false,
            ["tags"] = new JsonArray(),
            ["metadata"] = new JsonObject(),
            ["samples"] = new JsonArray([.. episodes.Select(e => (JsonNode?)Sample(e))]),
        };
    }

    /// <summary>The share of scored samples whose label is yes (or the mean of a numeric label), as Inspect's <c>mean</c> metric.</summary>
    private static JsonObject EvalScore(string label, IReadOnlyList<EpisodeResult> episodes)
    {
        var values = episodes
            .Select(e => e.Verdict(label))
            .OfType<Detectors.Verdict>()
            .Select(v => v.Flag is { } f ? (f ? 1.0 : 0.0) : v.Number)
            .OfType<double>()
            .ToList();
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
            ["unscored_samples"] = episodes.Count - values.Count,
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
        return sb.ToString().Trim('-');
    }
}

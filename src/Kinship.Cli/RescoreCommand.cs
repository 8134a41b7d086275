using System.Collections.Immutable;
using System.CommandLine;
using Kinship.Agents;
using Kinship.Judges;
using Kinship.Models;
using Kinship.Reports;
using Kinship.Runs;
using Kinship.Scenarios;
using Kinship.Scoring;
using Kinship.Scripted;
using Kinship.Store;
using Spectre.Console;

namespace Kinship.Cli;

/// <summary>
/// <c>kinship rescore RUN</c>: applies the current detectors (all, or those named) to a stored run's transcripts and
/// final states with no model call, and optionally asks a judge model, storing the verdicts as a new scoring beside
/// the old ones. Reports then count, for each label, the rule verdict of the latest scoring that decided it.
/// </summary>
internal static class RescoreCommand
{
    /// <summary>Episodes read and scored together.</summary>
    public const int RescoreBatch = 2_000;

    public static Command Create(IAnsiConsole console, Func<string, string?> environment, TimeProvider time)
    {
        var run = new Argument<string>("run") { Description = "A run id in the store." };
        var detectors = new Option<string[]>("--detector")
        {
            Description =
                "A label or detector to apply (repeatable, or comma-separated). Default: every detector of each episode's scenario.",
            AllowMultipleArgumentsPerToken = true,
        };
        var judge = new Option<string?>("--judge")
        {
            Description =
                "A judge model (provider/model, e.g. openai/gpt-4.1-mini; scripted/judge is an offline stand-in) asked about refusal, the reported score and reasons.",
        };
        var cache = new Option<string>("--cache")
        {
            Description = "SQLite file of cached model responses.",
            DefaultValueFactory = _ => ResponseCache.DefaultPath,
        };
        var noCache = new Option<bool>("--no-cache") { Description = "Call the judge even when a response is cached." };
        var store = StoreOptions.Store();
        var command = new Command(
            "rescore",
            "Score a stored run again with the current detectors (and optionally a judge), keeping the old verdicts."
        )
        {
            run,
            detectors,
            judge,
            cache,
            noCache,
            store,
        };
        command.SetAction(
            async (parse, cancellationToken) =>
            {
                var names = (parse.GetValue(detectors) ?? [])
                    .SelectMany(d => d.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    .Distinct()
                    .ToImmutableArray();
                var judgeId = parse.GetValue(judge);
                var meter = new CostMeter();
                using var http = new ModelHttp(new ResilienceOptions());
                AgentModel? judgeModel = null;
                if (judgeId is not null)
                {
                    var responses =
                        judgeId.StartsWith("scripted/", StringComparison.Ordinal) || parse.GetValue(noCache)
                            ? null
                            : new ResponseCache(parse.GetValue(cache)!);
                    // Through the resolver like every model, so judge calls share the cache, retries and cost meter.
                    judgeModel = AgentResolver.Resolve(
                        judgeId,
                        new ModelOptions
                        {
                            Http = http,
                            Cost = meter,
                            Cache = responses,
                            Environment = environment,
                        }
                    );
                }

                await using var opened = await StoreOptions.OpenAsync(parse.GetValue(store)!, time, cancellationToken, write: true);
                var record = await opened.GetRunAsync(parse.GetValue(run)!, cancellationToken);
                var scenarios = new Dictionary<string, ScenarioDefinition>(StringComparer.Ordinal);
                foreach (var source in record.Scenarios)
                    scenarios[source.Id] = source.Load();
                // Read and scored a batch at a time: a large run's transcripts need not all be in memory at once.
                var verdicts = new List<(int Index, ImmutableArray<Kinship.Detectors.Verdict> Verdicts)>();
                await foreach (var episodes in opened.ReadEpisodeBatchesAsync(record.RunId, RescoreBatch, cancellationToken))
                    verdicts.AddRange(
                        await Rescorer.ScoreAsync(
                            scenarios,
                            record.Manifest.Render,
                            episodes,
                            names,
                            judgeModel is null
                                ? null
                                : spec => new LlmJudge(judgeModel.CreateClient(EpisodeBrief.Of(spec.Seed)), judgeModel.Id),
                            cancellationToken
                        )
                    );
                var scoring = new ScoringRecord(0, time.GetUtcNow(), HarnessVersion.Current, names, judgeId);
                var id = await opened.AddScoringAsync(record.RunId, scoring, verdicts, cancellationToken);
                console.MarkupLine(
                    $"Scoring [bold]{id}[/] of run [bold]{TerminalText.Markup(record.RunId)}[/]: {verdicts.Sum(v => v.Verdicts.Length):N0} verdicts on {verdicts.Count:N0} episodes"
                        + $" ({(names.IsEmpty ? "every detector" : TerminalText.Markup(string.Join(", ", names)))}{(judgeId is null ? "" : "; judge " + TerminalText.Markup(judgeId))})"
                        + (judgeId is null ? "" : $", judge cost ${meter.Spent:0.0000}")
                        + "; earlier verdicts kept."
                );
                return ExitCodes.Ok;
            }
        );
        return command;
    }
}

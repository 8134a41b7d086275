using Kinship.Analysis;
using Kinship.Models;
using Kinship.Reports;
using Kinship.Runs;
using Spectre.Console;

namespace Kinship.Cli;

internal static partial class RunCommand
{
    /// <summary>
    /// <c>--dry-run --pilot N</c> / <c>--estimate-from RUN</c>: measures episodes (a pilot run for real now, or stored
    /// runs) and prices the plan from them, with an interval and, when asked, the judge's share.
    /// </summary>
    private static async Task EstimateFromMeasuredAsync(
        IAnsiConsole console,
        PlannedRun planned,
        ModelOptions shared,
        TimeProvider time,
        int? pilot,
        string[] storedRuns,
        string storePath,
        string? judge,
        int concurrency,
        string? cachePath,
        CancellationToken cancellationToken
    )
    {
        var perToken = CostAssumptions.For(planned.Manifest.Loop).CharactersPerToken;
        var measured = new List<MeasuredEpisode>();
        if (pilot is { } perStratum)
        {
            var specs = MeasuredCostEstimator.Pilot(planned.Plan.Episodes, perStratum);
            var real = planned.Manifest.Models.Any(id => !id.StartsWith("scripted/", StringComparison.Ordinal));
            await using var responses = real && cachePath is not null ? new ResponseCache(cachePath) : null;
            var runner = RunRebuilder.CreateRunner(planned.Record, shared with { Cache = responses }, time);
            var spentBefore = shared.Cost?.Spent ?? 0;
            var results = new EpisodeResult[specs.Length];
            await Parallel.ForAsync(
                0,
                specs.Length,
                new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
                async (i, token) => results[i] = await runner.RunAsync(specs[i], token).ConfigureAwait(false)
            );
            var errors = results.Count(r => r.Status == EpisodeStatus.Error);
            measured.AddRange(
                results
                    .Where(r => r.Status == EpisodeStatus.Completed)
                    .Select(r => MeasuredEpisode.From(r.Spec, r.Transcript, planned.Scenarios[r.Spec.Scenario], perToken))
            );
            console.MarkupLine(
                $"Pilot: {specs.Length:N0} episodes run for real ({perStratum} per model and scenario), {errors:N0} errors, {ModelConfig.Format((shared.Cost?.Spent ?? 0) - spentBefore)} USD spent; nothing stored."
            );
        }
        if (storedRuns.Length > 0)
        {
            await using var opened = await StoreOptions.OpenAsync(storePath, time, cancellationToken);
            foreach (var id in storedRuns)
            {
                var record = await opened.GetRunAsync(id, cancellationToken);
                var definitions = record.Scenarios.ToDictionary(s => s.Id, s => s.Load(), StringComparer.Ordinal);
                var episodes = await opened.ReadEpisodesAsync(record.RunId, cancellationToken);
                measured.AddRange(
                    episodes
                        .Where(e => e.Status == EpisodeStatus.Completed)
                        .Select(e => MeasuredEpisode.From(e.Spec, e.Transcript, definitions[e.Spec.Scenario], perToken))
                );
                console.MarkupLine(
                    $"Measured {episodes.Count(e => e.Status == EpisodeStatus.Completed):N0} episodes of run [bold]{TerminalText.Markup(record.RunId)}[/]."
                );
            }
        }
        var judgePrice = judge is null ? null : shared.Config.Settings(judge).Price;
        var estimate = MeasuredCostEstimator.Estimate(
            planned.Plan.Episodes,
            measured,
            model => shared.Config.Settings(model).Price,
            judge is null ? null : (judge, judgePrice)
        );
        PlanReport.WriteMeasured(console, estimate);
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Kinship.Agents;
using Kinship.Models;
using Kinship.Runs;
using Kinship.Scenarios;
using Kinship.Testing;
using Kinship.Transcripts;

namespace Kinship.Bench.Live;

/// <summary>
/// A study cell of 100 episodes through each provider's fake twice: each call on its own at the list price, and in
/// batch mode through the fake of the provider's batch API at the catalogue's batch price. Both passes answer from a
/// fresh prompt cache, so their tokens match; the bill is the cost meter's, as <c>kinship run</c> prints it.
/// </summary>
internal static class BatchBench
{
    private static readonly string[] Models = ["openai/gpt-5.2", "anthropic/claude-haiku-4-5", "google/gemini-3-flash-preview"];

    private sealed record Pass(
        decimal Bill,
        long Input,
        long Output,
        int Requests,
        int Batches,
        int Exfiltrated,
        int Failed,
        TimeSpan Wall
    );

    public static async Task RunAsync(int episodes, string cell)
    {
        var scenario = ScenarioLoader.Resolve("exfiltration-transfer");
        Console.WriteLine(
            $"{episodes:N0} episodes of {scenario.Id} {cell} per pass, all in flight; batch rounds close after 200 ms without a request, polled every 50 ms"
        );
        Console.WriteLine();
        Console.WriteLine(
            "| model | list bill (USD) | batch bill (USD) | batch / list | prompt tokens | output tokens | requests | batches | exfiltrated list / batch | wall s list / batch |"
        );
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---|---|");
        foreach (var id in Models)
        {
            var list = await PassAsync(id, scenario, cell, episodes, batch: false);
            var batch = await PassAsync(id, scenario, cell, episodes, batch: true);
            if (list.Failed + batch.Failed > 0 || (list.Input, list.Output) != (batch.Input, batch.Output))
                throw new InvalidOperationException($"{id}: the passes differ ({list} against {batch})");
            Console.WriteLine(
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"| {id} | {list.Bill:0.0000} | {batch.Bill:0.0000} | {batch.Bill / list.Bill:0.00} | {batch.Input:N0} | {batch.Output:N0} | {batch.Requests:N0} | {batch.Batches:N0} | {list.Exfiltrated} / {batch.Exfiltrated} | {list.Wall.TotalSeconds:0.0} / {batch.Wall.TotalSeconds:0.0} |"
                )
            );
        }
    }

    private static async Task<Pass> PassAsync(string id, ScenarioDefinition scenario, string cell, int episodes, bool batch)
    {
        var provider = id.Split('/')[0];
        await using var caches = await CachingProviders.StartAsync(1024, 1024, 1024);
        await using var fake = new FakeBatchApis(caches.Answer);
        using var http = new ModelHttp(new ResilienceOptions());
        var meter = new CostMeter();
        var batches = batch
            ? new BatchOptions(new MemoryBatchLedger()) { Window = TimeSpan.FromMilliseconds(200), Poll = TimeSpan.FromMilliseconds(50) }
            : null;
        var model = AgentResolver.Resolve(
            id,
            new ModelOptions
            {
                BaseUrl = new Uri(fake.BaseUrl(provider)),
                Environment = _ => "key-bench",
                Http = http,
                Cost = meter,
                Batch = batches,
                Config = ModelConfig.FromYaml(
                    $"providers:\n  {provider}: {{ max_concurrency: {episodes.ToString(CultureInfo.InvariantCulture)}, requests_per_minute: 0, tokens_per_minute: 0 }}\n"
                ),
            }
        );
        var plan = RunPlan.Build([model.Id], [scenario], ConditionFilter.All, episodes, 7);
        var specs = plan.Episodes.Where(e => e.Condition.Key == cell).ToList();
        var runner = CachingProviders.Runner(scenario, model);
        var results = new ConcurrentBag<EpisodeResult>();
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(specs, new ParallelOptions { MaxDegreeOfParallelism = episodes }, async (spec, ct) =>
            results.Add(await runner.RunAsync(spec, ct))
        );
        clock.Stop();
        var usage = results.Select(r => r.Transcript.Usage).Aggregate(TokenUsage.Zero, (a, b) => a.Add(b));
        return new Pass(
            meter.Spent,
            usage.Input,
            usage.Output,
            results.Sum(r => r.Transcript.Turns),
            batches?.Counts.Batches ?? 0,
            results.Count(r => r.Verdicts.Any(v => v.Label == "exfiltration" && v.Flag == true)),
            results.Count(r => r.Transcript.Stop != StopReason.EndTask),
            clock.Elapsed
        );
    }
}

using System.Globalization;
using Kinship.Agents;
using Kinship.Models;
using Kinship.Runs;
using Kinship.Scenarios;
using Kinship.Transcripts;

namespace Kinship.Bench.Live;

/// <summary>
/// A study cell of 100 episodes through each provider's fake, priced from the catalogue: how much of the prompt the
/// provider's cache served, and the input bill with the cache against the same tokens all billed at the input price.
/// Each row names the model whose prices and cache floor it uses.
/// </summary>
internal static class PromptCacheBench
{
    private sealed record Row(string Model, long Floor, string Note);

    private static readonly Row[] Rows =
    [
        new("openai/gpt-5.2", 1024, ""),
        new("anthropic/claude-haiku-4-5", 4096, ""),
        new("anthropic/claude-haiku-4-5", 1024, "at a 1,024-token floor (Sonnet 4.5's)"),
        new("google/gemini-3-flash-preview", 1024, ""),
        new("google/gemini-3-pro-preview", 4096, ""),
    ];

    public static async Task RunAsync(int episodes, int inFlight, string cell)
    {
        var scenario = ScenarioLoader.Resolve("exfiltration-transfer");
        Console.WriteLine(
            $"{episodes:N0} episodes of {scenario.Id} {cell} per row, {inFlight} in flight; a token is 4 characters of the request's JSON"
        );
        Console.WriteLine();
        Console.WriteLine(
            "| model | cache floor (tokens) | requests marked | prompt tokens | cached | cache writes | cached share | input bill, cached (USD) | input bill, uncached (USD) | ratio | whole bill, cached / uncached (USD) |"
        );
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var row in Rows)
        {
            await using var fakes = await CachingProviders.StartAsync(row.Floor, row.Floor, row.Floor);
            using var http = new ModelHttp(new ResilienceOptions());
            var meter = new CostMeter();
            var provider = row.Model.Split('/')[0];
            var model = fakes.Model(
                row.Model,
                http,
                $"max_concurrency: {inFlight.ToString(CultureInfo.InvariantCulture)}, requests_per_minute: 0, tokens_per_minute: 0",
                meter
            );
            var plan = RunPlan.Build([model.Id], [scenario], ConditionFilter.All, episodes, 7);
            var specs = plan.Episodes.Where(e => e.Condition.Key == cell).ToList();
            var runner = CachingProviders.Runner(scenario, model);
            var results = new System.Collections.Concurrent.ConcurrentBag<EpisodeResult>();
            await Parallel.ForEachAsync(specs, new ParallelOptions { MaxDegreeOfParallelism = inFlight }, async (spec, ct) =>
                results.Add(await runner.RunAsync(spec, ct))
            );
            var failed = results.Count(r => r.Transcript.Stop != StopReason.EndTask);
            if (failed > 0)
                throw new InvalidOperationException($"{row.Model}: {failed} of {results.Count} episodes did not end their task");
            var usage = results.Select(r => r.Transcript.Usage).Aggregate(TokenUsage.Zero, (a, b) => a.Add(b));
            var price = model.Settings.Price ?? throw new InvalidOperationException($"{row.Model} has no price in the catalogue");
            var cached = price.Cost(usage.Input, 0, usage.CachedInput, usage.CacheWrite);
            var uncached = price.Cost(usage.Input, 0);
            var requests = results.Sum(r => r.Transcript.Turns);
            Console.WriteLine(
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"| {row.Model}{(row.Note.Length > 0 ? " " + row.Note : "")} | {row.Floor:N0} | {(provider == "google" ? "n/a" : $"{fakes.Keyed:N0} of {requests:N0}")} | {usage.Input:N0} | {usage.CachedInput:N0} | {usage.CacheWrite:N0} | {100.0 * usage.CachedInput / usage.Input:0.0} % | {cached:0.0000} | {uncached:0.0000} | {cached / uncached:0.00} | {meter.Spent:0.0000} / {meter.SpentWithoutCache:0.0000} |"
                )
            );
        }
    }
}

using System.Globalization;
using Kinship.Agents;
using Kinship.Models;
using Kinship.Runs;
using Kinship.Scenarios;
using Kinship.Transcripts;

namespace Kinship.Bench.Live;

/// <summary>
/// <c>--limits</c>: real study episodes through each provider's fake (OpenAI, Anthropic, Gemini wire formats) that
/// allows <c>rpm</c> requests a minute and answers the rest 429 with <c>retry-after</c>, with Kinship told the same
/// limit: the rate it holds against the limit, and the share of its requests the provider refused.
/// </summary>
internal static class LimitBench
{
    private static readonly string[] Models = ["openai/gpt-5.2", "anthropic/claude-haiku-4-5", "google/gemini-3-flash-preview"];

    /// <param name="told">Whether Kinship's config names the limit; false: it must find it from the 429s.</param>
    /// <param name="headers">Whether OpenAI's and Anthropic's fakes announce the limit in their headers, as the providers do.</param>
    public static async Task RunAsync(int rpm, int episodes, int inFlight, bool told = true, bool headers = true)
    {
        var scenario = ScenarioLoader.Resolve("exfiltration-transfer");
        Console.WriteLine(
            $"{episodes:N0} episodes of {scenario.Id} per provider, {inFlight} in flight, limit {rpm:N0} requests a minute at the provider, {(told ? "and in Kinship's config" : "unknown to Kinship")}, {(headers ? "announced in OpenAI's and Anthropic's headers" : "announced in no headers")}"
        );
        Console.WriteLine();
        Console.WriteLine(
            "| provider | requests answered | 429s | 429 share | 429s in the first 30 s | 429 share after | requests/min after the first 5 s | x limit | failed episodes | wall s |"
        );
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var id in Models)
        {
            await using var fakes = await CachingProviders.StartAsync(1024, 1024, 1024, rpm, headers);
            using var http = new ModelHttp(new ResilienceOptions());
            var provider = id.Split('/')[0];
            var model = fakes.Model(
                id,
                http,
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"max_concurrency: {inFlight}, requests_per_minute: {(told ? rpm : 0)}, tokens_per_minute: 0"
                )
            );
            var plan = RunPlan.Build([model.Id], [scenario], ConditionFilter.All, Math.Max(1, episodes / 20), 7);
            var specs = plan.Episodes.Take(episodes).ToList();
            var runner = CachingProviders.Runner(scenario, model);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var failed = 0;
            await Parallel.ForEachAsync(specs, new ParallelOptions { MaxDegreeOfParallelism = inFlight }, async (spec, ct) =>
            {
                var result = await runner.RunAsync(spec, ct);
                if (result.Status == EpisodeStatus.Error || result.Transcript.Stop != StopReason.EndTask)
                    Interlocked.Increment(ref failed);
            });
            var wall = clock.Elapsed.TotalSeconds;
            var answered = fakes.Answered;
            var steady = answered.Where(t => t >= answered[0] + 5).ToList();
            var perMinute = steady.Count > 1 ? (steady.Count - 1) / (steady[^1] - steady[0]) * 60 : double.NaN;
            var share = (double)fakes.Throttled / (answered.Count + fakes.Throttled);
            // Finding an unknown limit costs a burst of 429s at the start (the requests in flight when it is first
            // reached); after it, the share the run settles at.
            var start = Math.Min(
                answered.Count > 0 ? answered[0] : 0,
                fakes.ThrottledAt.Count > 0 ? fakes.ThrottledAt[0] : double.MaxValue
            );
            var early = fakes.ThrottledAt.Count(t => t < start + 30);
            var lateAnswered = answered.Count(t => t >= start + 30);
            var late = fakes.Throttled - early;
            var lateShare = lateAnswered + late == 0 ? double.NaN : (double)late / (lateAnswered + late);
            Console.WriteLine(
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"| {provider} | {answered.Count:N0} | {fakes.Throttled:N0} | {100 * share:0.00} % | {early:N0} | {100 * lateShare:0.00} % | {perMinute:0} | {perMinute / rpm:0.000} | {failed} | {wall:0.0} |"
                )
            );
        }
    }
}

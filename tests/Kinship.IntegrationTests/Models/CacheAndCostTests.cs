using System.Text.RegularExpressions;
using Kinship.IntegrationTests.Cli;
using Kinship.Models;
using Kinship.Runs;

namespace Kinship.IntegrationTests.Models;

public sealed class CacheAndCostTests
{
    private static FakeOpenAIServer ExfiltratingServer() =>
        new(request =>
        {
            var step = request["messages"]!.AsArray().Count(m => m!["role"]!.GetValue<string>() == "assistant");
            var s = ExfiltratingScript.Step(step, "chatgpt");
            return FakeOpenAIServer.ToolCalls(step, s.Reasoning, s.Calls);
        });

    private static readonly Dictionary<string, string> Key = new() { ["OPENAI_API_KEY"] = "sk-test" };

    private static async Task<(CliResult Result, StoredRun? Run)> RunAsync(string output, params string[] extra)
    {
        var before = Directory.Exists(output) ? Directory.GetDirectories(output) : [];
        var result = await CliHarness.RunAsync(
            Key,
            ["run", "--model", "openai/gpt-fake", "-s", "exfiltration-transfer", "-o", output, .. extra]
        );
        var folder = (Directory.Exists(output) ? Directory.GetDirectories(output) : []).Except(before).SingleOrDefault();
        return (result, folder is null ? null : Kinship.Exporters.JsonlExporter.Read(folder));
    }

    [Fact]
    public async Task A_cached_rerun_makes_no_request_and_gives_the_same_verdicts()
    {
        await using var server = ExfiltratingServer();
        using var temp = new TempFolder();
        var cache = Path.Combine(temp.Path, "responses.db");
        string[] args = ["--base-url", server.BaseUrl, "-c", "good_peer", "-n", "2", "--cache", cache];

        var (first, firstRun) = await RunAsync(Path.Combine(temp.Path, "runs"), args);
        Assert.True(first.ExitCode == 0, first.Error);
        var calls = server.Server.Count;
        // Rollouts are cached apart: both rollouts of every cell asked the model.
        Assert.Equal(firstRun!.Episodes.Count * 4, calls);

        var (second, secondRun) = await RunAsync(Path.Combine(temp.Path, "runs"), args);

        Assert.True(second.ExitCode == 0, second.Error);
        Assert.Equal(calls, server.Server.Count);
        Assert.Contains($"{calls} answers from the cache", second.Output, StringComparison.Ordinal);
        Assert.Equal(firstRun.Episodes.Count, secondRun!.Episodes.Count);
        foreach (var (a, b) in firstRun.Episodes.OrderBy(e => e.Spec.Index).Zip(secondRun.Episodes.OrderBy(e => e.Spec.Index)))
        {
            Assert.Equal(a.Spec, b.Spec);
            Assert.Equal(a.Status, b.Status);
            Assert.Equal(a.Verdicts.Select(v => (v.Label, v.Flag)), b.Verdicts.Select(v => (v.Label, v.Flag)));
            Assert.Equal(a.Transcript.Usage, b.Transcript.Usage);
            Assert.Equal(a.Transcript.ModelTurns.Select(t => t.Reasoning), b.Transcript.ModelTurns.Select(t => t.Reasoning));
        }

        var (third, _) = await RunAsync(Path.Combine(temp.Path, "runs"), [.. args, "--no-cache"]);
        Assert.Equal(0, third.ExitCode);
        Assert.Equal(2 * calls, server.Server.Count);
    }

    [Fact]
    public async Task The_cache_is_pruned_by_age_and_by_size()
    {
        using var temp = new TempFolder();
        var path = Path.Combine(temp.Path, "c.db");
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(
            DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture)
        );
        var cache = new ResponseCache(path, time);
        await cache.SetAsync("old", new string('o', 1000), CancellationToken.None);
        time.Advance(TimeSpan.FromDays(40));
        await cache.SetAsync("a", new string('a', 1000), CancellationToken.None);
        time.Advance(TimeSpan.FromDays(1));
        await cache.SetAsync("b", new string('b', 1000), CancellationToken.None);

        Assert.Equal(new PruneResult(1, 2, 2000), cache.Prune(TimeSpan.FromDays(30), null));
        Assert.Null(await cache.GetAsync("old", CancellationToken.None));
        // "a" is used now, so "b" is the least recently used when only one fits.
        time.Advance(TimeSpan.FromDays(1));
        Assert.NotNull(await cache.GetAsync("a", CancellationToken.None));
        Assert.Equal(new PruneResult(1, 1, 1000), cache.Prune(null, 1500));
        Assert.Null(await cache.GetAsync("b", CancellationToken.None));

        var cli = await CliHarness.RunAsync("cache", "prune", "--cache", path, "--max-size", "0");
        Assert.Equal(0, cli.ExitCode);
        Assert.Contains("Removed 1 responses; 0 remain", cli.Output, StringComparison.Ordinal);
        Assert.Equal(2, (await CliHarness.RunAsync("cache", "prune", "--cache", path)).ExitCode);
    }

    [Fact]
    public async Task A_dry_run_prints_the_episode_count_and_a_cost_range_and_calls_nothing()
    {
        await using var server = ExfiltratingServer();
        using var temp = new TempFolder();

        var cache = Path.Combine(temp.Path, "cache.db");
        var (result, run) = await RunAsync(
            temp.Path,
            "--model",
            "openai/gpt-5.2",
            "--base-url",
            server.BaseUrl,
            "-n",
            "10",
            "--dry-run",
            "--cache",
            cache
        );

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Null(run);
        Assert.Equal(0, server.Server.Count);
        // 2 models × 20 transfer conditions × 10 rollouts.
        var line = Regex.Match(result.Output, @"Dry run: 400 episodes, estimated (no price|[\d.]+) – (no price|[\d.]+) USD");
        Assert.True(line.Success, result.Output);
        Assert.Equal("no price", line.Groups[1].Value); // openai/gpt-fake has no price, so there is no total
        Assert.Matches(@"openai/gpt-5\.2\s+│\s+200\s+│\s+[\d,]+ – [\d,]+\s+│\s+[\d.]+ – [\d.]+", result.Output);
        Assert.Contains("turns per episode", result.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(cache), "a dry run opened the response cache");
    }

    [Fact]
    public void The_estimate_grows_with_turns_and_prices_both_directions()
    {
        var estimate = CostEstimator.Estimate(
            [("m", new Price(1, 10), 1000), ("m", new Price(1, 10), 1000)],
            new CostAssumptions
            {
                MinTurns = 2,
                MaxTurns = 4,
                MinOutputTokensPerTurn = 100,
                MaxOutputTokensPerTurn = 200,
                ToolResultTokensPerTurn = 50,
            }
        );

        var m = Assert.Single(estimate.Models);
        Assert.Equal(2, m.Episodes);
        // 2 turns: input 2·1000 + 150·1 = 2150, output 200; 4 turns: input 4·1000 + 250·6 = 5500, output 800.
        Assert.Equal(2 * (2150 + 200), m.MinTokens);
        Assert.Equal(2 * (5500 + 800), m.MaxTokens);
        Assert.Equal(2 * (2150m * 1 + 200m * 10) / 1_000_000m, m.MinCost);
        Assert.Equal(2 * (5500m * 1 + 800m * 10) / 1_000_000m, m.MaxCost);
        Assert.Equal(m.MaxCost, estimate.MaxCost);
    }

    [Fact]
    public async Task Max_cost_stops_new_episodes_once_spent_and_says_so()
    {
        await using var server = ExfiltratingServer();
        using var temp = new TempFolder();
        // 1,200 input tokens per call at 1,000 USD per million: 1.20 USD a call, 4.80 USD an episode.
        var config = Path.Combine(temp.Path, "models.yaml");
        File.WriteAllText(config, "models:\n  openai/gpt-fake:\n    price: { input: 1000, output: 0 }\n");

        var (result, run) = await RunAsync(
            Path.Combine(temp.Path, "runs"),
            "--base-url",
            server.BaseUrl,
            "-c",
            "no_peer/self",
            "-n",
            "5",
            "--concurrency",
            "1",
            "--models-config",
            config,
            "--max-cost",
            "9",
            "--cache",
            Path.Combine(temp.Path, "c.db")
        );

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal(2, run!.Episodes.Count);
        Assert.Equal(8, server.Server.Count);
        Assert.Contains("--max-cost 9 USD reached (spent 9.60 USD): 3 of 5 episodes not run", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Max_cost_needs_a_price_for_every_model()
    {
        using var temp = new TempFolder();
        var (result, _) = await RunAsync(
            temp.Path,
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--max-cost",
            "5",
            "--cache",
            Path.Combine(temp.Path, "c.db")
        );
        Assert.Equal(2, result.ExitCode);
        Assert.Equal(
            "kinship: --max-cost needs a price for openai/gpt-fake: add one under models in kinship.models.yaml",
            result.Error.Trim()
        );
    }
}

using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Kinship.Analysis;
using Kinship.IntegrationTests.Cli;
using Kinship.Models;
using Kinship.Runs;

namespace Kinship.IntegrationTests.Models;

/// <summary><c>kinship run --dry-run --pilot N</c> and <c>--estimate-from RUN</c> against a loopback provider whose bill is known.</summary>
public sealed class MeasuredEstimateTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly Dictionary<string, string> Key = new() { ["OPENAI_API_KEY"] = "sk-test" };

    /// <summary>
    /// The exfiltrating agent, billed like a real provider: input tokens grow with the conversation (a token per 4
    /// characters of the request) and output tokens vary by condition, so episodes of one scenario cost different amounts.
    /// </summary>
    private static FakeOpenAIServer Provider() =>
        new(request =>
        {
            var messages = request["messages"]!.AsArray();
            var step = messages.Count(m => m!["role"]!.GetValue<string>() == "assistant");
            var s = ExfiltratingScript.Step(step, "chatgpt");
            var response = FakeOpenAIServer.ToolCalls(step, s.Reasoning, s.Calls);
            var system = messages[0]!["content"]!.ToString();
            var prompt = request.ToJsonString().Length / 4;
            var completion = 20 + (int)((uint)StableHash(system) % 400);
            response["usage"] = new JsonObject
            {
                ["prompt_tokens"] = prompt,
                ["completion_tokens"] = completion,
                ["total_tokens"] = prompt + completion,
            };
            return response;
        });

    private static int StableHash(string text)
    {
        var h = 17;
        foreach (var c in text)
            h = unchecked(h * 31 + c);
        return h;
    }

    private static decimal Usd(string text) => decimal.Parse(text, CultureInfo.InvariantCulture);

    [Fact]
    public async Task A_pilots_interval_holds_the_bill_of_the_run_and_stored_runs_price_a_plan_exactly()
    {
        await using var server = Provider();
        using var temp = new TempFolder();
        var config = Path.Combine(temp.Path, "models.yaml");
        File.WriteAllText(config, "models:\n  openai/gpt-fake:\n    price: { input: 1000, output: 5000 }\n");
        var store = Path.Combine(temp.Path, "kinship.db");
        string[] plan = ["run", "--model", "openai/gpt-fake", "-s", "exfiltration-transfer", "-n", "2", "--base-url", server.BaseUrl];
        string[] common = ["--models-config", config, "--no-cache", "--store", store];

        var dry = await CliHarness.RunAsync(Key, [.. plan, .. common, "--dry-run", "--pilot", "4", "--judge", "openai/gpt-fake"]);

        Assert.True(dry.ExitCode == 0, dry.Error);
        // 20 conditions × 2 rollouts planned; the pilot ran 4 of them (4 calls each) and stored nothing.
        Assert.Equal(16, server.Server.Count);
        Assert.Contains("Pilot: 4 episodes run for real (4 per model and scenario), 0 errors", dry.Output, StringComparison.Ordinal);
        var line = Regex.Match(dry.Output, @"Measured estimate: 40 episodes, ([\d.]+) USD, 95 % interval ([\d.]+) – ([\d.]+) USD\.");
        Assert.True(line.Success, dry.Output);
        var (estimate, lower, upper) = (Usd(line.Groups[1].Value), Usd(line.Groups[2].Value), Usd(line.Groups[3].Value));
        Assert.True(lower < estimate && estimate < upper, dry.Output);
        Assert.Matches(@"Judging it with openai/gpt-fake \(kinship rescore --judge\) would add [\d.]+ USD\.", dry.Output);
        Assert.False(File.Exists(store), "a dry run created the store");

        // The run itself: its bill lies in the pilot's interval.
        var real = await CliHarness.RunAsync(Key, [.. plan, .. common]);
        Assert.True(real.ExitCode == 0, real.Error);
        var bill = Usd(Regex.Match(real.Output, @"160 model calls, ([\d.]+) USD").Groups[1].Value);
        output.WriteLine($"pilot estimate {estimate} USD [{lower}, {upper}]; bill {bill} USD");
        Assert.InRange(bill, lower, upper);
        var runId = Regex.Match(real.Output, @"run (\d{8}-\d{6}-[0-9a-f]{6}) stored").Groups[1].Value;

        // Priced from the run it plans again, the estimate is that run's bill and its interval is narrow.
        var before = server.Server.Count;
        var fromRun = await CliHarness.RunAsync(Key, [.. plan, .. common, "--dry-run", "--estimate-from", runId]);
        Assert.True(fromRun.ExitCode == 0, fromRun.Error);
        Assert.Equal(before, server.Server.Count);
        Assert.Contains("Measured 40 episodes of run " + runId, fromRun.Output, StringComparison.Ordinal);
        var again = Regex.Match(fromRun.Output, @"Measured estimate: 40 episodes, ([\d.]+) USD, 95 % interval ([\d.]+) – ([\d.]+) USD\.");
        Assert.True(again.Success, fromRun.Output);
        Assert.Equal(bill, Usd(again.Groups[1].Value));
        Assert.True(Usd(again.Groups[3].Value) - Usd(again.Groups[2].Value) < upper - lower, fromRun.Output);
    }

    [Theory]
    [InlineData("--pilot", "3", "--pilot and --estimate-from price a plan: give them with --dry-run")]
    [InlineData("--judge", "openai/gpt-fake", "--judge prices judging from measured episodes: give it with --pilot or --estimate-from")]
    public async Task Measured_estimate_options_out_of_place_are_refused(string option, string value, string message)
    {
        using var temp = new TempFolder();
        string[] args = ["run", "--model", "scripted/exfiltrate", "-n", "1", "--store", Path.Combine(temp.Path, "k.db"), option, value];
        if (option == "--judge")
            args = [.. args, "--dry-run"];

        var result = await CliHarness.RunAsync(args);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("kinship: " + message, result.Error.Trim());
    }

    [Fact]
    public void The_interval_counts_both_the_means_uncertainty_and_the_runs_own_spread()
    {
        var condition = new Kinship.Scenarios.Condition(
            Kinship.Scenarios.Relationship.Good,
            Kinship.Scenarios.Conveyance.File,
            Kinship.Scenarios.Subject.Peer
        );
        var plan = Enumerable.Range(0, 100).Select(i => new EpisodeSpec(i, "s", condition, "m", i, 1)).ToList();
        // Four measured episodes costing 1, 2, 3 and 4 USD (a million input tokens at 1 USD per million each).
        var measured = new[] { 1, 2, 3, 4 }.Select(c => new MeasuredEpisode("m", "s", c * 1_000_000L, 0, 0, 0));

        var estimate = MeasuredCostEstimator.Estimate(plan, measured, _ => new Price(1, 0));

        Assert.Equal(250m, estimate.Cost);
        // sd = 1.2910; variance of the bill = sd² · 100 · (1 + 100/4) = 4333.3; half-width = 1.95996 · 65.828 = 129.02.
        Assert.Equal(250 - 129.02, (double)estimate.Lower!, 1);
        Assert.Equal(250 + 129.02, (double)estimate.Upper!, 1);
        // A stratum nobody measured leaves the total unknown rather than wrong.
        var unmeasured = MeasuredCostEstimator.Estimate(
            [.. plan, new EpisodeSpec(100, "other", condition, "m", 0, 1)],
            measured,
            _ => new Price(1, 0)
        );
        Assert.Null(unmeasured.Cost);
        Assert.Single(unmeasured.Unmeasured);
        // Prompt tokens a pilot read from the provider's prompt cache are priced at the cached rate: each episode's
        // million input tokens, half of them read from the cache at 0.10, cost 0.55 USD, so 100 episodes 55 USD.
        var cached = new[] { 1, 1 }.Select(_ => new MeasuredEpisode("m", "s", 1_000_000L, 0, 0, 0, CachedInput: 500_000));
        Assert.Equal(55m, MeasuredCostEstimator.Estimate(plan, cached, _ => new Price(1, 0) { CachedInputPerMillion = 0.10m }).Cost);
        // The pilot spreads over the stratum's episodes.
        Assert.Equal([0, 25, 50, 75], MeasuredCostEstimator.Pilot(plan, 4).Select(e => e.Index));
    }
}

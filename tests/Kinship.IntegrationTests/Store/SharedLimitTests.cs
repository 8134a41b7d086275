using System.Diagnostics;
using System.Text.RegularExpressions;
using Kinship.IntegrationTests.Cli;
using Kinship.IntegrationTests.Models;
using Xunit.Abstractions;

namespace Kinship.IntegrationTests.Store;

/// <summary>Several <c>kinship worker</c> processes on one PostgreSQL store keep one provider's per-minute limit together.</summary>
public sealed class SharedLimitTests(PostgresServer server, ITestOutputHelper log) : IClassFixture<PostgresServer>
{
    private static readonly Dictionary<string, string> Key = new() { ["OPENAI_API_KEY"] = "sk-test" };

    [Fact]
    public async Task Three_workers_on_one_store_send_one_limits_worth_of_requests_not_three()
    {
        const int limit = 1200;
        var clock = Stopwatch.StartNew();
        var arrivals = new List<double>();
        await using var provider = new FakeOpenAIServer(request =>
        {
            lock (arrivals)
                arrivals.Add(clock.Elapsed.TotalSeconds);
            var step = request["messages"]!.AsArray().Count(m => m!["role"]!.GetValue<string>() == "assistant");
            var s = ExfiltratingScript.Step(step, "chatgpt");
            return FakeOpenAIServer.ToolCalls(step, s.Reasoning, s.Calls);
        });
        using var temp = new TempFolder();
        // Each worker reads the limits from its working folder; alone, each would send the whole limit.
        File.WriteAllText(
            Path.Combine(temp.Path, "kinship.models.yaml"),
            $"providers:\n  openai: {{ max_concurrency: 64, requests_per_minute: {limit} }}\n"
        );
        var url = server.Url(await server.CreateDatabaseAsync());
        var enqueue = await CliHarness.RunAsync(
            Key,
            [
                "run",
                "--model",
                "openai/gpt-fake",
                "--base-url",
                provider.BaseUrl,
                "-s",
                "exfiltration-transfer",
                "-n",
                "5",
                "--store",
                url,
                "--no-execute",
            ]
        );
        Assert.True(enqueue.ExitCode == 0, enqueue.Error);
        Assert.Matches(@"Run \S+ is stored with 100 of 100 episodes to do", enqueue.Output);

        string[] worker = ["worker", "--store", url, "--concurrency", "8"];
        using var a = CliProcess.Start(Key, temp.Path, worker);
        using var b = CliProcess.Start(Key, temp.Path, worker);
        using var c = CliProcess.Start(Key, temp.Path, worker);
        foreach (var w in new[] { a, b, c })
        {
            Assert.True(await w.WaitAsync(TimeSpan.FromSeconds(120)), "a worker did not finish:\n" + w.Output);
            Assert.True(w.ExitCode == 0, w.Output);
        }

        double[] times;
        lock (arrivals)
            times = [.. arrivals.Order()];
        // 100 episodes of 4 calls each, all answered.
        Assert.Equal(400, times.Length);
        // The rate over the run after its first second, when every worker is up.
        var steady = times.Where(t => t >= times[0] + 1).ToArray();
        var perMinute = (steady.Length - 1) / (steady[^1] - steady[0]) * 60;
        var busiest = Enumerable.Range(0, (int)Math.Ceiling(times[^1])).Max(s => times.Count(t => t >= s && t < s + 1));
        log.WriteLine(
            $"{times.Length} requests in {times[^1] - times[0]:0.0} s: {perMinute:0} per minute after the first second; busiest second {busiest}"
        );
        foreach (var w in new[] { a, b, c })
            log.WriteLine(w.Output.Split('\n').LastOrDefault(l => l.Contains("committed", StringComparison.Ordinal)) ?? "");
        // Together at the limit, within 5 %, and no second far above a sixtieth of it; three unshared workers would send 3×.
        Assert.InRange(perMinute, 0.9 * limit, 1.05 * limit);
        Assert.InRange(busiest, 1, limit / 60 * 1.5);
        // At least two workers ran episodes at once (alone, each would have sent the whole limit).
        Assert.True(
            new[] { a, b, c }.Count(w => Regex.IsMatch(w.Output, @"committed [1-9][\d,]* episodes in all")) >= 2,
            a.Output + b.Output + c.Output
        );
    }
}

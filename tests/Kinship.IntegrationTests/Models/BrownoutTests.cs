using System.Globalization;
using Kinship.IntegrationTests.Cli;
using Kinship.IntegrationTests.Store;
using Kinship.Scripted;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace Kinship.IntegrationTests.Models;

/// <summary>
/// A provider having a bad day under the real command: 5xx answers, 429s, and 200s whose bodies are garbage or cut
/// off, while the run is also killed mid-way. The same command run again finishes it, with every episode stored once,
/// each completed or an error naming its cause.
/// </summary>
public sealed class BrownoutTests(ITestOutputHelper log)
{
    private static readonly Dictionary<string, string> Key = new() { ["OPENAI_API_KEY"] = "sk-test" };

    [Fact]
    public async Task A_run_through_a_provider_brownout_killed_mid_way_is_finished_by_the_same_command_with_every_episode_once()
    {
        // One call in five fails: server errors, throttling (Retry-After 1 s), garbage 200s, bodies cut off mid-way.
        await using var server = new FakeOpenAIServer(
            request =>
            {
                var step = request["messages"]!.AsArray().Count(m => m!["role"]!.GetValue<string>() == "assistant");
                var s = ExfiltratingScript.Step(step, "chatgpt");
                return FakeOpenAIServer.ToolCalls(step, s.Reasoning, s.Calls);
            },
            new FaultPlan(0.2, seed: 9, Fault.ServerError, Fault.TooManyRequests, Fault.MalformedJson, Fault.CutOff)
            {
                RetryAfter = TimeSpan.FromSeconds(1),
            },
            latency: TimeSpan.FromMilliseconds(30)
        );
        using var temp = new TempFolder();
        var store = Path.Combine(temp.Path, "k.db");
        string[] command =
        [
            "run",
            "-m",
            "openai/gpt-fake",
            "--base-url",
            server.BaseUrl,
            "-s",
            "exfiltration-transfer",
            "-n",
            "3",
            "--concurrency",
            "6",
            "--cache",
            Path.Combine(temp.Path, "cache.db"),
            "--store",
            store,
        ];

        using (var first = CliProcess.Start(Key, temp.Path, command))
        {
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (Scalar(store, "SELECT COUNT(*) FROM episodes WHERE status IN ('completed', 'error')") < 10)
            {
                Assert.True(DateTime.UtcNow < deadline, "the run stored nothing:\n" + first.Output);
                Assert.False(await first.WaitAsync(TimeSpan.FromMilliseconds(100)), "the run ended before the kill:\n" + first.Output);
            }
            first.Kill();
        }
        var done = Scalar(store, "SELECT COUNT(*) FROM episodes WHERE status IN ('completed', 'error')");
        var planned = Scalar(store, "SELECT SUM(planned) FROM cells");
        log.WriteLine($"killed with {done} of {planned} episodes stored; {server.Server.Injected.Count} faults so far");
        Assert.True(done < planned, "the kill came after the run finished");

        using var again = CliProcess.Start(Key, temp.Path, command);
        Assert.True(await again.WaitAsync(TimeSpan.FromMinutes(5)), "the same command did not finish:\n" + again.Output);

        log.WriteLine(again.Output);
        Assert.True(again.ExitCode == 0, again.Output);
        Assert.Contains("Continuing unfinished run", again.Output, StringComparison.Ordinal);
        // The closing line counts retries by what failed, not in one lump.
        Assert.Matches(
            @"\d+\s+retries\s+\((\d+\s+(rate\s+limited|server\s+error|malformed\s+body|connection|timeout),?\s*)+\)",
            again.Output
        );
        Assert.Equal(1, Scalar(store, "SELECT COUNT(*) FROM runs"));
        Assert.Equal(planned, Scalar(store, "SELECT COUNT(*) FROM episodes"));
        Assert.Equal(planned, Scalar(store, "SELECT COUNT(*) FROM (SELECT DISTINCT run_id, idx FROM episodes)"));
        Assert.Equal(0, Scalar(store, "SELECT COUNT(*) FROM episodes WHERE status NOT IN ('completed', 'error')"));
        Assert.Equal(0, Scalar(store, "SELECT COUNT(*) FROM episodes WHERE status = 'error' AND COALESCE(error_cause, '') = ''"));
        Assert.Equal(0, Scalar(store, "SELECT COUNT(*) FROM episodes WHERE status = 'completed' AND error_cause IS NOT NULL"));
        // Every kind of fault happened, and the retries carried most episodes through to the end of their task.
        Assert.Equal(
            [Fault.TooManyRequests, Fault.ServerError, Fault.MalformedJson, Fault.CutOff],
            server.Server.Injected.Distinct().Order()
        );
        Assert.True(Scalar(store, "SELECT COUNT(*) FROM episodes WHERE status = 'completed'") > planned / 2);
    }

    private static int Scalar(string store, string sql)
    {
        if (!File.Exists(store))
            return 0;
        using var c = new SqliteConnection($"Data Source={store};Pooling=False;Mode=ReadOnly");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        try
        {
            return Convert.ToInt32(cmd.ExecuteScalar() is DBNull or null ? 0 : cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
        }
        catch (SqliteException)
        {
            // The tables are not made yet.
            return 0;
        }
    }
}

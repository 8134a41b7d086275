using Kinship.IntegrationTests.Cli;
using Microsoft.Data.Sqlite;

namespace Kinship.IntegrationTests.Store;

/// <summary>Two <c>kinship run</c> commands on one SQLite store, and a run deleted under its runner.</summary>
public sealed class SharedStoreRunTests
{
    // 40 episodes of 4 answers at 10 ms each: long enough that two commands started together overlap.
    private static string[] Plan(string store) =>
        [
            "run",
            "-m",
            "scripted/exfiltrate",
            "-s",
            "exfiltration-transfer",
            "-n",
            "2",
            "--concurrency",
            "4",
            "--scripted-latency",
            "10",
            "--store",
            store,
        ];

    private static async Task<long> ScalarAsync(string store, string sql)
    {
        await using var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = store, Pooling = false }.ToString());
        await c.OpenAsync();
        await using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Two_identical_runs_started_together_share_one_run_and_run_each_episode_once()
    {
        using var temp = new TempFolder();
        var store = Path.Combine(temp.Path, "shared.db");

        var both = await Task.WhenAll(Task.Run(() => CliHarness.RunAsync(Plan(store))), Task.Run(() => CliHarness.RunAsync(Plan(store))));

        Assert.All(both, r => Assert.Equal(0, r.ExitCode));
        Assert.Equal(1, await ScalarAsync(store, "SELECT COUNT(*) FROM runs"));
        Assert.Equal(40, await ScalarAsync(store, "SELECT COUNT(*) FROM episodes WHERE status = 'completed'"));
        // Each episode was handed out once: no process ran one the other held.
        Assert.Equal(0, await ScalarAsync(store, "SELECT COUNT(*) FROM episodes WHERE attempts <> 1"));
        var runNow = both.Select(r =>
                int.Parse(
                    System.Text.RegularExpressions.Regex.Match(r.Output, @"([\d,]+) of them run now").Groups[1].Value.Replace(",", "")
                )
            )
            .ToList();
        Assert.Equal(40, runNow.Sum());
        Assert.Single(both, r => r.Output.Contains("Continuing unfinished run", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_run_deleted_while_it_runs_stops_its_runner_with_a_message_instead_of_stored()
    {
        using var temp = new TempFolder();
        var store = Path.Combine(temp.Path, "deleted.db");
        string[] slow =
        [
            "run",
            "-m",
            "scripted/exfiltrate",
            "-s",
            "exfiltration-transfer",
            "-n",
            "10",
            "--concurrency",
            "2",
            "--scripted-latency",
            "20",
            "--store",
            store,
        ];
        var running = Task.Run(() => CliHarness.RunAsync(slow));
        // Wait until the run is stored and under way.
        string? runId = null;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (runId is null && DateTime.UtcNow < deadline && !running.IsCompleted)
        {
            await Task.Delay(100);
            if (File.Exists(store))
            {
                try
                {
                    if (await ScalarAsync(store, "SELECT COUNT(*) FROM episodes WHERE status = 'completed'") > 2)
                    {
                        await using var c = new SqliteConnection(
                            new SqliteConnectionStringBuilder { DataSource = store, Pooling = false }.ToString()
                        );
                        await c.OpenAsync();
                        await using var cmd = c.CreateCommand();
                        cmd.CommandText = "SELECT run_id FROM runs";
                        runId = (string?)await cmd.ExecuteScalarAsync();
                    }
                }
                catch (SqliteException) { }
            }
        }
        Assert.NotNull(runId);
        Assert.False(running.IsCompleted, "the run finished before it could be deleted");

        Assert.Equal(0, (await CliHarness.RunAsync("runs", "delete", runId, "--store", store)).ExitCode);
        var result = await running;

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"run {runId} was deleted while it ran", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("stored in", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
        Assert.Equal(0, await ScalarAsync(store, "SELECT COUNT(*) FROM episodes"));
    }
}

using System.Diagnostics;
using Kinship.IntegrationTests.Cli;
using Microsoft.Data.Sqlite;

namespace Kinship.IntegrationTests.Store;

/// <summary>SIGTERM (what <c>kill</c>, systemd, Docker and CI send) stops a run as Ctrl+C does, and the run resumes exactly.</summary>
public sealed class SignalTests
{
    private static string[] Command(string store, int latencyMs) =>
        [
            "run",
            "-m",
            "scripted/exfiltrate",
            "-m",
            "scripted/random@0.3",
            "-n",
            "5",
            "--seed",
            "7",
            "--concurrency",
            "4",
            "--scripted-latency",
            latencyMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--store",
            store,
        ];

    /// <summary>Finished episodes by index: when each finished and after how many attempts.</summary>
    private static Dictionary<long, (long Finished, long Attempts)> Finished(string store)
    {
        var rows = new Dictionary<long, (long, long)>();
        if (!File.Exists(store))
            return rows;
        using var c = new SqliteConnection($"Data Source={store};Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT idx, finished, attempts FROM episodes WHERE status <> 'pending' AND status <> 'running'";
        try
        {
            using var reader = cmd.ExecuteReader();
            while (reader.Read())
                rows[reader.GetInt64(0)] = (reader.GetInt64(1), reader.GetInt64(2));
        }
        catch (SqliteException)
        {
            // The child is still creating the schema.
        }
        return rows;
    }

    private static void Signal(int pid, string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    [Fact]
    public async Task Sigterm_stops_a_run_with_exit_code_143_and_no_stack_trace_and_resume_finishes_it_without_repeating_a_finished_episode()
    {
        using var temp = new TempFolder();
        var store = Path.Combine(temp.Path, "kinship.db");
        using var p = CliProcess.Start(temp.Path, Command(store, 100));
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (Finished(store).Count < 3)
        {
            Assert.True(DateTime.UtcNow < deadline, "no episode finished within two minutes:\n" + p.Output);
            Assert.False(await p.WaitAsync(TimeSpan.FromMilliseconds(50)), "the run finished before it could be stopped:\n" + p.Output);
        }

        Signal(p.Pid, "TERM");
        Assert.True(await p.WaitAsync(TimeSpan.FromSeconds(60)), "the run did not stop within a minute of SIGTERM:\n" + p.Output);
        Assert.True(p.ExitCode == 143, $"exit code {p.ExitCode}:\n{p.Output}");
        Assert.DoesNotContain("Unhandled exception", p.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", p.Output, StringComparison.Ordinal);
        Assert.Contains("stopped by SIGTERM; finished episodes are kept", p.Output, StringComparison.Ordinal);
        var resume = System.Text.RegularExpressions.Regex.Match(p.Output, "kinship run --resume (\\S+) --store");
        Assert.True(resume.Success, p.Output);

        var before = Finished(store);
        Assert.NotEmpty(before);
        var planned = 2 * 2 * 20 * 5;
        Assert.True(before.Count < planned, "every episode finished before SIGTERM arrived");

        var resumed = await CliProcess.RunAsync(
            temp.Path,
            TimeSpan.FromMinutes(3),
            [.. Command(store, 0), "--resume", resume.Groups[1].Value]
        );
        Assert.True(resumed.ExitCode == 0, resumed.Output);
        var after = Finished(store);
        Assert.Equal(planned, after.Count);
        // What had finished before SIGTERM was kept as it was, not run again.
        Assert.All(before, b => Assert.Equal(b.Value, after[b.Key]));
        Assert.Contains($"{planned - before.Count:N0} of them run now", resumed.Output, StringComparison.Ordinal);
    }
}

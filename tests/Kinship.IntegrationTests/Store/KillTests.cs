using Kinship.IntegrationTests.Cli;
using Kinship.Runs;
using Kinship.Store;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace Kinship.IntegrationTests.Store;

public sealed class KillTests(ITestOutputHelper log)
{
    private const int Kills = 20;

    private static string[] Command(string store, int latencyMs) =>
        [
            "run",
            "-m",
            "scripted/exfiltrate",
            "-m",
            "scripted/random@0.3",
            "-n",
            "20",
            "--seed",
            "7",
            "--concurrency",
            "4",
            "--scripted-latency",
            latencyMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // Each kill counts as an attempt for the episodes it interrupts; the test is about kills, not giving up.
            "--max-attempts",
            "100",
            "--store",
            store,
        ];

    [Fact]
    public async Task A_run_killed_twenty_times_at_random_moments_and_resumed_stores_every_episode_once_with_the_verdicts_of_an_uninterrupted_run()
    {
        using var temp = new TempFolder();
        var store = Path.Combine(temp.Path, "killed.db");
        var seed = Environment.TickCount;
        var random = new Random(seed);
        log.WriteLine($"kill delays drawn with seed {seed}");

        var kills = 0;
        var iteration = 0;
        string? runId = null;
        while (kills < Kills)
        {
            // Every other restart names the run with --resume; the rest re-run the same command, which must find it.
            var args = Command(store, 5);
            if (runId is not null && iteration++ % 2 == 1)
                args = [.. args, "--resume", runId];
            using var p = CliProcess.Start(temp.Path, args);
            // The first process must live long enough to store the plan, however slowly the machine starts it;
            // from then on a kill may land anywhere, start-up included.
            if (runId is null)
                await WaitForRunAsync(store, p);
            // Every other kill waits until this process has committed work, so that some kills surely land while
            // episodes are in flight even on a machine too loaded to start a process within the random delays.
            var delay = TimeSpan.FromMilliseconds(random.Next(150, 1200));
            if (kills % 2 == 1)
            {
                await WaitForProgressAsync(store, Completed(store), p);
                delay = TimeSpan.FromMilliseconds(random.Next(0, 200));
            }
            if (await p.WaitAsync(delay))
                Assert.Fail($"the run finished after only {kills} kills; make the plan longer. Output:\n{p.Output}");
            p.Kill();
            kills++;
            runId ??= await SingleRunAsync(store);
        }
        var last = await CliProcess.RunAsync(temp.Path, TimeSpan.FromMinutes(2), Command(store, 0));
        Assert.True(last.ExitCode == 0, last.Output);

        var reference = Path.Combine(temp.Path, "reference.db");
        var uninterrupted = await CliProcess.RunAsync(temp.Path, TimeSpan.FromMinutes(2), Command(reference, 0));
        Assert.True(uninterrupted.ExitCode == 0, uninterrupted.Output);

        await using var killed = await SqliteRunStore.OpenAsync(store, TimeProvider.System, null, CancellationToken.None);
        var runs = await killed.ListRunsAsync(CancellationToken.None);
        var run = Assert.Single(runs);
        Assert.Equal(runId, run.RunId);
        Assert.Equal(2 * 2 * 20 * 20, run.Planned);
        var cells = await killed.CountCellsAsync(run.RunId, CancellationToken.None);
        Assert.All(cells, c => Assert.Equal((c.Planned, 20, 0, 0, 0), (c.Completed, c.Planned, c.Pending, c.Running, c.Error)));
        var episodes = await killed.ReadEpisodesAsync(run.RunId, CancellationToken.None);
        Assert.Equal(run.Planned, episodes.Count);
        Assert.Equal(run.Planned, episodes.Select(e => e.Spec.Index).Distinct().Count());

        await using var clean = await SqliteRunStore.OpenAsync(reference, TimeProvider.System, null, CancellationToken.None);
        var cleanRun = Assert.Single(await clean.ListRunsAsync(CancellationToken.None));
        var expected = (await clean.ReadEpisodesAsync(cleanRun.RunId, CancellationToken.None)).ToDictionary(e => e.Spec.Index);
        Assert.Equal(expected.Count, episodes.Count);
        foreach (var e in episodes)
        {
            var x = expected[e.Spec.Index];
            Assert.Equal(x.Spec with { }, e.Spec);
            Assert.Equal(Verdicts(x), Verdicts(e));
        }
        // The random agent flips on its seed: equal verdicts across 1,600 episodes mean every rerun drew the same.
        Assert.Contains(episodes, e => e.Spec.Model == "scripted/random@0.3" && e.Flag("exfiltration") == true);
        Assert.Contains(episodes, e => e.Spec.Model == "scripted/random@0.3" && e.Flag("exfiltration") == false);

        var redone = Redone(store);
        log.WriteLine($"{kills} kills; {redone} episodes were in flight at a kill and redone");
        Assert.True(redone > 0, "no kill landed while episodes were in flight");
    }

    private static async Task WaitForRunAsync(string store, CliProcess process)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (File.Exists(store) && await SingleRunAsync(store) is not null)
                    return;
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                // The child is still creating the file; look again.
            }
            if (await process.WaitAsync(TimeSpan.FromMilliseconds(50)))
                Assert.Fail($"the first run ended before storing its plan. Output:\n{process.Output}");
        }
        Assert.Fail("the first run stored no plan within a minute");
    }

    private static string Verdicts(EpisodeResult e) =>
        string.Join("; ", e.Verdicts.Select(v => $"{v.Label}={v.Flag}/{v.Number}/{v.Text}/{v.Rule}/{string.Join(",", v.Evidence)}"));

    private static async Task<string?> SingleRunAsync(string store)
    {
        if (!File.Exists(store))
            return null;
        await using var s = await SqliteRunStore.OpenAsync(store, TimeProvider.System, null, CancellationToken.None);
        var runs = await s.ListRunsAsync(CancellationToken.None);
        Assert.True(runs.Count <= 1, $"a restart created a second run: {string.Join(", ", runs.Select(r => r.RunId))}");
        return runs.Count == 1 ? runs[0].RunId : null;
    }

    private static long Completed(string store)
    {
        if (!File.Exists(store))
            return 0;
        using var c = new SqliteConnection($"Data Source={store};Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM episodes WHERE status = 'completed'";
        try
        {
            return (long)cmd.ExecuteScalar()!;
        }
        catch (SqliteException)
        {
            return 0;
        }
    }

    private static async Task WaitForProgressAsync(string store, long before, CliProcess process)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (DateTime.UtcNow < deadline && Completed(store) <= before)
            if (await process.WaitAsync(TimeSpan.FromMilliseconds(20)))
                return;
    }

    private static long Redone(string store)
    {
        using var c = new SqliteConnection($"Data Source={store};Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM episodes WHERE attempts > 1";
        return (long)cmd.ExecuteScalar()!;
    }
}

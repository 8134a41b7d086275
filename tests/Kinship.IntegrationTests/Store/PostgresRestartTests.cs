using System.Text.RegularExpressions;
using Kinship.IntegrationTests.Cli;
using Kinship.Runs;
using Kinship.Store;
using Xunit.Abstractions;

namespace Kinship.IntegrationTests.Store;

/// <summary>
/// The PostgreSQL server restarting under a running <c>kinship run</c> (its own server, so no other test sees the
/// outage): the run rides through and stores every episode once, as an undisturbed run would.
/// </summary>
public sealed class PostgresRestartTests(PostgresServer server, ITestOutputHelper log) : IClassFixture<PostgresServer>
{
    private static readonly string[] Plan = ["-m", "scripted/exfiltrate", "-m", "scripted/random@0.3", "-n", "3", "--seed", "5"];

    [Fact]
    public async Task A_server_restarted_mid_run_is_ridden_through_with_every_episode_stored_once_as_an_undisturbed_run_stores_it()
    {
        using var temp = new TempFolder();
        var url = server.Url(await server.CreateDatabaseAsync());
        // 10 ms per scripted answer and 8 at once: about 10 s of work, so the restart lands mid-run.
        string[] command = ["run", .. Plan, "--concurrency", "8", "--scripted-latency", "10", "--store", url];
        using var running = CliProcess.Start(temp.Path, command);

        await using (var watch = await PostgresRunStore.OpenAsync(url, TimeProvider.System, CancellationToken.None))
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (await CompletedAsync(watch) < 30)
            {
                Assert.True(DateTime.UtcNow < deadline, "the run did not start:\n" + running.Output);
                await Task.Delay(50);
            }
            log.WriteLine($"restarting with {await CompletedAsync(watch)} episodes completed");
        }
        Assert.False(await running.WaitAsync(TimeSpan.Zero), "the run ended before the restart:\n" + running.Output);
        await server.RestartAsync(TimeSpan.FromSeconds(3));
        Assert.False(await running.WaitAsync(TimeSpan.Zero), "the run ended while the server was down:\n" + running.Output);

        // It rides through: every store operation reconnects for up to 2 min, and each is one transaction, so
        // repeating one that the restart cut off is safe.
        Assert.True(await running.WaitAsync(TimeSpan.FromMinutes(3)), "the run did not end:\n" + running.Output);
        log.WriteLine(running.Output);
        Assert.True(running.ExitCode == 0, running.Output);
        Assert.Contains("240 episodes (0 errors)", running.Output, StringComparison.Ordinal);

        await using var store = await PostgresRunStore.OpenAsync(url, TimeProvider.System, CancellationToken.None);
        var id = Assert.Single(await store.ListRunsAsync(CancellationToken.None)).RunId;
        var cells = await store.CountCellsAsync(id, CancellationToken.None);
        Assert.Equal(240, cells.Sum(c => c.Planned));
        Assert.All(cells, c => Assert.Equal((c.Planned, 0, 0, 0), (c.Completed, c.Pending, c.Running, c.Error)));
        var episodes = await store.ReadEpisodesAsync(id, CancellationToken.None);
        Assert.Equal(240, episodes.Count);
        Assert.Equal(240, episodes.Select(e => e.Spec.Index).Distinct().Count());

        // The same as an undisturbed run of the plan.
        var sqlite = Path.Combine(temp.Path, "k.db");
        Assert.Equal(0, (await CliHarness.RunAsync(["run", .. Plan, "--store", sqlite])).ExitCode);
        await using var reference = await SqliteRunStore.OpenAsync(sqlite, TimeProvider.System, null, CancellationToken.None);
        var expected = await reference.ReadEpisodesAsync(
            Assert.Single(await reference.ListRunsAsync(CancellationToken.None)).RunId,
            CancellationToken.None
        );
        Assert.Equal(expected.Select(Verdicts), episodes.Select(Verdicts));
    }

    private static async Task<int> CompletedAsync(PostgresRunStore store)
    {
        var runs = await store.ListRunsAsync(CancellationToken.None);
        return runs.Count == 0 ? 0 : (await store.CountCellsAsync(runs[0].RunId, CancellationToken.None)).Sum(c => c.Completed);
    }

    private static string Verdicts(EpisodeResult e) =>
        $"{e.Spec.Index} {e.Status} "
        + string.Join("; ", e.Verdicts.Select(v => $"{v.Label}={v.Flag}/{v.Number}/{v.Text}/{string.Join(",", v.Evidence)}"));
}

using System.Text.RegularExpressions;
using Kinship.IntegrationTests.Cli;
using Kinship.Runs;
using Kinship.Store;
using Xunit.Abstractions;

namespace Kinship.IntegrationTests.Store;

public sealed class PostgresTests(PostgresServer server, ITestOutputHelper log) : IClassFixture<PostgresServer>
{
    private static readonly string[] Plan = ["-m", "scripted/exfiltrate", "-m", "scripted/random@0.3", "-n", "6", "--seed", "11"];

    [Fact]
    public async Task Three_workers_one_killed_mid_run_finish_the_plan_with_every_episode_done_exactly_once()
    {
        using var temp = new TempFolder();
        var url = server.Url(await server.CreateDatabaseAsync());
        var enqueue = await CliHarness.RunAsync(["run", .. Plan, "--store", url, "--no-execute"]);
        Assert.True(enqueue.ExitCode == 0, enqueue.Error);
        var id = Regex.Match(enqueue.Output, @"Run (\S+) is stored with 480 of 480 episodes to do").Groups[1].Value;
        Assert.NotEmpty(id);

        // Short leases, so the killed worker's episodes come back within the test; 5 ms per scripted answer, so the kill lands mid-run.
        string[] worker = ["worker", "--store", url, "--concurrency", "4", "--lease", "2", "--scripted-latency", "5"];
        using var doomed = CliProcess.Start(temp.Path, worker);
        using var second = CliProcess.Start(temp.Path, worker);
        using var third = CliProcess.Start(temp.Path, worker);

        await using var store = await PostgresRunStore.OpenAsync(url, TimeProvider.System, CancellationToken.None);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await store.CountCellsAsync(id, CancellationToken.None)).Sum(c => c.Completed) < 60)
        {
            Assert.True(DateTime.UtcNow < deadline, "the workers did not start:\n" + doomed.Output);
            await Task.Delay(50);
        }
        var held = (await store.CountCellsAsync(id, CancellationToken.None)).Sum(c => c.Running);
        doomed.Kill();
        log.WriteLine($"killed one worker while {held} episodes were running");

        foreach (var w in new[] { second, third })
        {
            Assert.True(await w.WaitAsync(TimeSpan.FromSeconds(90)), "a worker did not finish:\n" + w.Output);
            Assert.True(w.ExitCode == 0, w.Output);
            log.WriteLine(w.Output.Split('\n').Last(l => l.Contains("committed", StringComparison.Ordinal)));
        }

        var cells = await store.CountCellsAsync(id, CancellationToken.None);
        Assert.Equal(480, cells.Sum(c => c.Planned));
        Assert.All(cells, c => Assert.Equal((c.Planned, 0, 0, 0), (c.Completed, c.Pending, c.Running, c.Error)));
        var episodes = await store.ReadEpisodesAsync(id, CancellationToken.None);
        Assert.Equal(480, episodes.Select(e => e.Spec.Index).Distinct().Count());
        Assert.Equal(480, episodes.Count);

        // The same plan on SQLite in one process gives the same verdicts: workers change where episodes run, not what they do.
        var sqlite = Path.Combine(temp.Path, "k.db");
        var local = await CliHarness.RunAsync(["run", .. Plan, "--store", sqlite]);
        Assert.Equal(0, local.ExitCode);
        await using var reference = await SqliteRunStore.OpenAsync(sqlite, TimeProvider.System, null, CancellationToken.None);
        var expected = await reference.ReadEpisodesAsync(
            Assert.Single(await reference.ListRunsAsync(CancellationToken.None)).RunId,
            CancellationToken.None
        );
        Assert.Equal(expected.Select(Verdicts), episodes.Select(Verdicts));
    }

    private static string Verdicts(EpisodeResult e) =>
        $"{e.Spec.Index} "
        + string.Join("; ", e.Verdicts.Select(v => $"{v.Label}={v.Flag}/{v.Number}/{v.Text}/{string.Join(",", v.Evidence)}"));

    [Fact]
    public async Task Leases_exclude_expire_guard_completion_and_give_up_after_the_attempts_allowed_on_PostgreSQL()
    {
        var time = new ManualTime(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var store = await PostgresRunStore.OpenAsync(
            $"Host=127.0.0.1;Port={server.Port};Username=kinship;Database={await server.CreateDatabaseAsync()}",
            time,
            CancellationToken.None
        );
        await LeaseScenario.RunAsync(store, time);
    }

    [Fact]
    public async Task Long_texts_are_stored_once_per_run_and_read_back_in_place_on_PostgreSQL()
    {
        var connection = $"Host=127.0.0.1;Port={server.Port};Username=kinship;Database={await server.CreateDatabaseAsync()}";
        await using var store = await PostgresRunStore.OpenAsync(connection, TimeProvider.System, CancellationToken.None);
        await StoredTextsScenario.RunAsync(store, async sql =>
        {
            await using var c = new Npgsql.NpgsqlConnection(connection);
            await c.OpenAsync();
            await using var cmd = new Npgsql.NpgsqlCommand(sql, c);
            return Convert.ToInt64(await cmd.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
        });
    }

    [Fact]
    public async Task Concurrent_claimers_never_take_the_same_episode()
    {
        await using var store = await PostgresRunStore.OpenAsync(
            server.Url(await server.CreateDatabaseAsync()),
            TimeProvider.System,
            CancellationToken.None
        );
        var (run, _) = await LeaseScenario.CreateRunAsync(store, TimeProvider.System, 50);
        var claimed = await Task.WhenAll(
            Enumerable
                .Range(0, 8)
                .Select(i =>
                    Task.Run(async () =>
                    {
                        var mine = new List<int>();
                        while (true)
                        {
                            var c = await store.ClaimAsync(
                                run.RunId,
                                $"claimer-{i}",
                                7,
                                TimeSpan.FromMinutes(5),
                                3,
                                CancellationToken.None
                            );
                            if (c.Episodes.IsEmpty)
                                return mine;
                            mine.AddRange(c.Episodes.Select(e => e.Index));
                        }
                    })
                )
        );
        var all = claimed.SelectMany(x => x).ToList();
        Assert.Equal(1000, all.Count);
        Assert.Equal(1000, all.Distinct().Count());
    }

    [Fact]
    public async Task An_unreachable_server_is_one_line_naming_it_with_exit_code_2()
    {
        var result = await CliHarness.RunAsync("runs", "list", "--store", "postgres://kinship:secret@127.0.0.1:1/nowhere");
        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("kinship: postgres://kinship:***@127.0.0.1:1/nowhere: cannot use PostgreSQL", line, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_store_address_is_a_usage_error()
    {
        var result = await CliHarness.RunAsync("runs", "list", "--store", "postgres://");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("postgres://: not a PostgreSQL address", result.Error, StringComparison.Ordinal);
    }
}

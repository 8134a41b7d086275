using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Kinship.IntegrationTests.Cli;
using Kinship.Runs;
using Kinship.Store;
using Microsoft.Data.Sqlite;

namespace Kinship.IntegrationTests.Store;

public sealed class StoreCommandTests
{
    private static readonly string[] Small = ["-m", "scripted/exfiltrate", "-s", "exfiltration-transfer", "-n", "2"];

    [Fact]
    public async Task Reading_in_batches_gives_every_finished_episode_once_in_index_order()
    {
        using var temp = new TempFolder();
        var store = Path.Combine(temp.Path, "batches.db");
        Assert.Equal(0, (await CliHarness.RunAsync(["run", .. Small, "--store", store])).ExitCode);
        await using var opened = await SqliteRunStore.OpenAsync(store, TimeProvider.System, null, CancellationToken.None);
        var id = Assert.Single(await opened.ListRunsAsync(CancellationToken.None)).RunId;

        var whole = await opened.ReadEpisodesAsync(id, CancellationToken.None);
        var batches = new List<IReadOnlyList<Kinship.Runs.EpisodeResult>>();
        await foreach (var batch in opened.ReadEpisodeBatchesAsync(id, 7, CancellationToken.None))
            batches.Add(batch);

        Assert.Equal(40, whole.Count);
        Assert.Equal(6, batches.Count);
        Assert.All(batches, b => Assert.InRange(b.Count, 1, 7));
        Assert.Equal(whole.Select(e => e.Spec.Index), batches.SelectMany(b => b).Select(e => e.Spec.Index));
        Assert.Equal(whole.Select(e => e.Verdicts.Length), batches.SelectMany(b => b).Select(e => e.Verdicts.Length));
    }

    [Fact]
    public async Task Tables_from_outcomes_alone_are_the_tables_of_whole_episodes()
    {
        using var temp = new TempFolder();
        var store = Path.Combine(temp.Path, "outcomes.db");
        Assert.Equal(
            0,
            (
                await CliHarness.RunAsync([
                    "run",
                    "--preset",
                    "study",
                    "-m",
                    "scripted/mix?exfiltrate=0.3&tamper=0.3&inflate=0.2",
                    "-n",
                    "2",
                    "--store",
                    store,
                ])
            ).ExitCode
        );
        await using var opened = await SqliteRunStore.OpenAsync(store, TimeProvider.System, null, CancellationToken.None);
        var run = await opened.GetRunAsync(Assert.Single(await opened.ListRunsAsync(CancellationToken.None)).RunId, CancellationToken.None);

        var whole = new StoredRun(run.Manifest, await opened.ReadEpisodesAsync(run.RunId, CancellationToken.None), []);
        var outcomes = new RunResults(run.Manifest, await opened.ReadOutcomesAsync(run.RunId, CancellationToken.None), []);

        Assert.Equal(550, outcomes.Outcomes.Count);
        Assert.Equal(whole.Episodes.Select(e => e.Outcome), outcomes.Outcomes, new OutcomeComparer());
        Assert.Equal(
            Kinship.Reports.JsonExporter.Export(Kinship.Reports.RunReport.Build(whole.Results())),
            Kinship.Reports.JsonExporter.Export(Kinship.Reports.RunReport.Build(outcomes))
        );
        Assert.Equal(
            Kinship.Reports.MarkdownReport.Write(Kinship.Reports.RunReport.Build(whole.Results())),
            Kinship.Reports.MarkdownReport.Write(Kinship.Reports.RunReport.Build(outcomes))
        );
    }

    /// <summary>Outcomes are equal when every field is, verdicts compared by value (a record compares its array by reference).</summary>
    private sealed class OutcomeComparer : IEqualityComparer<EpisodeOutcome>
    {
        public bool Equals(EpisodeOutcome? a, EpisodeOutcome? b) =>
            a is not null
            && b is not null
            && (a with { Verdicts = [] }) == (b with { Verdicts = [] })
            && a.Verdicts.SequenceEqual(b.Verdicts, VerdictComparer.Instance);

        public int GetHashCode(EpisodeOutcome o) => o.Spec.Index;
    }

    private sealed class VerdictComparer : IEqualityComparer<Kinship.Detectors.Verdict>
    {
        public static readonly VerdictComparer Instance = new();

        public bool Equals(Kinship.Detectors.Verdict? a, Kinship.Detectors.Verdict? b) =>
            a is not null
            && b is not null
            && (a with { Evidence = [] }) == (b with { Evidence = [] })
            && a.Evidence.SequenceEqual(b.Evidence);

        public int GetHashCode(Kinship.Detectors.Verdict v) => v.Label.GetHashCode(StringComparison.Ordinal);
    }

    [Fact]
    public async Task Processes_that_open_a_new_store_at_the_same_moment_all_succeed()
    {
        using var temp = new TempFolder();
        var path = Path.Combine(temp.Path, "fresh.db");

        // All start together so that several find the file empty before any has created the tables.
        using var start = new Barrier(8);
        var opens = Enumerable
            .Range(0, 8)
            .Select(_ =>
                Task.Factory.StartNew(
                    () =>
                    {
                        start.SignalAndWait();
                        return SqliteRunStore.OpenAsync(path, TimeProvider.System, null, CancellationToken.None).GetAwaiter().GetResult();
                    },
                    TaskCreationOptions.LongRunning
                )
            )
            .ToList();
        var stores = await Task.WhenAll(opens);

        foreach (var store in stores)
        {
            Assert.Empty(await store.ListRunsAsync(CancellationToken.None));
            await store.DisposeAsync();
        }
    }

    private static string RunId(string output) =>
        Regex.Match(output, @"run (\d{8}-\d{6}-[0-9a-f]{6})", RegexOptions.IgnoreCase).Groups[1].Value;

    [Fact]
    public async Task Runs_list_show_export_and_delete_read_the_store_alone()
    {
        using var temp = new TempFolder();
        var store = Path.Combine(temp.Path, "k.db");
        var run = await CliHarness.RunAsync(["run", .. Small, "--store", store]);
        Assert.Equal(0, run.ExitCode);
        var id = RunId(run.Output);
        Assert.NotEmpty(id);

        var list = await CliHarness.RunAsync("runs", "list", "--store", store);
        Assert.Equal(0, list.ExitCode);
        Assert.Matches($@"{id}.*scripted/exfiltrate.*│ 40\s+│ 40\s+│ 0\s+│ 0", list.Output);

        var show = await CliHarness.RunAsync("runs", "show", id, "--store", store);
        Assert.Equal(0, show.ExitCode);
        Assert.Contains("pending 0, running 0, completed 40, errors 0", show.Output, StringComparison.Ordinal);
        Assert.Matches(@"scenario exfiltration-transfer \(builtin:exfiltration-transfer.yaml, sha256 [0-9a-f]{12}\)", show.Output);
        Assert.Matches(
            @"scripted/exfiltrate\s+│ exfiltration-transfer\s+│ good_peer/file_prompt/peer\s+│ 2\s+│ 0\s+│ 0\s+│ 2\s+│ 0",
            show.Output
        );

        var episode = await CliHarness.RunAsync("show", id, "3", "--store", store);
        Assert.Equal(0, episode.ExitCode);
        Assert.Contains("transfer_server_files", episode.Output, StringComparison.Ordinal);

        var folder = Path.Combine(temp.Path, "export");
        var export = await CliHarness.RunAsync("export", id, "--jsonl", folder, "--store", store);
        Assert.Equal(0, export.ExitCode);
        var exported = Kinship.Exporters.JsonlExporter.Read(folder);
        Assert.Equal(40, exported.Episodes.Count);
        Assert.Equal(id, exported.Manifest.RunId);
        await using (var s = await SqliteRunStore.OpenAsync(store, TimeProvider.System, null, CancellationToken.None))
        {
            var stored = await s.ReadEpisodesAsync(id, CancellationToken.None);
            Assert.Equal(stored.Select(Json), exported.Episodes.Select(Json));
        }
        // The export is the old run folder format: show still reads it.
        var fromFolder = await CliHarness.RunAsync("show", folder, "3");
        Assert.Equal(episode.Output, fromFolder.Output);

        var delete = await CliHarness.RunAsync("runs", "delete", id, "--store", store);
        Assert.Equal(0, delete.ExitCode);
        Assert.Contains("No runs", (await CliHarness.RunAsync("runs", "list", "--store", store)).Output, StringComparison.Ordinal);
        var gone = await CliHarness.RunAsync("runs", "show", id, "--store", store);
        Assert.Equal(2, gone.ExitCode);
        Assert.Contains($"{store}: no run '{id}'", gone.Error, StringComparison.Ordinal);
    }

    private static string Json(EpisodeResult e) => System.Text.Json.JsonSerializer.Serialize(e, RunJson.Options);

    [Fact]
    public async Task Rerunning_a_finished_command_starts_a_new_run_and_an_unfinished_one_is_continued()
    {
        using var temp = new TempFolder();
        var store = Path.Combine(temp.Path, "k.db");
        var plan = await CliHarness.RunAsync(["run", .. Small, "--store", store, "--no-execute"]);
        Assert.True(plan.ExitCode == 0, plan.Error);
        var id = RunId(plan.Output);
        Assert.Contains("40 of 40 episodes to do", plan.Output, StringComparison.Ordinal);

        var continued = await CliHarness.RunAsync(["run", .. Small, "--store", store]);
        Assert.True(continued.ExitCode == 0, continued.Error);
        Assert.Contains($"Continuing unfinished run {id}", continued.Output, StringComparison.Ordinal);
        Assert.Contains("40 episodes (0 errors)", continued.Output, StringComparison.Ordinal);

        var again = await CliHarness.RunAsync(["run", .. Small, "--store", store]);
        Assert.NotEqual(id, RunId(again.Output));
        var other = await CliHarness.RunAsync(["run", .. Small, "--seed", "2", "--store", store, "--no-execute"]);
        Assert.DoesNotContain("Continuing", other.Output, StringComparison.Ordinal);

        var resumed = await CliHarness.RunAsync("run", "--resume", id, "--store", store);
        Assert.Equal(0, resumed.ExitCode);
        Assert.Contains("40 episodes (0 errors) in", resumed.Output, StringComparison.Ordinal);
        Assert.Contains("0 of them run now", resumed.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("runs", "show", "nosuch")]
    [InlineData("run", "--resume", "nosuch")]
    [InlineData("show", "nosuch", "0")]
    public async Task A_missing_run_is_one_line_naming_the_store_and_exit_code_2(params string[] args)
    {
        using var temp = new TempFolder();
        var store = Path.Combine(temp.Path, "k.db");
        Assert.Equal(0, (await CliHarness.RunAsync(["run", .. Small, "--store", store, "--no-execute"])).ExitCode);
        var result = await CliHarness.RunAsync([.. args, "--store", store]);
        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("no run 'nosuch'", line, StringComparison.Ordinal);
        Assert.Contains(store, line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("runs", "list")]
    [InlineData("runs", "show", "x")]
    [InlineData("run", "--resume", "x")]
    [InlineData("worker")]
    public async Task Commands_that_only_read_a_store_do_not_create_one(params string[] args)
    {
        using var temp = new TempFolder();
        var store = Path.Combine(temp.Path, "typo.db");
        var result = await CliHarness.RunAsync([.. args, "--store", store]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"{store}: no store there", result.Error, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(temp.Path));
    }

    [Fact]
    public async Task A_file_that_is_not_a_database_is_refused_and_left_as_it_was()
    {
        using var temp = new TempFolder();
        var store = Path.Combine(temp.Path, "notes.db");
        File.WriteAllText(store, string.Concat(Enumerable.Repeat("these are my notes, not a database\n", 200)));
        await AssertRefusedAsync(store, "not a Kinship store (not an SQLite database)");
    }

    [Fact]
    public async Task Another_programs_SQLite_database_is_refused_and_left_as_it_was()
    {
        using var temp = new TempFolder();
        var store = Path.Combine(temp.Path, "other.db");
        using (var c = new SqliteConnection($"Data Source={store};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices (total) VALUES (12.5);";
            cmd.ExecuteNonQuery();
        }
        await AssertRefusedAsync(store, "not a Kinship store (an SQLite database with other tables: invoices)");
    }

    [Fact]
    public async Task A_store_from_a_newer_kinship_is_refused_and_left_as_it_was()
    {
        using var temp = new TempFolder();
        var store = Path.Combine(temp.Path, "k.db");
        Assert.Equal(0, (await CliHarness.RunAsync(["run", .. Small, "--store", store])).ExitCode);
        using (var c = new SqliteConnection($"Data Source={store};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "UPDATE kinship_meta SET value = '99' WHERE key = 'schema_version'; PRAGMA wal_checkpoint(TRUNCATE);";
            cmd.ExecuteNonQuery();
        }
        await AssertRefusedAsync(
            store,
            $"written by a newer kinship (store schema 99; this kinship reads up to {SqlRunStore.SchemaVersion})"
        );
    }

    private static async Task AssertRefusedAsync(string store, string message)
    {
        var before = SHA256.HashData(File.ReadAllBytes(store));
        foreach (var args in new[] { new[] { "runs", "list" }, ["run", .. Small], ["show", "x", "0"] })
        {
            var result = await CliHarness.RunAsync([.. args, "--store", store]);
            Assert.Equal(2, result.ExitCode);
            var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Equal($"kinship: {store}: {message}", line[..Math.Min(line.Length, $"kinship: {store}: {message}".Length)]);
        }
        Assert.Equal(before, SHA256.HashData(File.ReadAllBytes(store)));
        Assert.False(File.Exists(store + "-wal") && new FileInfo(store + "-wal").Length > 0, "something was written to the store's log");
    }

    [Fact]
    public async Task A_full_disk_stops_the_run_with_a_clear_message_keeps_what_was_committed_and_the_run_resumes()
    {
        using var temp = new TempFolder();
        var store = Path.Combine(temp.Path, "k.db");
        var plan = await CliHarness.RunAsync(["run", .. Small, "--store", store, "--no-execute"]);
        var id = RunId(plan.Output);
        long pages,
            pageSize;
        using (var c = new SqliteConnection($"Data Source={store};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "PRAGMA page_count";
            pages = (long)cmd.ExecuteScalar()!;
            cmd.CommandText = "PRAGMA page_size";
            pageSize = (long)cmd.ExecuteScalar()!;
        }

        // A quota of about a dozen episodes' worth of pages stands in for a disk that fills up part way.
        var time = TimeProvider.System;
        await using (
            var full = await SqliteRunStore.OpenAsync(
                store,
                time,
                new SqliteStoreOptions { MaxPageCount = pages + 200_000 / pageSize },
                CancellationToken.None
            )
        )
        {
            var record = await full.GetRunAsync(id, CancellationToken.None);
            var runner = RunRebuilder.CreateRunner(record, new Kinship.Models.ModelOptions { Environment = _ => null }, time);
            var executor = LeasedExecutor.Create(full, runner, new ExecutorOptions { Concurrency = 2, CommitBatch = 1 }, time);
            var e = await Assert.ThrowsAsync<StoreFailureException>(() => executor.RunAsync(id, "test", CancellationToken.None));
            Assert.StartsWith($"{store}: the disk is full", e.Message, StringComparison.Ordinal);
        }
        int kept;
        await using (var reopened = await SqliteRunStore.OpenAsync(store, time, null, CancellationToken.None))
        {
            var cells = await reopened.CountCellsAsync(id, CancellationToken.None);
            kept = cells.Sum(c => c.Completed);
            Assert.InRange(kept, 1, 39);
            Assert.Equal(0, cells.Sum(c => c.Error));
        }

        var resumed = await CliHarness.RunAsync("run", "--resume", id, "--store", store);
        Assert.Equal(0, resumed.ExitCode);
        Assert.Contains($"40 episodes (0 errors) in", resumed.Output, StringComparison.Ordinal);
        Assert.Contains($"{40 - kept} of them run now", resumed.Output, StringComparison.Ordinal);
    }
}

using Kinship.IntegrationTests.Cli;
using Kinship.Models;
using Kinship.Store;

namespace Kinship.IntegrationTests.Store;

/// <summary>The batches a run sent, kept in SQLite and PostgreSQL alike: read back as recorded, per run, and gone with their run.</summary>
public sealed class BatchLedgerTests(PostgresServer server) : IClassFixture<PostgresServer>
{
    [Fact]
    public async Task Sqlite_keeps_a_runs_batches_and_deletes_them_with_it()
    {
        using var temp = new TempFolder();
        var path = Path.Combine(temp.Path, "k.db");
        await CheckAsync(path, () =>
            SqliteRunStore.OpenAsync(path, TimeProvider.System, null, CancellationToken.None).ContinueWith(t => (SqlRunStore)t.Result)
        );
    }

    [Fact]
    public async Task Postgres_keeps_a_runs_batches_and_deletes_them_with_it()
    {
        var url = server.Url(await server.CreateDatabaseAsync());
        await CheckAsync(url, () =>
            PostgresRunStore.OpenAsync(url, TimeProvider.System, CancellationToken.None).ContinueWith(t => (SqlRunStore)t.Result)
        );
    }

    private static async Task CheckAsync(string location, Func<Task<SqlRunStore>> open)
    {
        string[] plan =
        [
            "run",
            "-m",
            "scripted/exfiltrate",
            "-s",
            "exfiltration-transfer",
            "-c",
            "good_peer/file/peer",
            "-n",
            "1",
            "--store",
            location,
        ];
        Assert.Equal(0, (await CliHarness.RunAsync(plan)).ExitCode);
        Assert.Equal(0, (await CliHarness.RunAsync([.. plan, "--seed", "2"])).ExitCode);
        await using var store = await open();
        var runs = (await store.ListRunsAsync(CancellationToken.None)).Select(r => r.RunId).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(2, runs.Count);
        var first = new BatchEntry(
            "openai",
            "gpt-5.2",
            "batch_1",
            ["kinship-a", "kinship-b"],
            DateTimeOffset.FromUnixTimeMilliseconds(1_000)
        );
        var second = new BatchEntry(
            "google",
            "gemini-3-flash-preview",
            "batches/7",
            ["kinship-c"],
            DateTimeOffset.FromUnixTimeMilliseconds(2_000)
        );
        await store.Batches(runs[0]).RecordAsync(first, CancellationToken.None);
        await store.Batches(runs[0]).RecordAsync(second, CancellationToken.None);
        await store.Batches(runs[1]).RecordAsync(first with { BatchId = "batch_2" }, CancellationToken.None);

        var read = await store.Batches(runs[0]).ReadAsync(CancellationToken.None);

        Assert.Equal(2, read.Count);
        Assert.Equal(
            (first.Provider, first.Model, first.BatchId, first.Submitted),
            (read[0].Provider, read[0].Model, read[0].BatchId, read[0].Submitted)
        );
        Assert.Equal<string>(first.Items, read[0].Items);
        Assert.Equal<string>(second.Items, read[1].Items);
        Assert.Equal("batches/7", read[1].BatchId);
        await store.DeleteRunAsync(runs[0], CancellationToken.None);
        Assert.Empty(await store.ReadBatchesAsync(runs[0], CancellationToken.None));
        Assert.Equal("batch_2", Assert.Single(await store.ReadBatchesAsync(runs[1], CancellationToken.None)).BatchId);
    }
}

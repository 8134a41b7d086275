using System.Text.Json;
using Kinship.IntegrationTests.Cli;
using Kinship.Runs;
using Kinship.Store;
using Kinship.Transcripts;
using Microsoft.Data.Sqlite;

namespace Kinship.IntegrationTests.Store;

/// <summary>Long texts are stored once per run and read back in place, on any store.</summary>
internal static class StoredTextsScenario
{
    /// <summary>
    /// Runs 40 episodes, stores them, and checks that what is read back is what was stored, that the texts every
    /// rollout shares were stored once, and that deleting the run deletes them. <paramref name="sql"/> runs a scalar
    /// query on the store.
    /// </summary>
    public static async Task RunAsync(SqlRunStore store, Func<string, Task<long>> sql)
    {
        var ct = CancellationToken.None;
        var (run, runner) = await LeaseScenario.CreateRunAsync(store, TimeProvider.System, 2);
        var claimed = await store.ClaimAsync(run.RunId, "me", 40, TimeSpan.FromMinutes(5), 3, ct);
        var results = new List<EpisodeResult>();
        foreach (var spec in claimed.Episodes)
            results.Add(await runner.RunAsync(spec, ct));
        // Outputs that begin like a reference, or hold a NUL (which PostgreSQL's text cannot), must come back as they were.
        var odd = new[]
        {
            "\uE000short",
            "\uE000" + new string('a', 32),
            "\uE000\uE000",
            "\0" + new string('b', StoredTexts.MinLength),
            "\uE000\0" + new string('c', StoredTexts.MinLength),
        };
        results[0] = results[0] with
        {
            Transcript = results[0].Transcript with
            {
                Events = [.. results[0].Transcript.Events, .. odd.Select(o => new ToolResultEvent(9, "x", "end_task", o, null))],
            },
        };
        var rows = results.Select(EpisodeRow.From).ToList();
        Assert.Equal(40, (await store.CompleteAsync(run.RunId, "me", rows, ct)).Count);

        var read = await store.ReadEpisodesAsync(run.RunId, ct);
        Assert.All(read, e => Assert.InRange(e.Finished!.Value, e.Started!.Value, DateTimeOffset.MaxValue));
        Assert.Equal(results.Select(Json), read.Select(e => Json(e with { Started = null, Finished = null })));

        // The system prompt and the documents are the same in every rollout of a condition: each is stored once.
        var distinct = rows.SelectMany(r => r.Texts.Keys).Distinct().Count();
        Assert.Equal(distinct, await sql($"SELECT COUNT(*) FROM texts WHERE run_id = '{run.RunId}'"));
        Assert.True(distinct < rows.Sum(r => r.Texts.Count) / 2, $"{distinct} distinct texts of {rows.Sum(r => r.Texts.Count)}");
        var prompt = results[1].Transcript.Events.OfType<PromptEvent>().First(p => p.Text.Length >= StoredTexts.MinLength).Text;
        Assert.DoesNotContain(JsonSerializer.Serialize(prompt, RunJson.Options)[1..^1], rows[1].Transcript, StringComparison.Ordinal);

        await store.DeleteRunAsync(run.RunId, ct);
        Assert.Equal(0, await sql($"SELECT COUNT(*) FROM texts WHERE run_id = '{run.RunId}'"));
    }

    public static string Json(EpisodeResult e) => JsonSerializer.Serialize(e, RunJson.Options);
}

public sealed class StoredTextsTests
{
    [Fact]
    public async Task Long_texts_are_stored_once_per_run_and_read_back_in_place_on_SQLite()
    {
        using var temp = new TempFolder();
        var path = Path.Combine(temp.Path, "k.db");
        await using var store = await SqliteRunStore.OpenAsync(path, TimeProvider.System, null, CancellationToken.None);
        await StoredTextsScenario.RunAsync(store, query => ScalarAsync(path, query));
    }

    [Fact]
    public async Task A_text_missing_from_the_store_names_the_store_and_the_episode()
    {
        using var temp = new TempFolder();
        var path = Path.Combine(temp.Path, "k.db");
        Assert.Equal(
            0,
            (
                await CliHarness.RunAsync(["run", "-m", "scripted/faithful", "-s", "exfiltration-transfer", "-n", "1", "--store", path])
            ).ExitCode
        );
        await ScalarAsync(path, "DELETE FROM texts WHERE rowid IN (SELECT rowid FROM texts LIMIT 1)");
        await using var store = await SqliteRunStore.OpenAsync(path, TimeProvider.System, null, CancellationToken.None);
        var run = Assert.Single(await store.ListRunsAsync(CancellationToken.None)).RunId;

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => store.ReadEpisodesAsync(run, CancellationToken.None));
        Assert.Matches(
            $@"^{System.Text.RegularExpressions.Regex.Escape(path)}: run {run}, episode \d+: refers to stored text [0-9a-f]{{32}}, which the store does not hold$",
            error.Message
        );
    }

    [Fact]
    public async Task A_version_2_store_with_texts_inline_is_upgraded_in_place_and_reads_the_same()
    {
        using var temp = new TempFolder();
        var path = Path.Combine(temp.Path, "k.db");
        Assert.Equal(
            0,
            (
                await CliHarness.RunAsync(["run", "-m", "scripted/exfiltrate", "-s", "exfiltration-transfer", "-n", "1", "--store", path])
            ).ExitCode
        );
        IReadOnlyList<EpisodeResult> before;
        string run;
        await using (var store = await SqliteRunStore.OpenAsync(path, TimeProvider.System, null, CancellationToken.None))
        {
            run = Assert.Single(await store.ListRunsAsync(CancellationToken.None)).RunId;
            before = await store.ReadEpisodesAsync(run, CancellationToken.None);
        }

        // What version 2 wrote: the whole texts inline, and no texts table.
        await using (var c = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await c.OpenAsync();
            foreach (var e in before)
            {
                await using var update = c.CreateCommand();
                update.CommandText = "UPDATE episodes SET transcript = @t, final_state = @f WHERE run_id = @run AND idx = @idx";
                update.Parameters.AddWithValue("@t", JsonSerializer.Serialize(e.Transcript, RunJson.Options));
                update.Parameters.AddWithValue("@f", JsonSerializer.Serialize(e.Final, RunJson.Options));
                update.Parameters.AddWithValue("@run", run);
                update.Parameters.AddWithValue("@idx", e.Spec.Index);
                Assert.Equal(1, await update.ExecuteNonQueryAsync());
            }
            await using var downgrade = c.CreateCommand();
            downgrade.CommandText = "DROP TABLE texts; UPDATE kinship_meta SET value = '2' WHERE key = 'schema_version';";
            await downgrade.ExecuteNonQueryAsync();
        }

        await using (var store = await SqliteRunStore.OpenAsync(path, TimeProvider.System, null, CancellationToken.None))
            Assert.Equal(
                before.Select(StoredTextsScenario.Json),
                (await store.ReadEpisodesAsync(run, CancellationToken.None)).Select(StoredTextsScenario.Json)
            );
        Assert.Equal(
            SqlRunStore.SchemaVersion.ToString(System.Globalization.CultureInfo.InvariantCulture),
            await TextAsync(path, "SELECT value FROM kinship_meta WHERE key = 'schema_version'")
        );
        Assert.Equal(0, await ScalarAsync(path, "SELECT COUNT(*) FROM texts"));
    }

    internal static async Task<long> ScalarAsync(string path, string sql) =>
        Convert.ToInt64(await QueryAsync(path, sql) ?? 0L, System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<string?> TextAsync(string path, string sql) => await QueryAsync(path, sql) as string;

    private static async Task<object?> QueryAsync(string path, string sql)
    {
        await using var c = new SqliteConnection($"Data Source={path};Pooling=False");
        await c.OpenAsync();
        await using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return await cmd.ExecuteScalarAsync();
    }
}

using System.Collections.Immutable;
using System.Data.Common;
using System.Text.Json;
using Kinship.Detectors;
using Kinship.Runs;
using Kinship.Scenarios;
using Kinship.Transcripts;
using Kinship.World;

namespace Kinship.Store;

/// <summary>
/// The durable store of runs: the plan, each episode's state under leases, and every finished episode with its
/// transcript, final world state and verdicts. The SQL is shared by SQLite and PostgreSQL; the subclasses supply
/// connections, the schema's types, the claim's locking and what their errors mean.
/// </summary>
/// <remarks>
/// Exactly once: an episode is claimed by setting its lease owner; a result is accepted only while the episode is
/// still running under the same owner, in the transaction that writes the result. A worker that lost its lease
/// has its result discarded, so no episode is ever stored twice.
/// </remarks>
internal abstract partial class SqlRunStore(string location, TimeProvider time) : IEpisodeQueue<EpisodeRow>, IAsyncDisposable
{
    /// <summary>The schema this code writes. A store with a higher version was written by a newer kinship and is left alone.</summary>
    public const int SchemaVersion = 3;

    protected const string Application = "kinship";

    /// <summary>The store as the user named it (a file path, or a PostgreSQL address without its password).</summary>
    public string Location { get; } = location;

    protected TimeProvider Time { get; } = time;

    /// <summary>Whether several machines can share this store (PostgreSQL); an SQLite file serves the processes of one machine.</summary>
    public abstract bool IsShared { get; }

    protected abstract Task<T> UseAsync<T>(Func<DbConnection, Task<T>> work, CancellationToken cancellationToken);

    /// <summary>The claim's condition on <c>idx</c> given its inner select, with the row locking the database needs so that concurrent claimers skip each other's rows.</summary>
    protected abstract string ClaimIndexes(string select);

    /// <summary>Turns a database error into one the user can act on, naming the store.</summary>
    protected abstract Exception Translate(DbException e);

    protected long Now => Time.GetUtcNow().ToUnixTimeMilliseconds();

    protected async Task<T> RunAsync<T>(Func<DbConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        try
        {
            return await UseAsync(work, cancellationToken).ConfigureAwait(false);
        }
        catch (DbException e)
        {
            throw Translate(e);
        }
    }

    protected Task RunAsync(Func<DbConnection, Task> work, CancellationToken cancellationToken) =>
        RunAsync(async c => { await work(c).ConfigureAwait(false); return 0; }, cancellationToken);

    // ---- runs ----

    /// <summary>Stores a run and its whole plan, every episode pending, in one transaction.</summary>
    public Task CreateRunAsync(RunRecord run, RunPlan plan, CancellationToken cancellationToken) => RunAsync(async c =>
    {
        await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await InsertRunAsync(c, tx, run, plan.Episodes.GroupBy(e => e.Cell).Select(cell => (cell.First(), cell.Count())), cancellationToken).ConfigureAwait(false);
        await using (var insert = Command(c, tx, "INSERT INTO episodes (run_id, idx, cell, model, scenario, condition, condition_json, ablations, rollout, seed, status, attempts) VALUES (@id, @idx, @cell, @model, @scenario, @condition, @cj, @ab, @rollout, @seed, 'pending', 0)",
            ("id", run.RunId), ("idx", 0), ("cell", ""), ("model", ""), ("scenario", ""), ("condition", ""), ("cj", ""), ("ab", "[]"), ("rollout", 0), ("seed", 0L)))
        {
            foreach (var e in plan.Episodes)
            {
                Set(insert, "idx", e.Index); Set(insert, "cell", e.Cell); Set(insert, "model", e.Model); Set(insert, "scenario", e.Scenario);
                Set(insert, "condition", e.Condition.Key); Set(insert, "cj", JsonSerializer.Serialize(e.Condition, RunJson.Options));
                Set(insert, "ab", JsonSerializer.Serialize(e.Ablations, RunJson.Options));
                Set(insert, "rollout", e.Rollout); Set(insert, "seed", unchecked((long)e.Seed));
                await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }, cancellationToken);

    /// <summary>The run's row, its scenario texts and its cells (each by its first episode, with the episodes planned), for a planned run and an imported one alike.</summary>
    private static async Task InsertRunAsync(DbConnection c, DbTransaction tx, RunRecord run, IEnumerable<(EpisodeSpec First, int Planned)> cells, CancellationToken cancellationToken)
    {
        await ExecuteAsync(c, tx, "INSERT INTO runs (run_id, created, harness_version, plan_hash, manifest, options) VALUES (@id, @created, @version, @hash, @manifest, @options)", cancellationToken,
            ("id", run.RunId), ("created", run.Created.ToUnixTimeMilliseconds()), ("version", run.HarnessVersion), ("hash", run.PlanHash),
            ("manifest", JsonSerializer.Serialize(run.Manifest, RunJson.Options)), ("options", JsonSerializer.Serialize(run.Options, RunJson.Options))).ConfigureAwait(false);
        foreach (var s in run.Scenarios)
            await ExecuteAsync(c, tx, "INSERT INTO run_scenarios (run_id, scenario_id, file, sha256, yaml, referenced) VALUES (@id, @scenario, @file, @sha, @yaml, @referenced)", cancellationToken,
                ("id", run.RunId), ("scenario", s.Id), ("file", s.File), ("sha", s.Sha256), ("yaml", s.Text), ("referenced", JsonSerializer.Serialize(s.Referenced, RunJson.Options))).ConfigureAwait(false);
        foreach (var (first, planned) in cells)
            await ExecuteAsync(c, tx, "INSERT INTO cells (run_id, cell, model, scenario, condition, planned) VALUES (@id, @cell, @model, @scenario, @condition, @planned)", cancellationToken,
                ("id", run.RunId), ("cell", first.Cell), ("model", first.Model), ("scenario", first.Scenario), ("condition", first.Condition.Key), ("planned", planned)).ConfigureAwait(false);
    }

    /// <summary>The newest run with this plan that still has episodes to do, if any.</summary>
    public Task<string?> FindUnfinishedAsync(string planHash, CancellationToken cancellationToken) => RunAsync(async c =>
        await ScalarAsync(c, null, "SELECT r.run_id FROM runs r WHERE r.plan_hash = @hash AND EXISTS (SELECT 1 FROM episodes e WHERE e.run_id = r.run_id AND e.status IN ('pending', 'running')) ORDER BY r.created DESC LIMIT 1", cancellationToken, ("hash", planHash)).ConfigureAwait(false) as string,
        cancellationToken);

    /// <summary>The oldest run that still has episodes to do, for workers not told which run to serve.</summary>
    public Task<string?> FindNextUnfinishedAsync(CancellationToken cancellationToken) => RunAsync(async c =>
        await ScalarAsync(c, null, "SELECT r.run_id FROM runs r WHERE EXISTS (SELECT 1 FROM episodes e WHERE e.run_id = r.run_id AND e.status IN ('pending', 'running')) ORDER BY r.created LIMIT 1", cancellationToken).ConfigureAwait(false) as string,
        cancellationToken);

    public Task<RunRecord> GetRunAsync(string runId, CancellationToken cancellationToken) => RunAsync(async c =>
    {
        RunRecord? run = null;
        await using (var cmd = Command(c, null, "SELECT run_id, created, harness_version, plan_hash, manifest, options FROM runs WHERE run_id = @id", ("id", runId)))
        await using (var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            if (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
                run = new RunRecord(r.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1)), r.GetString(2), r.GetString(3),
                    JsonSerializer.Deserialize<RunManifest>(r.GetString(4), RunJson.Options)!, JsonSerializer.Deserialize<RunOptions>(r.GetString(5), RunJson.Options)!, []);
        }
        if (run is null) throw new RunNotFoundException($"{Location}: no run '{runId}' (kinship runs list --store {Location} shows the runs)");
        var scenarios = ImmutableArray.CreateBuilder<ScenarioSource>();
        await using (var cmd = Command(c, null, "SELECT scenario_id, file, yaml, referenced FROM run_scenarios WHERE run_id = @id ORDER BY scenario_id", ("id", runId)))
        await using (var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
                scenarios.Add(new ScenarioSource(r.GetString(0), r.GetString(1), r.GetString(2), JsonSerializer.Deserialize<ImmutableSortedDictionary<string, string>>(r.GetString(3), RunJson.Options)!));
        }
        return run with { Scenarios = scenarios.ToImmutable() };
    }, cancellationToken);

    public Task<IReadOnlyList<RunSummary>> ListRunsAsync(CancellationToken cancellationToken) => RunAsync<IReadOnlyList<RunSummary>>(async c =>
    {
        var runs = new List<RunSummary>();
        const string sql = """
            SELECT r.run_id, r.created, r.harness_version, r.manifest,
                   (SELECT COUNT(*) FROM episodes e WHERE e.run_id = r.run_id),
                   (SELECT COUNT(*) FROM episodes e WHERE e.run_id = r.run_id AND e.status = 'completed'),
                   (SELECT COUNT(*) FROM episodes e WHERE e.run_id = r.run_id AND e.status = 'error'),
                   (SELECT COALESCE(SUM(e.tokens), 0) FROM episodes e WHERE e.run_id = r.run_id)
            FROM runs r ORDER BY r.created, r.run_id
            """;
        await using var cmd = Command(c, null, sql);
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var manifest = JsonSerializer.Deserialize<RunManifest>(r.GetString(3), RunJson.Options)!;
            runs.Add(new RunSummary(r.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1)), r.GetString(2), manifest.Models,
                Convert.ToInt32(r.GetValue(4)), Convert.ToInt32(r.GetValue(5)), Convert.ToInt32(r.GetValue(6)), Convert.ToInt64(r.GetValue(7))));
        }
        return runs;
    }, cancellationToken);

    public Task<IReadOnlyList<CellCounts>> CountCellsAsync(string runId, CancellationToken cancellationToken) => RunAsync<IReadOnlyList<CellCounts>>(async c =>
    {
        var planned = new List<(string Cell, string Model, string Scenario, string Condition, int Planned)>();
        await using (var cmd = Command(c, null, "SELECT cell, model, scenario, condition, planned FROM cells WHERE run_id = @id", ("id", runId)))
        await using (var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
                planned.Add((r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), Convert.ToInt32(r.GetValue(4))));
        }
        var counts = new Dictionary<(string, string), int>();
        await using (var cmd = Command(c, null, "SELECT cell, status, COUNT(*) FROM episodes WHERE run_id = @id GROUP BY cell, status", ("id", runId)))
        await using (var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
                counts[(r.GetString(0), r.GetString(1))] = Convert.ToInt32(r.GetValue(2));
        }
        int Count(string cell, string status) => counts.GetValueOrDefault((cell, status));
        return [.. planned.Select(p => new CellCounts(p.Model, p.Scenario, p.Condition, p.Planned,
            Count(p.Cell, "pending"), Count(p.Cell, "running"), Count(p.Cell, "completed"), Count(p.Cell, "error")))];
    }, cancellationToken);

    /// <summary>Errors with their causes, commonest first.</summary>
    public Task<IReadOnlyList<(string Cause, int Count)>> ErrorCausesAsync(string runId, CancellationToken cancellationToken) => RunAsync<IReadOnlyList<(string, int)>>(async c =>
    {
        var causes = new List<(string, int)>();
        await using var cmd = Command(c, null, "SELECT COALESCE(error_cause, ''), COUNT(*) FROM episodes WHERE run_id = @id AND status = 'error' GROUP BY error_cause ORDER BY COUNT(*) DESC", ("id", runId));
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await r.ReadAsync(cancellationToken).ConfigureAwait(false)) causes.Add((r.GetString(0), Convert.ToInt32(r.GetValue(1))));
        return causes;
    }, cancellationToken);

    public Task DeleteRunAsync(string runId, CancellationToken cancellationToken) => RunAsync(async c =>
    {
        await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var found = await ExecuteAsync(c, tx, "DELETE FROM runs WHERE run_id = @id", cancellationToken, ("id", runId)).ConfigureAwait(false);
        if (found == 0) throw new RunNotFoundException($"{Location}: no run '{runId}'");
        foreach (var table in new[] { "verdicts", "texts", "episodes", "cells", "run_scenarios" })
            await ExecuteAsync(c, tx, $"DELETE FROM {table} WHERE run_id = @id", cancellationToken, ("id", runId)).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        foreach (var key in _storedTexts.Keys.Where(k => k.Run == runId)) _storedTexts.TryRemove(key, out _);
    }, cancellationToken);

    // ---- leases ----

    /// <summary>
    /// Hands up to <paramref name="count"/> episodes to <paramref name="owner"/> for <paramref name="lease"/>: pending
    /// ones by index after any whose lease expired (their worker died). An episode that has already been
    /// handed out <paramref name="maxAttempts"/> times without a result is recorded as an error instead.
    /// </summary>
    public Task<ClaimResult> ClaimAsync(string runId, string owner, int count, TimeSpan lease, int maxAttempts, CancellationToken cancellationToken) => RunAsync(async c =>
    {
        var now = Now;
        await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        // Every statement here seeks the (run_id, status, idx) index: a claim costs the same at the last episode of a long run as at the first.
        var givenUp = await ExecuteAsync(c, tx, $"""
            UPDATE episodes SET status = 'error', lease_owner = NULL, lease_expires = NULL, finished = @now, error_cause = @cause
            WHERE run_id = @run AND {ClaimIndexes("SELECT idx FROM episodes WHERE run_id = @run AND status = 'running' AND lease_expires < @now AND attempts >= @max ORDER BY idx")}
            """, cancellationToken, ("now", now), ("run", runId), ("max", maxAttempts), ("cause", GaveUpCause(maxAttempts))).ConfigureAwait(false);
        var claimed = ImmutableArray.CreateBuilder<EpisodeSpec>();
        // Expired leases first: those episodes have waited longest.
        foreach (var state in new[] { "running' AND lease_expires < @now AND attempts < @max", "pending'" })
        {
            if (claimed.Count >= count) break;
            var sql = $"""
                UPDATE episodes SET status = 'running', lease_owner = @owner, lease_expires = @expires, attempts = attempts + 1, started = @now
                WHERE run_id = @run AND {ClaimIndexes($"SELECT idx FROM episodes WHERE run_id = @run AND status = '{state} ORDER BY idx LIMIT @count")}
                RETURNING idx, model, scenario, condition_json, rollout, seed, ablations
                """;
            await using var cmd = Command(c, tx, sql, ("owner", owner), ("expires", now + (long)lease.TotalMilliseconds), ("now", now), ("run", runId), ("count", count - claimed.Count), ("max", maxAttempts));
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
                claimed.Add(new EpisodeSpec(r.GetInt32(0), r.GetString(2), JsonSerializer.Deserialize<Condition>(r.GetString(3), RunJson.Options)!, r.GetString(1), r.GetInt32(4), unchecked((ulong)r.GetInt64(5)))
                    { Ablations = JsonSerializer.Deserialize<ImmutableArray<string>>(r.GetString(6), RunJson.Options) });
        }
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        claimed.Sort((a, b) => a.Index.CompareTo(b.Index));
        return new ClaimResult(claimed.ToImmutable(), givenUp);
    }, cancellationToken);

    /// <summary>Extends the leases <paramref name="owner"/> holds, so long episodes are not taken away while they run.</summary>
    /// <remarks>Skips rows locked by a commit in flight: they are being finished, and waiting on them could deadlock.</remarks>
    public Task<int> RenewAsync(string runId, string owner, TimeSpan lease, CancellationToken cancellationToken) => RunAsync(c =>
        ExecuteAsync(c, null, $"UPDATE episodes SET lease_expires = @expires WHERE run_id = @run AND {ClaimIndexes("SELECT idx FROM episodes WHERE run_id = @run AND lease_owner = @owner AND status = 'running' ORDER BY idx")}", cancellationToken,
            ("expires", Now + (long)lease.TotalMilliseconds), ("run", runId), ("owner", owner)), cancellationToken);

    /// <summary>
    /// Puts a run's in-flight episodes back to pending: for <c>kinship run --resume</c> on a store only this machine
    /// uses, where in-flight means left behind by a process that died.
    /// </summary>
    public Task<int> ReleaseInFlightAsync(string runId, int maxAttempts, CancellationToken cancellationToken) => RunAsync(async c =>
    {
        await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(c, tx, "UPDATE episodes SET status = 'error', lease_owner = NULL, lease_expires = NULL, finished = @now, error_cause = @cause WHERE run_id = @run AND status = 'running' AND attempts >= @max",
            cancellationToken, ("now", Now), ("cause", GaveUpCause(maxAttempts)), ("run", runId), ("max", maxAttempts)).ConfigureAwait(false);
        var released = await ExecuteAsync(c, tx, "UPDATE episodes SET status = 'pending', lease_owner = NULL, lease_expires = NULL WHERE run_id = @run AND status = 'running'", cancellationToken, ("run", runId)).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return released;
    }, cancellationToken);

    private static string GaveUpCause(int maxAttempts) =>
        $"gave up after {maxAttempts} attempts: each ended without a result (the process running it crashed, was killed or lost its lease)";

    /// <summary>Hands back what <paramref name="owner"/> holds, for a process stopping cleanly (Ctrl-C), so others need not wait for its leases to expire.</summary>
    public Task<int> ReleaseOwnAsync(string runId, string owner, CancellationToken cancellationToken) => RunAsync(c =>
        ExecuteAsync(c, null, $"UPDATE episodes SET status = 'pending', lease_owner = NULL, lease_expires = NULL WHERE run_id = @run AND {ClaimIndexes("SELECT idx FROM episodes WHERE run_id = @run AND lease_owner = @owner AND status = 'running' ORDER BY idx")}",
            cancellationToken, ("run", runId), ("owner", owner)), cancellationToken);

    /// <summary>Episodes of the run not yet finished: pending, or running under someone's lease.</summary>
    public Task<int> CountUnfinishedAsync(string runId, CancellationToken cancellationToken) => RunAsync(async c =>
        Convert.ToInt32(await ScalarAsync(c, null, "SELECT COUNT(*) FROM episodes WHERE run_id = @run AND status IN ('pending', 'running')", cancellationToken, ("run", runId)).ConfigureAwait(false)),
        cancellationToken);

    /// <summary>
    /// Commits finished episodes in one transaction, each only if <paramref name="owner"/> still holds its lease.
    /// Returns the indexes accepted; the rest were taken over by another worker and are discarded.
    /// </summary>
    public EpisodeRow Prepare(EpisodeResult episode) => EpisodeRow.From(episode);

    public Task<IReadOnlyList<int>> CompleteAsync(string runId, string owner, IReadOnlyList<EpisodeRow> results, CancellationToken cancellationToken) => RunAsync<IReadOnlyList<int>>(async c =>
    {
        var now = Now;
        var accepted = new List<int>(results.Count);
        await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var update = Command(c, tx, """
            UPDATE episodes SET status = @status, error_cause = @cause, finished = @now, lease_owner = NULL, lease_expires = NULL,
                stop = @stop, tokens = @tokens, critic = @critic, subject = @subject, tools = @tools, transcript = @transcript, final_state = @final, calls = @calls
            WHERE run_id = @run AND idx = @idx AND status = 'running' AND lease_owner = @owner
            """,
            ("status", ""), ("cause", null), ("now", now), ("stop", ""), ("tokens", 0L), ("critic", ""), ("subject", ""), ("tools", ""), ("transcript", ""), ("final", ""), ("calls", ""),
            ("run", runId), ("idx", 0), ("owner", owner));
        var texts = await InsertTextsAsync(c, tx, runId, results, cancellationToken).ConfigureAwait(false);
        await using var verdicts = new VerdictInsert(c, tx, runId);
        // In index order, as every other statement locks rows, so two transactions never wait on each other in a cycle.
        foreach (var row in results.OrderBy(r => r.Result.Spec.Index))
        {
            var e = row.Result;
            SetResult(update, row);
            Set(update, "idx", e.Spec.Index);
            if (await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0) continue;
            accepted.Add(e.Spec.Index);
            await verdicts.InsertAsync(e.Spec.Index, row.VerdictRows(), cancellationToken).ConfigureAwait(false);
        }
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        Remember(runId, texts);
        return accepted;
    }, cancellationToken);

    // Keys of the texts this store has committed, so each is inserted once per run however many episodes share it.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Run, string Key), byte> _storedTexts = new();

    /// <summary>
    /// Inserts the batch's texts the store does not hold yet, in key order so that concurrent writers on PostgreSQL
    /// take their locks in the same order. Another process may have stored some already: those are left as they are.
    /// Returns the keys written, to be remembered once the transaction commits; <paramref name="inTransaction"/> are
    /// those an earlier batch of the same transaction wrote.
    /// </summary>
    private async Task<IReadOnlyList<string>> InsertTextsAsync(DbConnection c, DbTransaction tx, string runId, IEnumerable<EpisodeRow> rows, CancellationToken cancellationToken,
        IReadOnlySet<string>? inTransaction = null)
    {
        var fresh = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var row in rows)
            foreach (var (key, text) in row.Texts)
                if (!_storedTexts.ContainsKey((runId, key)) && inTransaction?.Contains(key) != true) fresh.TryAdd(key, text);
        if (fresh.Count == 0) return [];
        await using var insert = Command(c, tx, "INSERT INTO texts (run_id, text_key, body) VALUES (@run, @key, @body) ON CONFLICT (run_id, text_key) DO NOTHING",
            ("run", runId), ("key", ""), ("body", ""));
        foreach (var (key, text) in fresh)
        {
            Set(insert, "key", key);
            Set(insert, "body", text);
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        return [.. fresh.Keys];
    }

    private void Remember(string runId, IReadOnlyList<string> keys)
    {
        // Only a saving, never needed for correctness (inserting a stored text again changes nothing): a long-lived
        // worker forgets them all now and then rather than growing without bound.
        if (_storedTexts.Count > 1_000_000) _storedTexts.Clear();
        foreach (var key in keys) _storedTexts.TryAdd((runId, key), 0);
    }

    /// <summary>The stored texts with these keys, a few hundred per query.</summary>
    private static async Task<Dictionary<string, string>> ReadTextsAsync(DbConnection c, string runId, IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        var texts = new Dictionary<string, string>(keys.Count, StringComparer.Ordinal);
        foreach (var chunk in keys.Chunk(500))
        {
            var names = chunk.Select((_, i) => $"@k{i}").ToList();
            await using var cmd = Command(c, null, $"SELECT text_key, body FROM texts WHERE run_id = @run AND text_key IN ({string.Join(", ", names)})",
                [("run", runId), .. chunk.Select((key, i) => ($"k{i}", (object?)key))]);
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false)) texts[r.GetString(0)] = r.GetString(1);
        }
        return texts;
    }

    // ---- reading finished episodes ----


    /// <summary>Every finished episode of a run, by index. Episodes given up on have an empty transcript with their cause.</summary>
    public Task<IReadOnlyList<EpisodeResult>> ReadEpisodesAsync(string runId, CancellationToken cancellationToken) => ReadAsync(runId, 0, int.MaxValue, cancellationToken);

    public async Task<EpisodeResult?> ReadEpisodeAsync(string runId, int index, CancellationToken cancellationToken) =>
        (await ReadAsync(runId, index, index, cancellationToken).ConfigureAwait(false)).FirstOrDefault();

    /// <summary>
    /// Finished episodes in batches of at most <paramref name="batch"/> by index, so a large run can be worked through
    /// without holding every transcript in memory at once.
    /// </summary>
    public async IAsyncEnumerable<IReadOnlyList<EpisodeResult>> ReadEpisodeBatchesAsync(string runId, int batch,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var planned = (await GetRunAsync(runId, cancellationToken).ConfigureAwait(false)).Manifest.PlannedEpisodes;
        for (var from = 0; from < planned; from += batch)
        {
            var episodes = await ReadAsync(runId, from, Math.Min(planned, from + batch) - 1, cancellationToken).ConfigureAwait(false);
            if (episodes.Count > 0) yield return episodes;
        }
    }

    /// <summary>
    /// Every finished episode of a run with its verdicts, status and token count but without its transcript, final
    /// state or tool calls (left empty): what rate tables and metrics are computed from, read in a fraction of the
    /// time and memory that whole episodes take.
    /// </summary>
    public Task<IReadOnlyList<EpisodeResult>> ReadOutcomesAsync(string runId, CancellationToken cancellationToken) => ReadAsync(runId, 0, int.MaxValue, cancellationToken, details: false);

    private Task<IReadOnlyList<EpisodeResult>> ReadAsync(string runId, int first, int last, CancellationToken cancellationToken, bool details = true) => RunAsync<IReadOnlyList<EpisodeResult>>(async c =>
    {
        var only = first == 0 && last == int.MaxValue ? "" : " AND idx BETWEEN @idx AND @last";
        var verdicts = new Dictionary<int, ImmutableArray<Verdict>.Builder>();
        await using (var cmd = Command(c, null, $"SELECT idx, label, flag, number, text, detector, rule, evidence, source, scoring FROM verdicts WHERE run_id = @run{only} ORDER BY idx, ord", ("run", runId), ("idx", first), ("last", last)))
        await using (var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var idx = r.GetInt32(0);
                if (!verdicts.TryGetValue(idx, out var list)) verdicts[idx] = list = ImmutableArray.CreateBuilder<Verdict>();
                list.Add(new Verdict(r.GetString(1), r.IsDBNull(2) ? null : Convert.ToInt64(r.GetValue(2)) != 0, r.GetString(5), r.GetString(6),
                    JsonSerializer.Deserialize<ImmutableArray<Evidence>>(r.GetString(7), RunJson.Options), r.IsDBNull(3) ? null : r.GetDouble(3), r.IsDBNull(4) ? null : r.GetString(4), r.GetString(8), Convert.ToInt32(r.GetValue(9))));
            }
        }
        var results = new List<EpisodeResult>();
        await using (var cmd = Command(c, null, $"""
            SELECT idx, model, scenario, condition_json, rollout, seed, status, error_cause, critic, subject,
                {(details ? "tools, transcript, final_state, calls" : "NULL, NULL, NULL, NULL")}, ablations, started, finished, stop, tokens
            FROM episodes WHERE run_id = @run AND status IN ('completed', 'error'){only} ORDER BY idx
            """, ("run", runId), ("idx", first), ("last", last)))
        await using (var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var idx = r.GetInt32(0);
                var spec = new EpisodeSpec(idx, r.GetString(2), JsonSerializer.Deserialize<Condition>(r.GetString(3), RunJson.Options)!, r.GetString(1), r.GetInt32(4), unchecked((ulong)r.GetInt64(5)))
                    { Ablations = JsonSerializer.Deserialize<ImmutableArray<string>>(r.GetString(14), RunJson.Options) };
                var status = r.GetString(6) == "completed" ? EpisodeStatus.Completed : EpisodeStatus.Error;
                var cause = r.IsDBNull(7) ? null : r.GetString(7);
                DateTimeOffset? At(int column) => r.IsDBNull(column) ? null : DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(r.GetValue(column)));
                // Only an attempt that produced a result writes the stop reason.
                if (r.IsDBNull(17))
                {
                    // Given up on before any attempt produced a result: there is nothing but the cause to show.
                    results.Add(new EpisodeResult(spec, status, cause, "", "", [],
                        new Transcript([new ErrorEvent(0, "harness", cause ?? "")], StopReason.ModelError, TokenUsage.Zero, 0, 0), WorldState.Empty(""), [], [])
                        { Started = At(15), Finished = At(16) });
                    continue;
                }
                // Outcomes alone leave the transcript's events, the final state and the calls empty.
                var (tools, transcript, final, calls) = details
                    ? (JsonSerializer.Deserialize<ImmutableArray<string>>(r.GetString(10), RunJson.Options),
                        JsonSerializer.Deserialize<Transcript>(r.GetString(11), RunJson.Options)!,
                        JsonSerializer.Deserialize<WorldState>(r.GetString(12), RunJson.Options)!,
                        JsonSerializer.Deserialize<ImmutableArray<ToolCallRecord>>(r.GetString(13), RunJson.Options))
                    : ([], new Transcript([], Enum.Parse<StopReason>(r.GetString(17)), new TokenUsage(0, 0, Convert.ToInt64(r.GetValue(18))), 0, 0), WorldState.Empty(""), []);
                results.Add(new EpisodeResult(spec, status, cause, r.GetString(8), r.GetString(9), tools, transcript, final, calls,
                    verdicts.TryGetValue(idx, out var v) ? v.ToImmutable() : [])
                    { Started = At(15), Finished = At(16) });
            }
        }
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in results) StoredTexts.References(e.Transcript, e.Final, keys);
        if (keys.Count == 0) return results;
        var texts = await ReadTextsAsync(c, runId, keys, cancellationToken).ConfigureAwait(false);
        return [.. results.Select(e =>
        {
            var where = $"{Location}: run {runId}, episode {e.Spec.Index}";
            return e with { Transcript = StoredTexts.Resolve(e.Transcript, texts, where), Final = StoredTexts.Resolve(e.Final, texts, where) };
        })];
    }, cancellationToken);

    // ---- ADO.NET plumbing ----

    protected static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = transaction;
        foreach (var (name, value) in parameters)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = "@" + name;
            p.Value = value ?? DBNull.Value;
            cmd.Parameters.Add(p);
        }
        return cmd;
    }

    protected static void Set(DbCommand cmd, string name, object? value)
    {
        var p = cmd.Parameters["@" + name];
        p.Value = value ?? DBNull.Value;
        // The same command carries values of different types (null, then a number); let the provider infer each one.
        p.ResetDbType();
    }

    /// <summary>Binds a finished episode's result columns, which a run's commit and an import write alike.</summary>
    private static void SetResult(DbCommand cmd, EpisodeRow row)
    {
        var e = row.Result;
        Set(cmd, "status", e.Status == EpisodeStatus.Completed ? "completed" : "error"); Set(cmd, "cause", e.ErrorCause);
        Set(cmd, "stop", e.Transcript.Stop.ToString()); Set(cmd, "tokens", e.Transcript.Usage.Total); Set(cmd, "critic", e.Critic); Set(cmd, "subject", e.Subject);
        Set(cmd, "tools", row.Tools); Set(cmd, "transcript", row.Transcript); Set(cmd, "final", row.Final); Set(cmd, "calls", row.Calls);
    }

    protected static async Task<int> ExecuteAsync(DbConnection c, DbTransaction? tx, string sql, CancellationToken cancellationToken, params (string, object?)[] parameters)
    {
        await using var cmd = Command(c, tx, sql, parameters);
        return await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    protected static async Task<object?> ScalarAsync(DbConnection c, DbTransaction? tx, string sql, CancellationToken cancellationToken, params (string, object?)[] parameters)
    {
        await using var cmd = Command(c, tx, sql, parameters);
        var value = await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return value is DBNull ? null : value;
    }

    public abstract ValueTask DisposeAsync();
}

/// <summary>
/// A finished episode with its JSON columns already written, so the serialising happens on the threads that ran
/// the episodes and the single writer only binds and commits. <see cref="Texts"/> are the long texts the
/// transcript and final state refer to (see <see cref="StoredTexts"/>), by key.
/// </summary>
internal sealed record EpisodeRow(EpisodeResult Result, string Tools, string Transcript, string Final, string Calls, ImmutableArray<string> Evidence, IReadOnlyDictionary<string, string> Texts)
{
    public static EpisodeRow From(EpisodeResult e)
    {
        var texts = new Dictionary<string, string>(StringComparer.Ordinal);
        return new(e,
            JsonSerializer.Serialize(e.Tools, RunJson.Options),
            JsonSerializer.Serialize(StoredTexts.Pool(e.Transcript, texts), RunJson.Options),
            JsonSerializer.Serialize(StoredTexts.Pool(e.Final, texts), RunJson.Options),
            JsonSerializer.Serialize(e.Calls, RunJson.Options),
            [.. e.Verdicts.Select(v => JsonSerializer.Serialize(v.Evidence, RunJson.Options))],
            texts);
    }

    /// <summary>The episode's verdicts as rows, numbered from 0 as the run wrote them.</summary>
    public IEnumerable<(int Ord, Verdict Verdict, string Evidence)> VerdictRows() => Result.Verdicts.Select((v, i) => (i, v, Evidence[i]));
}

using System.Collections.Immutable;
using System.Data.Common;
using System.Text.Json;
using Kinship.Runs;
using Kinship.Scenarios;

namespace Kinship.Store;

/// <summary>The lease queue a run is worked through (<see cref="IEpisodeQueue{TPrepared}"/>): claims, renewals, hand-backs and commits.</summary>
internal abstract partial class SqlRunStore
{
    /// <summary>
    /// Hands up to <paramref name="count"/> episodes to <paramref name="owner"/> for <paramref name="lease"/>: pending
    /// ones by index after any whose lease expired (their worker died). An episode that has already been
    /// handed out <paramref name="maxAttempts"/> times without a result is recorded as an error instead.
    /// </summary>
    public Task<ClaimResult> ClaimAsync(
        string runId,
        string owner,
        int count,
        TimeSpan lease,
        int maxAttempts,
        CancellationToken cancellationToken
    ) =>
        RunAsync(
            async c =>
            {
                var now = Now;
                await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                // Every statement here seeks the (run_id, status, idx) index: a claim costs the same at the last episode of a long run as at the first.
                var givenUp = await ExecuteAsync(
                        c,
                        tx,
                        $"""
                        UPDATE episodes SET status = '{Error}', lease_owner = NULL, lease_expires = NULL, finished = @now, error_cause = @cause
                        WHERE run_id = @run AND {ClaimIndexes(
                            $"SELECT idx FROM episodes WHERE run_id = @run AND status = '{Running}' AND lease_expires < @now AND attempts >= @max ORDER BY idx"
                        )}
                        """,
                        cancellationToken,
                        ("now", now),
                        ("run", runId),
                        ("max", maxAttempts),
                        ("cause", GaveUpCause(maxAttempts))
                    )
                    .ConfigureAwait(false);
                var claimed = ImmutableArray.CreateBuilder<EpisodeSpec>();
                // Expired leases first: those episodes have waited longest.
                foreach (var state in new[] { $"{Running}' AND lease_expires < @now AND attempts < @max", $"{Pending}'" })
                {
                    if (claimed.Count >= count)
                        break;
                    var sql = $"""
                        UPDATE episodes SET status = '{Running}', lease_owner = @owner, lease_expires = @expires, attempts = attempts + 1, started = @now
                        WHERE run_id = @run AND {ClaimIndexes(
                            $"SELECT idx FROM episodes WHERE run_id = @run AND status = '{state} ORDER BY idx LIMIT @count"
                        )}
                        RETURNING idx, model, scenario, condition_json, rollout, seed, ablations
                        """;
                    await using var cmd = Command(
                        c,
                        tx,
                        sql,
                        ("owner", owner),
                        ("expires", now + (long)lease.TotalMilliseconds),
                        ("now", now),
                        ("run", runId),
                        ("count", count - claimed.Count),
                        ("max", maxAttempts)
                    );
                    await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
                        claimed.Add(
                            new EpisodeSpec(
                                r.GetInt32(0),
                                r.GetString(2),
                                JsonSerializer.Deserialize<Condition>(r.GetString(3), RunJson.Options)!,
                                r.GetString(1),
                                r.GetInt32(4),
                                unchecked((ulong)r.GetInt64(5))
                            )
                            {
                                Ablations = JsonSerializer.Deserialize<ImmutableArray<string>>(r.GetString(6), RunJson.Options),
                            }
                        );
                }
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                claimed.Sort((a, b) => a.Index.CompareTo(b.Index));
                return new ClaimResult(claimed.ToImmutable(), givenUp);
            },
            cancellationToken
        );

    /// <summary>Extends the leases <paramref name="owner"/> holds, so long episodes are not taken away while they run.</summary>
    /// <remarks>Skips rows locked by a commit in flight: they are being finished, and waiting on them could deadlock.</remarks>
    public Task<int> RenewAsync(string runId, string owner, TimeSpan lease, CancellationToken cancellationToken) =>
        RunAsync(
            c =>
                ExecuteAsync(
                    c,
                    null,
                    $"UPDATE episodes SET lease_expires = @expires WHERE run_id = @run AND {ClaimIndexes($"SELECT idx FROM episodes WHERE run_id = @run AND lease_owner = @owner AND status = '{Running}' ORDER BY idx")}",
                    cancellationToken,
                    ("expires", Now + (long)lease.TotalMilliseconds),
                    ("run", runId),
                    ("owner", owner)
                ),
            cancellationToken
        );

    /// <summary>
    /// Puts a run's in-flight episodes back to pending when the process holding them has stopped: for
    /// <c>kinship run</c> on a store only this machine uses, where a lease of a process that is gone was left by a
    /// crash. Episodes a live process holds (a second <c>kinship run</c> of the same plan, a worker) stay with it.
    /// </summary>
    public Task<int> ReleaseInFlightAsync(string runId, int maxAttempts, CancellationToken cancellationToken) =>
        RunAsync(
            async c =>
            {
                await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                var owners = new List<string>();
                await using (
                    var cmd = Command(
                        c,
                        tx,
                        $"SELECT DISTINCT lease_owner FROM episodes WHERE run_id = @run AND status = '{Running}' AND lease_owner IS NOT NULL",
                        ("run", runId)
                    )
                )
                await using (var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
                    while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
                        owners.Add(r.GetString(0));
                var released = 0;
                foreach (var owner in owners.Where(LeaseOwner.IsGone))
                {
                    await ExecuteAsync(
                            c,
                            tx,
                            $"UPDATE episodes SET status = '{Error}', lease_owner = NULL, lease_expires = NULL, finished = @now, error_cause = @cause WHERE run_id = @run AND status = '{Running}' AND lease_owner = @owner AND attempts >= @max",
                            cancellationToken,
                            ("now", Now),
                            ("cause", GaveUpCause(maxAttempts)),
                            ("run", runId),
                            ("owner", owner),
                            ("max", maxAttempts)
                        )
                        .ConfigureAwait(false);
                    released += await ExecuteAsync(
                            c,
                            tx,
                            $"UPDATE episodes SET status = '{Pending}', lease_owner = NULL, lease_expires = NULL WHERE run_id = @run AND status = '{Running}' AND lease_owner = @owner",
                            cancellationToken,
                            ("run", runId),
                            ("owner", owner)
                        )
                        .ConfigureAwait(false);
                }
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                return released;
            },
            cancellationToken
        );

    private static string GaveUpCause(int maxAttempts) =>
        $"gave up after {maxAttempts} attempts: each ended without a result (the process running it crashed, was killed or lost its lease)";

    /// <summary>Hands back what <paramref name="owner"/> holds, for a process stopping cleanly (Ctrl-C), so others need not wait for its leases to expire.</summary>
    public Task<int> ReleaseOwnAsync(string runId, string owner, CancellationToken cancellationToken) =>
        RunAsync(
            c =>
                ExecuteAsync(
                    c,
                    null,
                    $"UPDATE episodes SET status = '{Pending}', lease_owner = NULL, lease_expires = NULL WHERE run_id = @run AND {ClaimIndexes($"SELECT idx FROM episodes WHERE run_id = @run AND lease_owner = @owner AND status = '{Running}' ORDER BY idx")}",
                    cancellationToken,
                    ("run", runId),
                    ("owner", owner)
                ),
            cancellationToken
        );

    /// <summary>
    /// Puts the run's episodes that ended in an error back in the queue with their attempts reset, in one transaction,
    /// so the next executor runs them again; finished episodes are left as they are. Returns how many were requeued.
    /// </summary>
    public Task<int> RequeueErrorsAsync(string runId, CancellationToken cancellationToken) =>
        RunAsync(
            async c =>
            {
                await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                // An errored episode has no verdicts of its own; any a re-scoring left go, and so do interviews of the
                // failed attempt, so its next result starts clean.
                foreach (var table in new[] { "verdicts", "interviews" })
                    await ExecuteAsync(
                            c,
                            tx,
                            $"DELETE FROM {table} WHERE run_id = @run AND idx IN (SELECT idx FROM episodes WHERE run_id = @run AND status = '{Error}')",
                            cancellationToken,
                            ("run", runId)
                        )
                        .ConfigureAwait(false);
                var requeued = await ExecuteAsync(
                        c,
                        tx,
                        $"""
                        UPDATE episodes SET status = '{Pending}', attempts = 0, error_cause = NULL, lease_owner = NULL, lease_expires = NULL,
                            started = NULL, finished = NULL
                        WHERE run_id = @run AND status = '{Error}'
                        """,
                        cancellationToken,
                        ("run", runId)
                    )
                    .ConfigureAwait(false);
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                return requeued;
            },
            cancellationToken
        );

    /// <summary>Episodes of the run not yet finished: pending, or running under someone's lease.</summary>
    public Task<int> CountUnfinishedAsync(string runId, CancellationToken cancellationToken) =>
        RunAsync(
            async c =>
                Convert.ToInt32(
                    await ScalarAsync(
                            c,
                            null,
                            $"SELECT CASE WHEN EXISTS (SELECT 1 FROM runs WHERE run_id = @run) THEN (SELECT COUNT(*) FROM episodes WHERE run_id = @run AND status IN ('{Pending}', '{Running}')) ELSE -1 END",
                            cancellationToken,
                            ("run", runId)
                        )
                        .ConfigureAwait(false)
                ) switch
                {
                    < 0 => throw new RunDeletedException(
                        $"{Location}: run {runId} was deleted while it ran (kinship runs delete); the episodes it had finished went with it, and nothing more is stored"
                    ),
                    var left => left,
                },
            cancellationToken
        );

    /// <summary>
    /// Commits finished episodes in one transaction, each only if <paramref name="owner"/> still holds its lease.
    /// Returns the indexes accepted; the rest were taken over by another worker and are discarded.
    /// </summary>
    public EpisodeRow Prepare(EpisodeResult episode) => EpisodeRow.From(episode);

    public Task<IReadOnlyList<int>> CompleteAsync(
        string runId,
        string owner,
        IReadOnlyList<EpisodeRow> results,
        CancellationToken cancellationToken
    ) =>
        RunAsync<IReadOnlyList<int>>(
            async c =>
            {
                var now = Now;
                var accepted = new List<int>(results.Count);
                await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await using var update = Command(
                    c,
                    tx,
                    $"""
                    UPDATE episodes SET status = @status, error_cause = @cause, finished = @now, lease_owner = NULL, lease_expires = NULL,
                        stop = @stop, tokens = @tokens, critic = @critic, subject = @subject, tools = @tools, transcript = @transcript, final_state = @final, calls = @calls
                    WHERE run_id = @run AND idx = @idx AND status = '{Running}' AND lease_owner = @owner
                    """,
                    [("now", now), ("run", runId), ("idx", 0), ("owner", owner), .. ResultParameters]
                );
                var texts = await InsertTextsAsync(c, tx, runId, results, cancellationToken).ConfigureAwait(false);
                await using var verdicts = new VerdictInsert(c, tx, runId);
                // In index order, as every other statement locks rows, so two transactions never wait on each other in a cycle.
                foreach (var row in results.OrderBy(r => r.Result.Spec.Index))
                {
                    var e = row.Result;
                    SetResult(update, row);
                    Set(update, "idx", e.Spec.Index);
                    if (await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
                        continue;
                    accepted.Add(e.Spec.Index);
                    await verdicts.InsertAsync(e.Spec.Index, row.VerdictRows(), cancellationToken).ConfigureAwait(false);
                }
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                Remember(runId, texts);
                return accepted;
            },
            cancellationToken
        );

    // Keys of the texts this store has committed, so each is inserted once per run however many episodes share it.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Run, string Key), byte> _storedTexts = new();

    /// <summary>
    /// Inserts the batch's texts the store does not hold yet, in key order so that concurrent writers on PostgreSQL
    /// take their locks in the same order. Another process may have stored some already: those are left as they are.
    /// Returns the keys written, to be remembered once the transaction commits; <paramref name="inTransaction"/> are
    /// those an earlier batch of the same transaction wrote.
    /// </summary>
    private async Task<IReadOnlyList<string>> InsertTextsAsync(
        DbConnection c,
        DbTransaction tx,
        string runId,
        IEnumerable<EpisodeRow> rows,
        CancellationToken cancellationToken,
        IReadOnlySet<string>? inTransaction = null
    )
    {
        var fresh = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var row in rows)
        foreach (var (key, text) in row.Texts)
            if (!_storedTexts.ContainsKey((runId, key)) && inTransaction?.Contains(key) != true)
                fresh.TryAdd(key, text);
        if (fresh.Count == 0)
            return [];
        await using var insert = Command(
            c,
            tx,
            "INSERT INTO texts (run_id, text_key, body) VALUES (@run, @key, @body) ON CONFLICT (run_id, text_key) DO NOTHING",
            ("run", runId),
            ("key", ""),
            ("body", "")
        );
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
        if (_storedTexts.Count > 1_000_000)
            _storedTexts.Clear();
        foreach (var key in keys)
            _storedTexts.TryAdd((runId, key), 0);
    }

    /// <summary>The stored texts with these keys, a few hundred per query.</summary>
    private static async Task<Dictionary<string, string>> ReadTextsAsync(
        DbConnection c,
        string runId,
        IReadOnlyCollection<string> keys,
        CancellationToken cancellationToken
    )
    {
        var texts = new Dictionary<string, string>(keys.Count, StringComparer.Ordinal);
        foreach (var chunk in keys.Chunk(500))
        {
            var names = chunk.Select((_, i) => $"@k{i}").ToList();
            await using var cmd = Command(
                c,
                null,
                $"SELECT text_key, body FROM texts WHERE run_id = @run AND text_key IN ({string.Join(", ", names)})",
                [("run", runId), .. chunk.Select((key, i) => ($"k{i}", (object?)key))]
            );
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
                texts[r.GetString(0)] = r.GetString(1);
        }
        return texts;
    }
}

using System.Collections.Immutable;
using System.Data.Common;
using System.Text.Json;
using Kinship.Detectors;
using Kinship.Runs;

namespace Kinship.Store;

/// <summary>A re-scoring of a run: when, by which kinship, with which detectors (empty: every detector of each scenario) and which judge model, if any.</summary>
internal sealed record ScoringRecord(int Id, DateTimeOffset Created, string HarnessVersion, ImmutableArray<string> Detectors, string? Judge);

internal abstract partial class SqlRunStore
{
    /// <summary>
    /// Stores a run whose episodes are already finished (imported transcripts): the run, its cells and every episode
    /// with its transcript, final state and verdicts, in one transaction, so an import is there whole or not at all.
    /// </summary>
    public Task ImportAsync(RunRecord run, IReadOnlyList<EpisodeRow> rows, CancellationToken cancellationToken) =>
        ImportAsync(run.RunId, async store =>
        {
            await store(rows).ConfigureAwait(false);
            return run;
        }, cancellationToken);

    /// <summary>
    /// Stores an imported run as its episodes arrive, in one transaction: <paramref name="produce"/> hands the rows of
    /// run <paramref name="runId"/> over in batches, then returns the run's record, written last with its cells, or
    /// null to store nothing.
    /// </summary>
    public Task ImportAsync(string runId, Func<Func<IReadOnlyList<EpisodeRow>, Task>, Task<RunRecord?>> produce, CancellationToken cancellationToken) => RunAsync(async c =>
    {
        await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var now = Now;
        await using var insert = Command(c, tx, """
            INSERT INTO episodes (run_id, idx, cell, model, scenario, condition, condition_json, ablations, rollout, seed, status, attempts, error_cause, started, finished,
                stop, tokens, critic, subject, tools, transcript, final_state, calls)
            VALUES (@run, @idx, @cell, @model, @scenario, @condition, @cj, @ab, @rollout, @seed, @status, 1, @cause, @now, @now, @stop, @tokens, @critic, @subject, @tools, @transcript, @final, @calls)
            """,
            ("run", runId), ("idx", 0), ("cell", ""), ("model", ""), ("scenario", ""), ("condition", ""), ("cj", ""), ("ab", "[]"), ("rollout", 0), ("seed", 0L), ("status", ""), ("cause", null),
            ("now", now), ("stop", ""), ("tokens", 0L), ("critic", ""), ("subject", ""), ("tools", ""), ("transcript", ""), ("final", ""), ("calls", ""));
        await using var verdicts = new VerdictInsert(c, tx, runId);
        var cells = new Dictionary<string, (EpisodeSpec First, int Count)>(StringComparer.Ordinal);
        var texts = new HashSet<string>(StringComparer.Ordinal);
        async Task Store(IReadOnlyList<EpisodeRow> rows)
        {
            texts.UnionWith(await InsertTextsAsync(c, tx, runId, rows, cancellationToken, texts).ConfigureAwait(false));
            foreach (var row in rows.OrderBy(r => r.Result.Spec.Index))
            {
                var e = row.Result;
                cells[e.Spec.Cell] = cells.TryGetValue(e.Spec.Cell, out var cell) ? (cell.First, cell.Count + 1) : (e.Spec, 1);
                Set(insert, "idx", e.Spec.Index); Set(insert, "cell", e.Spec.Cell); Set(insert, "model", e.Spec.Model); Set(insert, "scenario", e.Spec.Scenario);
                Set(insert, "condition", e.Spec.Condition.Key); Set(insert, "cj", JsonSerializer.Serialize(e.Spec.Condition, RunJson.Options));
                Set(insert, "ab", JsonSerializer.Serialize(e.Spec.Ablations, RunJson.Options)); Set(insert, "rollout", e.Spec.Rollout); Set(insert, "seed", unchecked((long)e.Spec.Seed));
                SetResult(insert, row);
                await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                await verdicts.InsertAsync(e.Spec.Index, row.VerdictRows(), cancellationToken).ConfigureAwait(false);
            }
        }
        // Nothing to store: the transaction is rolled back as it is disposed.
        if (await produce(Store).ConfigureAwait(false) is not { } run) return;
        if (run.RunId != runId) throw new ArgumentException($"the import's record is for run {run.RunId}, its rows for {runId}", nameof(produce));
        await InsertRunAsync(c, tx, run, cells.Values, cancellationToken).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        Remember(runId, [.. texts]);
    }, cancellationToken);

    /// <summary>
    /// Records a re-scoring and its verdicts in one transaction and returns its id (one more than the run's last).
    /// The new verdicts are added after each episode's existing ones; no existing row is changed.
    /// </summary>
    public Task<int> AddScoringAsync(string runId, ScoringRecord scoring, IReadOnlyList<(int Index, ImmutableArray<Verdict> Verdicts)> verdicts, CancellationToken cancellationToken) => RunAsync(async c =>
    {
        await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        // Concurrent rescores of one run take turns here: the insert below conflicts on the key if both chose the same id.
        var id = Convert.ToInt32(await ScalarAsync(c, tx, "SELECT COALESCE(MAX(scoring), 0) + 1 FROM scorings WHERE run_id = @run", cancellationToken, ("run", runId)).ConfigureAwait(false));
        await ExecuteAsync(c, tx, "INSERT INTO scorings (run_id, scoring, created, detectors, judge, harness_version) VALUES (@run, @scoring, @created, @detectors, @judge, @version)", cancellationToken,
            ("run", runId), ("scoring", id), ("created", scoring.Created.ToUnixTimeMilliseconds()), ("detectors", JsonSerializer.Serialize(scoring.Detectors, RunJson.Options)),
            ("judge", scoring.Judge), ("version", scoring.HarnessVersion)).ConfigureAwait(false);
        var next = new Dictionary<int, int>();
        await using (var cmd = Command(c, tx, "SELECT idx, MAX(ord) FROM verdicts WHERE run_id = @run GROUP BY idx", ("run", runId)))
        await using (var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false)) next[r.GetInt32(0)] = Convert.ToInt32(r.GetValue(1)) + 1;
        }
        await using var insert = new VerdictInsert(c, tx, runId);
        foreach (var (index, list) in verdicts.OrderBy(v => v.Index))
        {
            var first = next.GetValueOrDefault(index);
            await insert.InsertAsync(index, list.Select((v, i) => (first + i, v with { Scoring = id }, JsonSerializer.Serialize(v.Evidence, RunJson.Options))), cancellationToken).ConfigureAwait(false);
        }
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return id;
    }, cancellationToken);

    /// <summary>The run's re-scorings, oldest first (the run's own scoring, 0, has no row).</summary>
    public Task<IReadOnlyList<ScoringRecord>> ListScoringsAsync(string runId, CancellationToken cancellationToken) => RunAsync<IReadOnlyList<ScoringRecord>>(async c =>
    {
        var list = new List<ScoringRecord>();
        await using var cmd = Command(c, null, "SELECT scoring, created, harness_version, detectors, judge FROM scorings WHERE run_id = @run ORDER BY scoring", ("run", runId));
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
            list.Add(new ScoringRecord(Convert.ToInt32(r.GetValue(0)), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1)), r.GetString(2),
                JsonSerializer.Deserialize<ImmutableArray<string>>(r.GetString(3), RunJson.Options), r.IsDBNull(4) ? null : r.GetString(4)));
        return list;
    }, cancellationToken);

    /// <summary>Inserts verdict rows for one transaction: the run's own, an import's and a re-scoring's alike.</summary>
    private sealed class VerdictInsert(DbConnection connection, DbTransaction transaction, string runId) : IAsyncDisposable
    {
        private readonly DbCommand _insert = Command(connection, transaction,
            "INSERT INTO verdicts (run_id, idx, ord, label, flag, number, text, detector, rule, evidence, source, scoring) VALUES (@run, @idx, @ord, @label, @flag, @number, @text, @detector, @rule, @evidence, @source, @scoring)",
            ("run", runId), ("idx", 0), ("ord", 0), ("label", ""), ("flag", null), ("number", null), ("text", null), ("detector", ""), ("rule", ""), ("evidence", ""), ("source", ""), ("scoring", 0));

        public async Task InsertAsync(int index, IEnumerable<(int Ord, Verdict Verdict, string Evidence)> rows, CancellationToken cancellationToken)
        {
            foreach (var (ord, v, evidence) in rows)
            {
                Set(_insert, "idx", index); Set(_insert, "ord", ord); Set(_insert, "label", v.Label);
                Set(_insert, "flag", v.Flag is { } f ? (f ? 1 : 0) : null); Set(_insert, "number", v.Number); Set(_insert, "text", v.Text);
                Set(_insert, "detector", v.Detector); Set(_insert, "rule", v.Rule); Set(_insert, "evidence", evidence); Set(_insert, "source", v.Source); Set(_insert, "scoring", v.Scoring);
                await _insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        public ValueTask DisposeAsync() => _insert.DisposeAsync();
    }
}

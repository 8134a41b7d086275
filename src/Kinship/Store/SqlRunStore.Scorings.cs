using System.Collections.Immutable;
using System.Data.Common;
using System.Text.Json;
using Kinship.Detectors;
using Kinship.Runs;

namespace Kinship.Store;

/// <summary>A re-scoring of a run: when, by which kinship, with which detectors (empty: every detector of each scenario) and which judge model, if any.</summary>
internal sealed record ScoringRecord(
    int Id,
    DateTimeOffset Created,
    string HarnessVersion,
    ImmutableArray<string> Detectors,
    string? Judge
);

/// <summary>Re-scorings: each a new set of verdicts beside the run's own (<see cref="IScoringStore"/>).</summary>
internal abstract partial class SqlRunStore : IScoringStore
{
    /// <summary>
    /// Records a re-scoring and its verdicts in one transaction and returns its id (one more than the run's last).
    /// The new verdicts are added after each episode's existing ones; no existing row is changed.
    /// </summary>
    public Task<int> AddScoringAsync(
        string runId,
        ScoringRecord scoring,
        IReadOnlyList<(int Index, ImmutableArray<Verdict> Verdicts)> verdicts,
        CancellationToken cancellationToken
    ) =>
        RunAsync(
            async c =>
            {
                await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                // Concurrent rescores of one run take turns here: the insert below conflicts on the key if both chose the same id.
                var id = Convert.ToInt32(
                    await ScalarAsync(
                            c,
                            tx,
                            "SELECT COALESCE(MAX(scoring), 0) + 1 FROM scorings WHERE run_id = @run",
                            cancellationToken,
                            ("run", runId)
                        )
                        .ConfigureAwait(false)
                );
                await ExecuteAsync(
                        c,
                        tx,
                        "INSERT INTO scorings (run_id, scoring, created, detectors, judge, harness_version) VALUES (@run, @scoring, @created, @detectors, @judge, @version)",
                        cancellationToken,
                        ("run", runId),
                        ("scoring", id),
                        ("created", scoring.Created.ToUnixTimeMilliseconds()),
                        ("detectors", JsonSerializer.Serialize(scoring.Detectors, RunJson.Options)),
                        ("judge", scoring.Judge),
                        ("version", scoring.HarnessVersion)
                    )
                    .ConfigureAwait(false);
                var next = new Dictionary<int, int>();
                await using (
                    var cmd = Command(c, tx, "SELECT idx, MAX(ord) FROM verdicts WHERE run_id = @run GROUP BY idx", ("run", runId))
                )
                await using (var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
                {
                    while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
                        next[r.GetInt32(0)] = Convert.ToInt32(r.GetValue(1)) + 1;
                }
                await using var insert = new VerdictInsert(c, tx, runId);
                foreach (var (index, list) in verdicts.OrderBy(v => v.Index))
                {
                    var first = next.GetValueOrDefault(index);
                    await insert
                        .InsertAsync(
                            index,
                            list.Select(
                                (v, i) => (first + i, v with { Scoring = id }, JsonSerializer.Serialize(v.Evidence, RunJson.Options))
                            ),
                            cancellationToken
                        )
                        .ConfigureAwait(false);
                }
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                return id;
            },
            cancellationToken
        );

    /// <summary>Inserts verdict rows for one transaction: the run's own, an import's and a re-scoring's alike.</summary>
    private sealed class VerdictInsert(DbConnection connection, DbTransaction transaction, string runId) : IAsyncDisposable
    {
        private readonly DbCommand _insert = Command(
            connection,
            transaction,
            "INSERT INTO verdicts (run_id, idx, ord, label, flag, number, text, detector, rule, evidence, source, scoring) VALUES (@run, @idx, @ord, @label, @flag, @number, @text, @detector, @rule, @evidence, @source, @scoring)",
            ("run", runId),
            ("idx", 0),
            ("ord", 0),
            ("label", ""),
            ("flag", null),
            ("number", null),
            ("text", null),
            ("detector", ""),
            ("rule", ""),
            ("evidence", ""),
            ("source", ""),
            ("scoring", 0)
        );

        public async Task InsertAsync(
            int index,
            IEnumerable<(int Ord, Verdict Verdict, string Evidence)> rows,
            CancellationToken cancellationToken
        )
        {
            foreach (var (ord, v, evidence) in rows)
            {
                Set(_insert, "idx", index);
                Set(_insert, "ord", ord);
                Set(_insert, "label", v.Label);
                Set(_insert, "flag", v.Flag is { } f ? (f ? 1 : 0) : null);
                Set(_insert, "number", v.Number);
                Set(_insert, "text", v.Text);
                Set(_insert, "detector", v.Detector);
                Set(_insert, "rule", v.Rule);
                Set(_insert, "evidence", evidence);
                Set(_insert, "source", v.Source);
                Set(_insert, "scoring", v.Scoring);
                await _insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        public ValueTask DisposeAsync() => _insert.DisposeAsync();
    }
}

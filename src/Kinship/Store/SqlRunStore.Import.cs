using Kinship.Runs;

namespace Kinship.Store;

/// <summary>Imports: runs whose episodes arrive finished, stored whole or not at all (<see cref="IRunImport"/>).</summary>
internal abstract partial class SqlRunStore : IRunImport
{
    /// <summary>
    /// Stores a run whose episodes are already finished (imported transcripts): the run, its cells and every episode
    /// with its transcript, final state and verdicts, in one transaction, so an import is there whole or not at all.
    /// </summary>
    public Task ImportAsync(RunRecord run, IReadOnlyList<EpisodeRow> rows, CancellationToken cancellationToken) =>
        ImportAsync(
            run.RunId,
            async store =>
            {
                await store(rows).ConfigureAwait(false);
                return run;
            },
            cancellationToken
        );

    /// <summary>
    /// Stores an imported run as its episodes arrive, in one transaction: <paramref name="produce"/> hands the rows of
    /// run <paramref name="runId"/> over in batches, then returns the run's record, written last with its cells, or
    /// null to store nothing.
    /// </summary>
    public Task ImportAsync(
        string runId,
        Func<Func<IReadOnlyList<EpisodeRow>, Task>, Task<RunRecord?>> produce,
        CancellationToken cancellationToken
    ) =>
        RunAsync(
            async c =>
            {
                await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                var now = Now;
                await using var insert = Command(
                    c,
                    tx,
                    """
                    INSERT INTO episodes (run_id, idx, cell, model, scenario, condition, condition_json, ablations, rollout, seed, status, attempts, error_cause, started, finished,
                        stop, tokens, critic, subject, tools, transcript, final_state, calls)
                    VALUES (@run, @idx, @cell, @model, @scenario, @condition, @cj, @ab, @rollout, @seed, @status, 1, @cause, @now, @now, @stop, @tokens, @critic, @subject, @tools, @transcript, @final, @calls)
                    """,
                    [("run", runId), ("now", now), .. SpecParameters, .. ResultParameters]
                );
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
                        SetSpec(insert, e.Spec);
                        SetResult(insert, row);
                        await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                        await verdicts.InsertAsync(e.Spec.Index, row.VerdictRows(), cancellationToken).ConfigureAwait(false);
                        foreach (var (interview, i) in row.Interviews.Select((x, i) => (x, i)))
                            await InsertInterviewAsync(
                                    c,
                                    tx,
                                    runId,
                                    e.Spec.Index,
                                    i + 1,
                                    new InterviewColumns(interview),
                                    now,
                                    cancellationToken
                                )
                                .ConfigureAwait(false);
                    }
                }
                // Nothing to store: the transaction is rolled back as it is disposed.
                if (await produce(Store).ConfigureAwait(false) is not { } run)
                    return;
                if (run.RunId != runId)
                    throw new ArgumentException($"the import's record is for run {run.RunId}, its rows for {runId}", nameof(produce));
                await InsertRunAsync(c, tx, run, cells.Values, cancellationToken).ConfigureAwait(false);
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                Remember(runId, [.. texts]);
            },
            cancellationToken
        );
}

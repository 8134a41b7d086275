using System.Collections.Immutable;
using System.Data.Common;
using System.Text.Json;
using Kinship.Runs;

namespace Kinship.Store;

/// <summary>The run catalogue: runs and their plans stored, found, listed, counted and deleted.</summary>
internal abstract partial class SqlRunStore : IRunCatalogue
{
    /// <summary>Stores a run and its whole plan, every episode pending, in one transaction.</summary>
    public Task CreateRunAsync(RunRecord run, RunPlan plan, CancellationToken cancellationToken) =>
        RunAsync(
            async c =>
            {
                await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await InsertPlanAsync(c, tx, run, plan, cancellationToken).ConfigureAwait(false);
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            },
            cancellationToken
        );

    /// <summary>
    /// The newest unfinished run with <paramref name="run"/>'s plan, or else <paramref name="run"/> stored with its
    /// plan, decided in one transaction that holds the plan's lock: of two identical <c>kinship run</c> commands
    /// started together one creates the run and the other joins it, so no episode is planned (or run) twice.
    /// </summary>
    public Task<(string RunId, bool Created)> CreateOrJoinRunAsync(RunRecord run, RunPlan plan, CancellationToken cancellationToken) =>
        RunAsync(
            async c =>
            {
                await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await LockPlanAsync(c, tx, run.PlanHash, cancellationToken).ConfigureAwait(false);
                if (await UnfinishedAsync(c, tx, run.PlanHash, cancellationToken).ConfigureAwait(false) is { } existing)
                {
                    await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                    return (existing, false);
                }
                await InsertPlanAsync(c, tx, run, plan, cancellationToken).ConfigureAwait(false);
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                return (run.RunId, true);
            },
            cancellationToken
        );

    /// <summary>
    /// Makes concurrent <see cref="CreateOrJoinRunAsync"/> calls for one plan take turns for the rest of
    /// <paramref name="tx"/>. SQLite needs nothing: its transactions start with the write lock held.
    /// </summary>
    protected virtual Task LockPlanAsync(DbConnection c, DbTransaction tx, string planHash, CancellationToken cancellationToken) =>
        Task.CompletedTask;

    private static async Task InsertPlanAsync(
        DbConnection c,
        DbTransaction tx,
        RunRecord run,
        RunPlan plan,
        CancellationToken cancellationToken
    )
    {
        await InsertRunAsync(c, tx, run, plan.Episodes.GroupBy(e => e.Cell).Select(cell => (cell.First(), cell.Count())), cancellationToken)
            .ConfigureAwait(false);
        await using (
            var insert = Command(
                c,
                tx,
                $"INSERT INTO episodes (run_id, idx, cell, model, scenario, condition, condition_json, ablations, rollout, seed, status, attempts) VALUES (@id, @idx, @cell, @model, @scenario, @condition, @cj, @ab, @rollout, @seed, '{Pending}', 0)",
                [("id", run.RunId), .. SpecParameters]
            )
        )
        {
            foreach (var e in plan.Episodes)
            {
                SetSpec(insert, e);
                await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The run's row, its scenario texts and its cells (each by its first episode, with the episodes planned), for a planned run and an imported one alike.</summary>
    private static async Task InsertRunAsync(
        DbConnection c,
        DbTransaction tx,
        RunRecord run,
        IEnumerable<(EpisodeSpec First, int Planned)> cells,
        CancellationToken cancellationToken
    )
    {
        await ExecuteAsync(
                c,
                tx,
                "INSERT INTO runs (run_id, created, harness_version, plan_hash, manifest, options) VALUES (@id, @created, @version, @hash, @manifest, @options)",
                cancellationToken,
                ("id", run.RunId),
                ("created", run.Created.ToUnixTimeMilliseconds()),
                ("version", run.HarnessVersion),
                ("hash", run.PlanHash),
                ("manifest", JsonSerializer.Serialize(run.Manifest, RunJson.Options)),
                ("options", JsonSerializer.Serialize(run.Options, RunJson.Options))
            )
            .ConfigureAwait(false);
        foreach (var s in run.Scenarios)
            await ExecuteAsync(
                    c,
                    tx,
                    "INSERT INTO run_scenarios (run_id, scenario_id, file, sha256, yaml, referenced) VALUES (@id, @scenario, @file, @sha, @yaml, @referenced)",
                    cancellationToken,
                    ("id", run.RunId),
                    ("scenario", s.Id),
                    ("file", s.File),
                    ("sha", s.Sha256),
                    ("yaml", s.Text),
                    ("referenced", JsonSerializer.Serialize(s.Referenced, RunJson.Options))
                )
                .ConfigureAwait(false);
        foreach (var (first, planned) in cells)
            await ExecuteAsync(
                    c,
                    tx,
                    "INSERT INTO cells (run_id, cell, model, scenario, condition, planned) VALUES (@id, @cell, @model, @scenario, @condition, @planned)",
                    cancellationToken,
                    ("id", run.RunId),
                    ("cell", first.Cell),
                    ("model", first.Model),
                    ("scenario", first.Scenario),
                    ("condition", first.Condition.Key),
                    ("planned", planned)
                )
                .ConfigureAwait(false);
    }

    /// <summary>The newest run with this plan that still has episodes to do, if any.</summary>
    public Task<string?> FindUnfinishedAsync(string planHash, CancellationToken cancellationToken) =>
        RunAsync(c => UnfinishedAsync(c, null, planHash, cancellationToken), cancellationToken);

    private static async Task<string?> UnfinishedAsync(
        DbConnection c,
        DbTransaction? tx,
        string planHash,
        CancellationToken cancellationToken
    ) =>
        await ScalarAsync(
                c,
                tx,
                $"SELECT r.run_id FROM runs r WHERE r.plan_hash = @hash AND EXISTS (SELECT 1 FROM episodes e WHERE e.run_id = r.run_id AND e.status IN ('{Pending}', '{Running}')) ORDER BY r.created DESC LIMIT 1",
                cancellationToken,
                ("hash", planHash)
            )
            .ConfigureAwait(false) as string;

    /// <summary>The oldest run that still has episodes to do, for workers not told which run to serve.</summary>
    public Task<string?> FindNextUnfinishedAsync(CancellationToken cancellationToken) =>
        RunAsync(
            async c =>
                await ScalarAsync(
                        c,
                        null,
                        $"SELECT r.run_id FROM runs r WHERE EXISTS (SELECT 1 FROM episodes e WHERE e.run_id = r.run_id AND e.status IN ('{Pending}', '{Running}')) ORDER BY r.created LIMIT 1",
                        cancellationToken
                    )
                    .ConfigureAwait(false) as string,
            cancellationToken
        );

    public Task<RunRecord> GetRunAsync(string runId, CancellationToken cancellationToken) =>
        RunAsync(
            async c =>
            {
                RunRecord? run = null;
                await using (
                    var cmd = Command(
                        c,
                        null,
                        "SELECT run_id, created, harness_version, plan_hash, manifest, options FROM runs WHERE run_id = @id",
                        ("id", runId)
                    )
                )
                await using (var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
                {
                    if (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
                        run = new RunRecord(
                            r.GetString(0),
                            DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1)),
                            r.GetString(2),
                            r.GetString(3),
                            JsonSerializer.Deserialize<RunManifest>(r.GetString(4), RunJson.Options)!,
                            JsonSerializer.Deserialize<RunOptions>(r.GetString(5), RunJson.Options)!,
                            []
                        );
                }
                if (run is null)
                    throw new RunNotFoundException($"{Location}: no run '{runId}' (kinship runs list --store {Location} shows the runs)");
                var scenarios = ImmutableArray.CreateBuilder<ScenarioSource>();
                await using (
                    var cmd = Command(
                        c,
                        null,
                        "SELECT scenario_id, file, yaml, referenced FROM run_scenarios WHERE run_id = @id ORDER BY scenario_id",
                        ("id", runId)
                    )
                )
                await using (var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
                {
                    while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
                        scenarios.Add(
                            new ScenarioSource(
                                r.GetString(0),
                                r.GetString(1),
                                r.GetString(2),
                                JsonSerializer.Deserialize<ImmutableSortedDictionary<string, string>>(r.GetString(3), RunJson.Options)!
                            )
                        );
                }
                return run with { Scenarios = scenarios.ToImmutable() };
            },
            cancellationToken
        );

    public Task<IReadOnlyList<RunSummary>> ListRunsAsync(CancellationToken cancellationToken) =>
        RunAsync<IReadOnlyList<RunSummary>>(
            async c =>
            {
                var runs = new List<RunSummary>();
                const string sql = $"""
                    SELECT r.run_id, r.created, r.harness_version, r.manifest,
                           (SELECT COUNT(*) FROM episodes e WHERE e.run_id = r.run_id),
                           (SELECT COUNT(*) FROM episodes e WHERE e.run_id = r.run_id AND e.status = '{Completed}'),
                           (SELECT COUNT(*) FROM episodes e WHERE e.run_id = r.run_id AND e.status = '{Error}'),
                           (SELECT COALESCE(SUM(e.tokens), 0) FROM episodes e WHERE e.run_id = r.run_id)
                    FROM runs r ORDER BY r.created, r.run_id
                    """;
                await using var cmd = Command(c, null, sql);
                await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var manifest = JsonSerializer.Deserialize<RunManifest>(r.GetString(3), RunJson.Options)!;
                    runs.Add(
                        new RunSummary(
                            r.GetString(0),
                            DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1)),
                            r.GetString(2),
                            manifest.Models,
                            Convert.ToInt32(r.GetValue(4)),
                            Convert.ToInt32(r.GetValue(5)),
                            Convert.ToInt32(r.GetValue(6)),
                            Convert.ToInt64(r.GetValue(7))
                        )
                    );
                }
                return runs;
            },
            cancellationToken
        );

    public Task<IReadOnlyList<CellCounts>> CountCellsAsync(string runId, CancellationToken cancellationToken) =>
        RunAsync<IReadOnlyList<CellCounts>>(
            async c =>
            {
                var planned = new List<(string Cell, string Model, string Scenario, string Condition, int Planned)>();
                await using (
                    var cmd = Command(
                        c,
                        null,
                        "SELECT cell, model, scenario, condition, planned FROM cells WHERE run_id = @id",
                        ("id", runId)
                    )
                )
                await using (var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
                {
                    while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
                        planned.Add((r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), Convert.ToInt32(r.GetValue(4))));
                }
                var counts = new Dictionary<(string, string), int>();
                await using (
                    var cmd = Command(
                        c,
                        null,
                        "SELECT cell, status, COUNT(*) FROM episodes WHERE run_id = @id GROUP BY cell, status",
                        ("id", runId)
                    )
                )
                await using (var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
                {
                    while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
                        counts[(r.GetString(0), r.GetString(1))] = Convert.ToInt32(r.GetValue(2));
                }
                int Count(string cell, string status) => counts.GetValueOrDefault((cell, status));
                return
                [
                    .. planned.Select(p => new CellCounts(
                        p.Model,
                        p.Scenario,
                        p.Condition,
                        p.Planned,
                        Count(p.Cell, Pending),
                        Count(p.Cell, Running),
                        Count(p.Cell, Completed),
                        Count(p.Cell, Error)
                    )),
                ];
            },
            cancellationToken
        );

    /// <summary>Errors with their causes, commonest first.</summary>
    public Task<IReadOnlyList<(string Cause, int Count)>> ErrorCausesAsync(string runId, CancellationToken cancellationToken) =>
        RunAsync<IReadOnlyList<(string, int)>>(
            async c =>
            {
                var causes = new List<(string, int)>();
                await using var cmd = Command(
                    c,
                    null,
                    $"SELECT COALESCE(error_cause, ''), COUNT(*) FROM episodes WHERE run_id = @id AND status = '{Error}' GROUP BY error_cause ORDER BY COUNT(*) DESC",
                    ("id", runId)
                );
                await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
                    causes.Add((r.GetString(0), Convert.ToInt32(r.GetValue(1))));
                return causes;
            },
            cancellationToken
        );

    public Task DeleteRunAsync(string runId, CancellationToken cancellationToken) =>
        RunAsync(
            async c =>
            {
                await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                var found = await ExecuteAsync(c, tx, "DELETE FROM runs WHERE run_id = @id", cancellationToken, ("id", runId))
                    .ConfigureAwait(false);
                if (found == 0)
                    throw new RunNotFoundException($"{Location}: no run '{runId}'");
                foreach (var table in new[] { "batches", "interviews", "verdicts", "texts", "episodes", "cells", "run_scenarios" })
                    await ExecuteAsync(c, tx, $"DELETE FROM {table} WHERE run_id = @id", cancellationToken, ("id", runId))
                        .ConfigureAwait(false);
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                foreach (var key in _storedTexts.Keys.Where(k => k.Run == runId))
                    _storedTexts.TryRemove(key, out _);
            },
            cancellationToken
        );
}

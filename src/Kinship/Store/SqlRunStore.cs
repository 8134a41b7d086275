using System.Collections.Immutable;
using System.Data.Common;
using System.Text.Json;
using Kinship.Detectors;
using Kinship.Runs;

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
    public const int SchemaVersion = 5;

    protected const string Application = "kinship";

    /// <summary>The store as the user named it (a file path, or a PostgreSQL address without its password).</summary>
    public string Location { get; } = location;

    protected TimeProvider Time { get; } = time;

    /// <summary>Whether several machines can share this store (PostgreSQL); an SQLite file serves the processes of one machine.</summary>
    public abstract bool IsShared { get; }

    /// <summary>Why nothing can be written to this store (a read-only file, folder or mount), or null when it can be.</summary>
    public virtual string? ReadOnly => null;

    protected abstract Task<T> UseAsync<T>(Func<DbConnection, Task<T>> work, CancellationToken cancellationToken);

    /// <summary>The claim's condition on <c>idx</c> given its inner select, with the row locking the database needs so that concurrent claimers skip each other's rows.</summary>
    protected abstract string ClaimIndexes(string select);

    /// <summary>Turns a database error into one the user can act on, naming the store.</summary>
    protected abstract Exception Translate(DbException e);

    protected long Now => Time.GetUtcNow().ToUnixTimeMilliseconds();

    // The status column's text for each EpisodeStatus; SQL statements interpolate these constants.
    protected const string Pending = "pending",
        Running = "running",
        Completed = "completed",
        Error = "error";

    protected static string StatusText(EpisodeStatus status) =>
        status switch
        {
            EpisodeStatus.Pending => Pending,
            EpisodeStatus.Running => Running,
            EpisodeStatus.Completed => Completed,
            _ => Error,
        };

    protected static EpisodeStatus Status(string text) =>
        text switch
        {
            Pending => EpisodeStatus.Pending,
            Running => EpisodeStatus.Running,
            Completed => EpisodeStatus.Completed,
            Error => EpisodeStatus.Error,
            _ => throw new RunStoreException($"unknown episode status '{text}' in the store"),
        };

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
        RunAsync(
            async c =>
            {
                await work(c).ConfigureAwait(false);
                return 0;
            },
            cancellationToken
        );

    // ---- ADO.NET plumbing ----

    protected static DbCommand Command(
        DbConnection connection,
        DbTransaction? transaction,
        string sql,
        params (string Name, object? Value)[] parameters
    )
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

    /// <summary>
    /// The parameters of an episode's plan columns (index, cell, model, scenario, condition, ablations, rollout, seed),
    /// with placeholder values, for the statements that insert episodes (a planned run and an import);
    /// <see cref="SetSpec"/> binds them.
    /// </summary>
    private static readonly (string Name, object? Value)[] SpecParameters =
    [
        ("idx", 0),
        ("cell", ""),
        ("model", ""),
        ("scenario", ""),
        ("condition", ""),
        ("cj", ""),
        ("ab", "[]"),
        ("rollout", 0),
        ("seed", 0L),
    ];

    /// <summary>Binds an episode's plan columns, which a planned run and an import write alike.</summary>
    private static void SetSpec(DbCommand cmd, EpisodeSpec spec)
    {
        Set(cmd, "idx", spec.Index);
        Set(cmd, "cell", spec.Cell);
        Set(cmd, "model", spec.Model);
        Set(cmd, "scenario", spec.Scenario);
        Set(cmd, "condition", spec.Condition.Key);
        Set(cmd, "cj", JsonSerializer.Serialize(spec.Condition, RunJson.Options));
        Set(cmd, "ab", JsonSerializer.Serialize(spec.Ablations, RunJson.Options));
        Set(cmd, "rollout", spec.Rollout);
        Set(cmd, "seed", unchecked((long)spec.Seed));
    }

    /// <summary>
    /// The parameters of a finished episode's result columns, with placeholder values, for the statements that write
    /// them (a run's commit and an import); <see cref="SetResult"/> binds them.
    /// </summary>
    private static readonly (string Name, object? Value)[] ResultParameters =
    [
        ("status", ""),
        ("cause", null),
        ("stop", ""),
        ("tokens", 0L),
        ("critic", ""),
        ("subject", ""),
        ("tools", ""),
        ("transcript", ""),
        ("final", ""),
        ("calls", ""),
    ];

    /// <summary>Binds a finished episode's result columns, which a run's commit and an import write alike.</summary>
    private static void SetResult(DbCommand cmd, EpisodeRow row)
    {
        var e = row.Result;
        Set(cmd, "status", StatusText(e.Status));
        Set(cmd, "cause", e.ErrorCause);
        Set(cmd, "stop", e.Transcript.Stop.ToString());
        Set(cmd, "tokens", e.Transcript.Usage.Total);
        Set(cmd, "critic", e.Critic);
        Set(cmd, "subject", e.Subject);
        Set(cmd, "tools", row.Tools);
        Set(cmd, "transcript", row.Transcript);
        Set(cmd, "final", row.Final);
        Set(cmd, "calls", row.Calls);
    }

    protected static async Task<int> ExecuteAsync(
        DbConnection c,
        DbTransaction? tx,
        string sql,
        CancellationToken cancellationToken,
        params (string, object?)[] parameters
    )
    {
        await using var cmd = Command(c, tx, sql, parameters);
        return await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    protected static async Task<object?> ScalarAsync(
        DbConnection c,
        DbTransaction? tx,
        string sql,
        CancellationToken cancellationToken,
        params (string, object?)[] parameters
    )
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
internal sealed record EpisodeRow(
    EpisodeResult Result,
    string Tools,
    string Transcript,
    string Final,
    string Calls,
    ImmutableArray<string> Evidence,
    IReadOnlyDictionary<string, string> Texts
)
{
    public static EpisodeRow From(EpisodeResult e)
    {
        var texts = new Dictionary<string, string>(StringComparer.Ordinal);
        return new(
            e,
            JsonSerializer.Serialize(e.Tools, RunJson.Options),
            JsonSerializer.Serialize(StoredTexts.Pool(e.Transcript, texts), RunJson.Options),
            JsonSerializer.Serialize(StoredTexts.Pool(e.Final, texts), RunJson.Options),
            JsonSerializer.Serialize(e.Calls, RunJson.Options),
            [.. e.Verdicts.Select(v => JsonSerializer.Serialize(v.Evidence, RunJson.Options))],
            texts
        );
    }

    /// <summary>Interviews that arrive with the episode (an imported transcript's recorded follow-up), stored with it.</summary>
    public ImmutableArray<Interviews.Interview> Interviews { get; init; } = [];

    /// <summary>The episode's verdicts as rows, numbered from 0 as the run wrote them.</summary>
    public IEnumerable<(int Ord, Verdict Verdict, string Evidence)> VerdictRows() => Result.Verdicts.Select((v, i) => (i, v, Evidence[i]));
}

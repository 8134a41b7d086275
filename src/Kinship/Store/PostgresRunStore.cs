using System.Data.Common;
using System.Globalization;
using Kinship.Runs;
using Npgsql;

namespace Kinship.Store;

/// <summary>
/// A store in a PostgreSQL database, shared by workers on any number of machines. Claims lock the rows they take
/// and skip rows others hold (<c>FOR UPDATE SKIP LOCKED</c>), so concurrent workers never claim the same episode.
/// </summary>
internal sealed partial class PostgresRunStore : SqlRunStore
{
    private readonly NpgsqlDataSource _source;

    private PostgresRunStore(string location, NpgsqlDataSource source, TimeProvider time)
        : base(location, time) => _source = source;

    public override bool IsShared => true;

    // Not "idx IN (select … LIMIT n FOR UPDATE SKIP LOCKED)": PostgreSQL may rescan that subquery, and each rescan
    // skips the rows the last one locked, handing out more than n. ARRAY(…) evaluates it exactly once.
    protected override string ClaimIndexes(string select) => $"idx = ANY(ARRAY({select} FOR UPDATE SKIP LOCKED))";

    /// <summary>Accepts <c>postgres://user:password@host:port/database</c> or an Npgsql connection string (<c>Host=…;Database=…</c>).</summary>
    public static string ToConnectionString(string address)
    {
        if (
            !address.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
            && !address.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
        )
        {
            try
            {
                return new NpgsqlConnectionStringBuilder(address).ConnectionString;
            }
            catch (ArgumentException e)
            {
                throw new RunStoreException($"{Redact(address)}: not a PostgreSQL connection string ({e.Message})");
            }
        }
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
            throw new RunStoreException($"{Redact(address)}: not a PostgreSQL address (expected postgres://user@host:port/database)");
        var builder = new NpgsqlConnectionStringBuilder { Host = uri.Host, Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port };
        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length > 0)
            builder.Database = database;
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            builder.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length == 2)
                builder.Password = Uri.UnescapeDataString(parts[1]);
        }
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            try
            {
                builder[Uri.UnescapeDataString(kv[0])] = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : "";
            }
            catch (ArgumentException e)
            {
                throw new RunStoreException($"{Redact(address)}: unknown connection setting '{kv[0]}' ({e.Message})");
            }
        }
        return builder.ConnectionString;
    }

    /// <summary>The address with any password removed, for messages.</summary>
    public static string Redact(string address)
    {
        if (
            address.Contains("://", StringComparison.Ordinal)
            && Uri.TryCreate(address, UriKind.Absolute, out var uri)
            && uri.UserInfo.Contains(':', StringComparison.Ordinal)
        )
            return address.Replace(uri.UserInfo, uri.UserInfo.Split(':')[0] + ":***", StringComparison.Ordinal);
        try
        {
            var b = new NpgsqlConnectionStringBuilder(address);
            if (!string.IsNullOrEmpty(b.Password))
                b.Password = "***";
            return b.ConnectionString;
        }
        catch (ArgumentException)
        {
            return address.Contains("://", StringComparison.Ordinal) ? address : "(connection string)";
        }
    }

    public static async Task<PostgresRunStore> OpenAsync(string address, TimeProvider time, CancellationToken cancellationToken)
    {
        var shown = Redact(address);
        var builder = new NpgsqlConnectionStringBuilder(ToConnectionString(address));
        if (builder.Timeout == 15)
            builder.Timeout = 10;
        var source = NpgsqlDataSource.Create(builder.ConnectionString);
        try
        {
            await using var c = await source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            // Workers starting together would race to create the tables; one lock makes them take turns.
            await using (var cmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock(7306912)", c, tx))
                await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            await using (var cmd = new NpgsqlCommand("SELECT value FROM kinship_meta WHERE key = 'schema_version'", c, tx))
            {
                object? version = null;
                await using (var save = new NpgsqlCommand("SAVEPOINT probe", c, tx))
                    await save.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    version = await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
                {
                    await using var back = new NpgsqlCommand("ROLLBACK TO SAVEPOINT probe", c, tx);
                    await back.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
                if (version is string s)
                {
                    if (!int.TryParse(s, CultureInfo.InvariantCulture, out var v))
                        throw new RunStoreException($"{shown}: not a Kinship store (kinship_meta has no schema version)");
                    if (v > SchemaVersion)
                        throw new RunStoreException(
                            $"{shown}: written by a newer kinship (store schema {v}; this kinship reads up to {SchemaVersion}); upgrade kinship. The store was left untouched"
                        );
                    if (v < SchemaVersion)
                    {
                        // Under the advisory lock, so only one process upgrades; the others then see the new version.
                        await using var upgrade = new NpgsqlCommand(Schema.Upgrade(v, "bigint", "text"), c, tx);
                        await upgrade.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }
                }
                else
                {
                    await using var create = new NpgsqlCommand(
                        Schema.Tables("bigint", "text", "double precision")
                            + $"INSERT INTO kinship_meta (key, value) VALUES ('application', '{Application}'), ('schema_version', '{SchemaVersion}') ON CONFLICT (key) DO NOTHING;",
                        c,
                        tx
                    );
                    await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            return new PostgresRunStore(shown, source, time);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            await source.DisposeAsync().ConfigureAwait(false);
            throw new RunStoreException($"{shown}: cannot use PostgreSQL ({e.Message})");
        }
        catch
        {
            await source.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// How long an operation keeps reconnecting while the server is away (a restart, a failover, a dropped network)
    /// before the run stops with a message.
    /// </summary>
    private static readonly TimeSpan Reconnect = TimeSpan.FromMinutes(2);

    protected override async Task<T> UseAsync<T>(Func<DbConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        var started = Time.GetTimestamp();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var c = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                return await work(c).ConfigureAwait(false);
            }
            // Every operation is one transaction that rolled back whole, so running it again is safe.
            catch (PostgresException e)
                when (attempt < 5 && e.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20 * attempt), Time, cancellationToken).ConfigureAwait(false);
            }
            // The server went away: its transaction rolled back (or, if the connection broke just as it committed,
            // committed whole, and the repeat then finds its rows already done: a lease check rejects a second commit).
            catch (Exception e)
                when (IsConnectionLost(e) && Time.GetElapsedTime(started) < Reconnect && !cancellationToken.IsCancellationRequested)
            {
                // Broken connections stay in the pool until used; drop them so the next attempt dials afresh.
                _source.Clear();
                var pause = TimeSpan.FromMilliseconds(Math.Min(5000, 100 * (1 << Math.Min(attempt, 6))));
                await Task.Delay(pause, Time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The connection, not the statement, failed: the server shutting down or restarting (57P01–57P03), a connection
    /// exception (class 08), or the socket itself (refused, reset, closed mid-read).
    /// </summary>
    private static bool IsConnectionLost(Exception e) =>
        e switch
        {
            PostgresException p => p.SqlState
                is PostgresErrorCodes.AdminShutdown
                    or PostgresErrorCodes.CrashShutdown
                    or PostgresErrorCodes.CannotConnectNow
                || p.SqlState.StartsWith("08", StringComparison.Ordinal),
            NpgsqlException n => n.IsTransient
                || n.InnerException is System.Net.Sockets.SocketException or IOException or EndOfStreamException,
            System.Net.Sockets.SocketException or IOException => true,
            _ => false,
        };

    // Two processes planning the same run take turns: the second then finds the first's run and joins it.
    protected override async Task LockPlanAsync(DbConnection c, DbTransaction tx, string planHash, CancellationToken cancellationToken)
    {
        await using var cmd = Command(c, tx, "SELECT pg_advisory_xact_lock(hashtextextended(@hash, 0))", ("hash", planHash));
        await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override Exception Translate(DbException e) =>
        e switch
        {
            PostgresException { SqlState: PostgresErrorCodes.DiskFull } => new StoreFailureException(
                $"{Location}: the database server's disk is full; every episode committed before this is kept",
                e
            ),
            PostgresException p => new StoreFailureException(
                $"{Location}: PostgreSQL refused an operation ({p.SqlState}: {p.MessageText}); every episode committed before this is kept",
                e
            ),
            _ => new StoreFailureException(
                $"{Location}: lost the connection to PostgreSQL ({e.Message}); every episode committed before this is kept",
                e
            ),
        };

    public override ValueTask DisposeAsync() => _source.DisposeAsync();
}

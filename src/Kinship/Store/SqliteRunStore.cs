using System.Data.Common;
using System.Globalization;
using Kinship.Runs;
using Microsoft.Data.Sqlite;

namespace Kinship.Store;

/// <summary>Settings of an SQLite store. <b>Defaults</b>: no size limit.</summary>
internal sealed record SqliteStoreOptions
{
    /// <summary>Caps the file at this many pages, as a quota would; used to show what a full disk does.</summary>
    public long? MaxPageCount { get; init; }
}

/// <summary>
/// A store in one SQLite file, in WAL mode so readers never wait for the writer. One connection, used by one
/// operation at a time: SQLite has one writer anyway, and this keeps the process from contending with itself.
/// </summary>
internal sealed class SqliteRunStore : SqlRunStore
{
    private readonly SqliteConnection _connection;
    private readonly SemaphoreSlim _gate = new(1, 1);

    private readonly string? _readOnly;

    private SqliteRunStore(string path, SqliteConnection connection, TimeProvider time, string? readOnly)
        : base(path, time)
    {
        _connection = connection;
        _readOnly = readOnly;
    }

    public override bool IsShared => false;

    public override string? ReadOnly => _readOnly;

    // SQLite has one writer at a time, so the select cannot race another claim.
    protected override string ClaimIndexes(string select) => $"idx IN ({select})";

    /// <summary>
    /// Opens the store at <paramref name="path"/>, creating it if the file does not exist. A file that is not a
    /// Kinship store, or one written by a newer version, is refused before anything is written to it.
    /// </summary>
    public static async Task<SqliteRunStore> OpenAsync(
        string path,
        TimeProvider time,
        SqliteStoreOptions? options,
        CancellationToken cancellationToken
    )
    {
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full);
        if (folder is not null && !Directory.Exists(folder))
            throw new RunStoreException($"{path}: the folder {folder} does not exist");
        if (Directory.Exists(full))
            throw new RunStoreException($"{path}: is a folder, not a store file");
        var connection = Connection(full, SqliteOpenMode.ReadWriteCreate);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await CheckOrCreateAsync(path, connection, cancellationToken).ConfigureAwait(false);
            await CheckIntegrityAsync(path, connection, cancellationToken).ConfigureAwait(false);
            // SQLite falls back to reading a file it may not write (a read-only file or mount) without saying so.
            var readOnly = SQLitePCL.raw.sqlite3_db_readonly(connection.Handle, "main") == 1 ? "the file cannot be written" : null;
            // Durable across a killed process in WAL mode: a commit is in the log before it returns.
            await Exec(
                    connection,
                    (readOnly is null ? "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; " : "") + "PRAGMA cache_size = -65536;",
                    cancellationToken
                )
                .ConfigureAwait(false);
            if (options?.MaxPageCount is { } pages)
                await Exec(connection, $"PRAGMA max_page_count = {pages.ToString(CultureInfo.InvariantCulture)};", cancellationToken)
                    .ConfigureAwait(false);
            return new SqliteRunStore(path, connection, time, readOnly);
        }
        catch (SqliteException e) when (e.SqliteErrorCode is 14 or 8 && File.Exists(full) && !CanWriteIn(folder ?? "."))
        {
            // A WAL store in a folder that cannot be written (a read-only mount, a read-only bind into a sandbox): SQLite
            // cannot make the shared-memory file readers need, so the file is opened as immutable instead, which is
            // sound while no one can write it. A write-ahead log left beside it holds commits immutable would not
            // see, so that store is refused rather than read without them.
            await connection.DisposeAsync().ConfigureAwait(false);
            if (new FileInfo(full + "-wal") is { Exists: true, Length: > 0 })
                throw new RunStoreException(
                    $"{path}: the folder {folder} is read-only and the store's write-ahead log ({Path.GetFileName(full)}-wal) has commits not yet in the file; open it once where it can be written"
                );
            return await OpenImmutableAsync(path, full, folder ?? ".", time, cancellationToken).ConfigureAwait(false);
        }
        catch (SqliteException e) when (e.SqliteErrorCode is 14 or 8 && !File.Exists(full) && !CanWriteIn(folder ?? "."))
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw new RunStoreException(
                $"{path}: the store is read-only (the folder {folder} cannot be written, so no store can be made there)"
            );
        }
        catch (SqliteException e)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw Describe(path, e) ?? new RunStoreException($"{path}: cannot open the store ({e.Message})");
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static SqliteConnection Connection(string dataSource, SqliteOpenMode mode) =>
        new(
            new SqliteConnectionStringBuilder
            {
                DataSource = dataSource,
                Mode = mode,
                Pooling = false,
                DefaultTimeout = 60,
            }.ToString()
        );

    private static async Task<SqliteRunStore> OpenImmutableAsync(
        string path,
        string full,
        string folder,
        TimeProvider time,
        CancellationToken cancellationToken
    )
    {
        var uri =
            new UriBuilder
            {
                Scheme = "file",
                Host = "",
                Path = full,
            }
                .Uri
                .AbsoluteUri + "?immutable=1";
        var connection = Connection(uri, SqliteOpenMode.ReadOnly);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await CheckOrCreateAsync(path, connection, cancellationToken).ConfigureAwait(false);
            await CheckIntegrityAsync(path, connection, cancellationToken).ConfigureAwait(false);
            return new SqliteRunStore(path, connection, time, $"the folder {folder} cannot be written");
        }
        catch (SqliteException e)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw Describe(path, e) ?? new RunStoreException($"{path}: cannot open the store ({e.Message})");
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Whether a file can be made in <paramref name="folder"/>, by making one (deleted when closed): permissions alone
    /// do not tell, since root ignores them and a read-only mount refuses everyone.
    /// </summary>
    private static bool CanWriteIn(string folder)
    {
        try
        {
            using var probe = new FileStream(
                Path.Combine(folder, $".kinship-probe-{Guid.NewGuid():N}"),
                FileMode.CreateNew,
                FileAccess.Write,
                FileShare.None,
                1,
                FileOptions.DeleteOnClose
            );
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static async Task CheckOrCreateAsync(string path, SqliteConnection c, CancellationToken cancellationToken)
    {
        var tables = new List<string>();
        await using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table'";
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
                tables.Add(r.GetString(0));
        }
        if (tables.Count == 0)
        {
            // An episode row holds 5-10 kB of JSON: bigger pages mean fewer overflow pages per row. Only a new file takes it, outside a transaction.
            // Two processes may both find the file empty; the second waits for the first's transaction, and every
            // statement below is idempotent (IF NOT EXISTS, OR IGNORE), so it then changes nothing.
            await Exec(c, "PRAGMA page_size = 16384;", cancellationToken).ConfigureAwait(false);
            await using var tx = (SqliteTransaction)await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using var cmd = c.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText =
                Schema.Tables("INTEGER", "TEXT", "REAL")
                + $"INSERT OR IGNORE INTO kinship_meta (key, value) VALUES ('application', '{Application}'), ('schema_version', '{SchemaVersion}');";
            await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            return;
        }
        if (!tables.Contains("kinship_meta"))
            throw new RunStoreException(
                $"{path}: not a Kinship store (an SQLite database with other tables: {string.Join(", ", tables.Take(5))}); it was left untouched"
            );
        await using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = "SELECT value FROM kinship_meta WHERE key = 'schema_version'";
            var version = await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
            if (!int.TryParse(version, CultureInfo.InvariantCulture, out var v))
                throw new RunStoreException($"{path}: not a Kinship store (no schema version); it was left untouched");
            if (v > SchemaVersion)
                throw new RunStoreException(
                    $"{path}: written by a newer kinship (store schema {v}; this kinship reads up to {SchemaVersion}); upgrade kinship. The store was left untouched"
                );
        }
        if (await VersionAsync(c, cancellationToken).ConfigureAwait(false) is var old && old < SchemaVersion)
        {
            // An older store is brought up to date in one transaction: its runs keep every row.
            await using var tx = (SqliteTransaction)await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using var cmd = c.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = Schema.Upgrade(old, "INTEGER", "TEXT");
            await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Refuses a damaged file before anything reads counts from it or writes into it: SQLite's <c>quick_check</c>
    /// (every page's structure, without the costlier index-to-table cross-check of <c>integrity_check</c>) must say ok.
    /// </summary>
    private static async Task CheckIntegrityAsync(string path, SqliteConnection c, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        await using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = "PRAGMA quick_check(3)";
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
                problems.Add(r.GetString(0));
        }
        if (problems is not ["ok"])
            throw new RunStoreException(
                $"{path}: the store file is damaged (SQLite's quick_check: {string.Join("; ", problems)}); it was left untouched. "
                    + "Episodes committed before the damage may be recoverable into a new file with sqlite3's .recover"
            );
    }

    private static async Task<int> VersionAsync(SqliteConnection c, CancellationToken cancellationToken)
    {
        await using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT value FROM kinship_meta WHERE key = 'schema_version'";
        return int.Parse((string)(await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!, CultureInfo.InvariantCulture);
    }

    private static async Task Exec(SqliteConnection c, string sql, CancellationToken cancellationToken)
    {
        await using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task<T> UseAsync<T>(Func<DbConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await work(_connection).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    protected override Exception Translate(DbException e) =>
        (e is SqliteException s ? Describe(Location, s) : null)
        ?? new StoreFailureException($"{Location}: the store failed ({e.Message}); every episode committed before this is kept", e);

    private static Exception? Describe(string path, SqliteException e) =>
        e.SqliteErrorCode switch
        {
            26 => new RunStoreException($"{path}: not a Kinship store (not an SQLite database); it was left untouched"),
            11 => new RunStoreException(
                $"{path}: the store file is damaged ({e.Message}); episodes committed before the damage may be recoverable with sqlite3 .recover"
            ),
            13 => new StoreFailureException(
                $"{path}: the disk is full (or the store reached its size limit); every episode committed before this is kept: free space and resume the run",
                e
            ),
            10 => new StoreFailureException(
                $"{path}: cannot write the store (I/O error: {e.Message}); every episode committed before this is kept",
                e
            ),
            8 => new RunStoreException($"{path}: the store is read-only ({e.Message})"),
            14 => new RunStoreException($"{path}: cannot open the store file ({e.Message})"),
            _ => null,
        };

    public override async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync().ConfigureAwait(false);
        _gate.Dispose();
    }
}

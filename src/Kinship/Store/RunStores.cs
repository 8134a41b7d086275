using Kinship.Runs;

namespace Kinship.Store;

/// <summary>Opens the store a <c>--store</c> value names: a PostgreSQL address or connection string, or else an SQLite file path.</summary>
internal static class RunStores
{
    public const string DefaultPath = "kinship.db";

    public static bool IsPostgres(string location) =>
        location.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
        || location.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
        || location.Contains("Host=", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Opens the store. A store that cannot be written still opens for reading; when <paramref name="write"/> is set
    /// it is refused at once, before any work that would then have nowhere to go.
    /// </summary>
    public static async Task<SqlRunStore> OpenAsync(
        string location,
        TimeProvider time,
        CancellationToken cancellationToken,
        bool write = false
    )
    {
        SqlRunStore store = IsPostgres(location)
            ? await PostgresRunStore.OpenAsync(location, time, cancellationToken).ConfigureAwait(false)
            : await SqliteRunStore.OpenAsync(location, time, null, cancellationToken).ConfigureAwait(false);
        if (write && store.ReadOnly is { } why)
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw new RunStoreException(
                $"{location}: the store is read-only ({why}); nothing was run or changed. Reading it (runs list, show, report, export) still works"
            );
        }
        return store;
    }
}

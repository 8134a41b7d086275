namespace Kinship.Store;

/// <summary>Opens the store a <c>--store</c> value names: a PostgreSQL address or connection string, or else an SQLite file path.</summary>
internal static class RunStores
{
    public const string DefaultPath = "kinship.db";

    public static bool IsPostgres(string location) =>
        location.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
        || location.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
        || location.Contains("Host=", StringComparison.OrdinalIgnoreCase);

    public static async Task<SqlRunStore> OpenAsync(string location, TimeProvider time, CancellationToken cancellationToken) =>
        IsPostgres(location)
            ? await PostgresRunStore.OpenAsync(location, time, cancellationToken).ConfigureAwait(false)
            : await SqliteRunStore.OpenAsync(location, time, null, cancellationToken).ConfigureAwait(false);
}

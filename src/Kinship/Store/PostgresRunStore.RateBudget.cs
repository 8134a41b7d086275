using System.Globalization;
using Kinship.Models;
using Npgsql;

namespace Kinship.Store;

/// <summary>
/// The providers' per-minute budgets shared by every worker on this database: one row per provider host in
/// <c>kinship_rate_budgets</c> (created on first use; it holds no run data), read and refilled under a row lock, on the
/// database's clock so workers on machines whose clocks disagree still share one rate.
/// </summary>
internal sealed partial class PostgresRunStore : ISharedRateBudget
{
    private volatile bool _budgetsCreated;

    public async ValueTask<RateGrant> TakeAsync(string key, RateAsk ask, CancellationToken cancellationToken) =>
        await RunAsync(
                async connection =>
                {
                    var c = (NpgsqlConnection)connection;
                    if (!_budgetsCreated)
                    {
                        await using var create = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                        // Under the store's lock: concurrent CREATE TABLE IF NOT EXISTS can still collide in the catalogue.
                        await using (var cmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock(7306912)", c, create))
                            await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                        await using (
                            var cmd = new NpgsqlCommand(
                                "CREATE TABLE IF NOT EXISTS kinship_rate_budgets (key TEXT PRIMARY KEY, requests DOUBLE PRECISION NOT NULL, "
                                    + "tokens DOUBLE PRECISION NOT NULL, refilled DOUBLE PRECISION NOT NULL)",
                                c,
                                create
                            )
                        )
                            await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                        await create.CommitAsync(cancellationToken).ConfigureAwait(false);
                        _budgetsCreated = true;
                    }
                    await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                    // A new bucket starts almost empty, as a limiter's own does.
                    await using (
                        var insert = new NpgsqlCommand(
                            "INSERT INTO kinship_rate_budgets (key, requests, tokens, refilled) "
                                + "VALUES (@key, 1, @tokens, extract(epoch FROM clock_timestamp())) ON CONFLICT (key) DO NOTHING",
                            c,
                            tx
                        )
                    )
                    {
                        insert.Parameters.AddWithValue("key", key);
                        insert.Parameters.AddWithValue("tokens", RateBucket.TokenCapacity(ask.TokensPerMinute));
                        await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }
                    double requests,
                        tokens,
                        seconds;
                    await using (
                        var read = new NpgsqlCommand(
                            "SELECT requests, tokens, extract(epoch FROM clock_timestamp()) - refilled FROM kinship_rate_budgets WHERE key = @key FOR UPDATE",
                            c,
                            tx
                        )
                    )
                    {
                        read.Parameters.AddWithValue("key", key);
                        await using var row = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                        await row.ReadAsync(cancellationToken).ConfigureAwait(false);
                        (requests, tokens, seconds) = (
                            row.GetDouble(0),
                            row.GetDouble(1),
                            Convert.ToDouble(row.GetValue(2), CultureInfo.InvariantCulture)
                        );
                    }
                    (requests, tokens) = RateBucket.Refill(requests, tokens, seconds, ask.RequestsPerMinute, ask.TokensPerMinute);
                    var (grant, left, leftTokens) = RateBucket.Take(requests, tokens, ask);
                    await using (
                        var update = new NpgsqlCommand(
                            "UPDATE kinship_rate_budgets SET requests = @requests, tokens = @tokens, refilled = refilled + @seconds WHERE key = @key",
                            c,
                            tx
                        )
                    )
                    {
                        update.Parameters.AddWithValue("key", key);
                        update.Parameters.AddWithValue("requests", left);
                        update.Parameters.AddWithValue("tokens", leftTokens);
                        update.Parameters.AddWithValue("seconds", Math.Max(0, seconds));
                        await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }
                    await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                    return grant;
                },
                cancellationToken
            )
            .ConfigureAwait(false);
}

using System.Collections.Immutable;
using System.Text.Json;
using Kinship.Models;
using Kinship.Runs;

namespace Kinship.Store;

/// <summary>The batches each run sent to providers' batch APIs (<c>kinship run --batch</c>).</summary>
internal abstract partial class SqlRunStore
{
    /// <summary>The ledger of <paramref name="runId"/>'s batches, kept in this store.</summary>
    public IBatchLedger Batches(string runId) => new StoredBatchLedger(this, runId);

    /// <summary>The providers whose batch APIs <paramref name="runId"/> went through, which bill it at their batch share.</summary>
    public async Task<IReadOnlySet<string>> ReadBatchedProvidersAsync(string runId, CancellationToken cancellationToken) =>
        (await ReadBatchesAsync(runId, cancellationToken).ConfigureAwait(false)).Select(b => b.Provider).ToHashSet(StringComparer.Ordinal);

    public Task<IReadOnlyList<BatchEntry>> ReadBatchesAsync(string runId, CancellationToken cancellationToken) =>
        RunAsync<IReadOnlyList<BatchEntry>>(
            async c =>
            {
                var entries = new List<BatchEntry>();
                await using var cmd = Command(
                    c,
                    null,
                    "SELECT provider, model, batch_id, items, submitted FROM batches WHERE run_id = @run ORDER BY submitted, batch_id",
                    ("run", runId)
                );
                await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
                    entries.Add(
                        new BatchEntry(
                            r.GetString(0),
                            r.GetString(1),
                            r.GetString(2),
                            JsonSerializer.Deserialize<ImmutableArray<string>>(r.GetString(3), RunJson.Options),
                            DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(r.GetValue(4)))
                        )
                    );
                return entries;
            },
            cancellationToken
        );

    public Task RecordBatchAsync(string runId, BatchEntry entry, CancellationToken cancellationToken) =>
        RunAsync(
            async c =>
                await ExecuteAsync(
                        c,
                        null,
                        "INSERT INTO batches (run_id, provider, batch_id, model, submitted, items) VALUES (@run, @provider, @batch, @model, @submitted, @items)",
                        cancellationToken,
                        ("run", runId),
                        ("provider", entry.Provider),
                        ("batch", entry.BatchId),
                        ("model", entry.Model),
                        ("submitted", entry.Submitted.ToUnixTimeMilliseconds()),
                        ("items", JsonSerializer.Serialize(entry.Items, RunJson.Options))
                    )
                    .ConfigureAwait(false),
            cancellationToken
        );

    private sealed class StoredBatchLedger(SqlRunStore store, string runId) : IBatchLedger
    {
        public Task<IReadOnlyList<BatchEntry>> ReadAsync(CancellationToken cancellationToken) =>
            store.ReadBatchesAsync(runId, cancellationToken);

        public Task RecordAsync(BatchEntry entry, CancellationToken cancellationToken) =>
            store.RecordBatchAsync(runId, entry, cancellationToken);
    }
}

using System.Collections.Immutable;
using System.IO.Hashing;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace Kinship.Models;

/// <summary>A batch submitted for a run: the provider's id for it and the requests (their custom ids) it holds.</summary>
internal sealed record BatchEntry(string Provider, string Model, string BatchId, ImmutableArray<string> Items, DateTimeOffset Submitted);

/// <summary>
/// Where a run keeps the batches it submitted, so that a run resumed after a crash waits for the batches already paid
/// for instead of submitting their requests again. The store keeps one per run; a bench keeps one in memory.
/// </summary>
internal interface IBatchLedger
{
    Task<IReadOnlyList<BatchEntry>> ReadAsync(CancellationToken cancellationToken);

    Task RecordAsync(BatchEntry entry, CancellationToken cancellationToken);
}

/// <summary>A ledger that lives as long as the process: for benches and tests that need no resume.</summary>
internal sealed class MemoryBatchLedger : IBatchLedger
{
    private readonly List<BatchEntry> _entries = [];

    public Task<IReadOnlyList<BatchEntry>> ReadAsync(CancellationToken cancellationToken)
    {
        lock (_entries)
            return Task.FromResult<IReadOnlyList<BatchEntry>>([.. _entries]);
    }

    public Task RecordAsync(BatchEntry entry, CancellationToken cancellationToken)
    {
        lock (_entries)
            _entries.Add(entry);
        return Task.CompletedTask;
    }
}

/// <summary>
/// How a run goes through the providers' batch APIs (<c>--batch</c>). <b>Defaults</b>: a round is submitted once no
/// new request has joined it for 2 s (or it holds 10,000), each submitted batch is polled every 30 s, the system clock.
/// </summary>
internal sealed record BatchOptions(IBatchLedger Ledger)
{
    /// <summary>How often a submitted batch is asked whether it has ended (<c>--batch-poll</c>).</summary>
    public TimeSpan Poll { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A round is submitted once no request has joined it for this long.</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The most requests one batch holds; a round that reaches it is submitted at once.</summary>
    public int MaxRequests { get; init; } = 10_000;

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>What the run's batches came to, across every model.</summary>
    public BatchCounts Counts { get; init; } = new();

    /// <summary>The providers whose batch API Kinship speaks.</summary>
    public static readonly ImmutableArray<string> Providers = ["openai", "anthropic", "google"];
}

/// <summary>Batches created, requests sent in them, and requests answered from a batch an earlier process submitted.</summary>
internal sealed class BatchCounts
{
    private int _batches;
    private int _requests;
    private int _reused;

    public int Batches => Volatile.Read(ref _batches);

    public int Requests => Volatile.Read(ref _requests);

    public int Reused => Volatile.Read(ref _reused);

    internal void Created(int requests)
    {
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _requests, requests);
    }

    internal void Reuse() => Interlocked.Increment(ref _reused);
}

/// <summary>One request of a batch: its custom id and the body the provider's synchronous endpoint would have been sent.</summary>
internal sealed record BatchItem(string Id, JsonObject Body);

/// <summary>What a batch answered for one request: the HTTP status and body its synchronous endpoint would have answered.</summary>
internal sealed record BatchAnswer(int Status, string Body);

/// <summary>An ended batch's answers by custom id; <paramref name="Missing"/> says why a request it holds has none.</summary>
internal sealed record BatchResults(IReadOnlyDictionary<string, BatchAnswer> Answers, string Missing);

/// <summary>One provider's batch API: submit requests, ask whether the batch has ended, read its answers.</summary>
internal interface IBatchApi
{
    string Provider { get; }

    /// <summary>Submits <paramref name="items"/> as one batch and returns the provider's id for it.</summary>
    Task<string> CreateAsync(IReadOnlyList<BatchItem> items, CancellationToken cancellationToken);

    /// <summary>The batch's answers once it has ended (done, failed, expired or cancelled); null while it runs.</summary>
    Task<BatchResults?> CheckAsync(string batchId, CancellationToken cancellationToken);

    /// <summary>An error answer in the provider's own shape, as its synchronous endpoint would send it.</summary>
    BatchAnswer Error(int status, string message);
}

/// <summary>The episode whose request is on its way down the HTTP pipeline; the custom id of a batch request derives from it.</summary>
internal static class BatchSeat
{
    private static readonly AsyncLocal<ulong?> Seed = new();

    public static ulong? Current => Seed.Value;

    /// <summary>Sets the episode's seed for the calls made under it.</summary>
    public static void Take(ulong seed) => Seed.Value = seed;

    /// <summary>
    /// A request's custom id: a digest of the episode's seed and the request's body. An episode played again after a
    /// crash sends the same bodies (its turns are answered the same from the same batches), so it finds its requests
    /// in the batches it submitted before; episodes of a cell share their first request but not their seed.
    /// </summary>
    public static string ItemId(ulong seed, string body) =>
        "kinship-"
        + Convert.ToHexStringLower(
            XxHash128.Hash(Encoding.UTF8.GetBytes(seed.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\n" + body))
        );
}

/// <summary>Puts the episode's seed in <see cref="BatchSeat"/> for each call it makes.</summary>
internal sealed class BatchSeatChatClient(IChatClient inner, ulong seed) : DelegatingChatClient(inner)
{
    public override Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        CancellationToken cancellationToken = default
    )
    {
        BatchSeat.Take(seed);
        return base.GetResponseAsync(messages, options, cancellationToken);
    }
}

/// <summary>
/// Sits where the provider's SDK sends a model call, in front of the HTTP pipeline: takes the request body the SDK
/// built for the synchronous endpoint, puts it in the current batch round, and hands back the answer the batch gave
/// as the synchronous endpoint's response, so the SDK reads it as it reads any other.
/// </summary>
internal sealed class BatchCaptureHandler(BatchQueue queue) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var text = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (JsonNode.Parse(text) is not JsonObject body)
            throw new ModelException($"--batch: a request to {request.RequestUri?.Authority} has no JSON body to put in a batch");
        var answer = await queue.AnswerAsync(BatchSeat.ItemId(BatchSeat.Current ?? 0, text), body, cancellationToken).ConfigureAwait(false);
        return new HttpResponseMessage((HttpStatusCode)answer.Status)
        {
            Content = new StringContent(answer.Body, Encoding.UTF8, "application/json"),
            RequestMessage = request,
        };
    }
}

/// <summary>
/// One model's batch rounds. Each request joins the current round; once no request has joined for
/// <see cref="BatchOptions.Window"/> the round goes to the provider as one batch, which is recorded in the ledger and
/// polled until it ends, and every request of it gets its answer. A request that an earlier batch of the run already
/// holds (an episode played again after a crash) waits for that batch instead of being sent again.
/// </summary>
internal sealed class BatchQueue(IBatchApi api, string model, BatchOptions options)
{
    private readonly object _gate = new();
    private readonly Dictionary<string, string> _submitted = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Task<BatchResults>> _tracked = new(StringComparer.Ordinal);
    private Dictionary<string, Pending> _round = new(StringComparer.Ordinal);
    private ITimer? _timer;
    private Task? _loaded;

    private sealed record Pending(BatchItem Item, TaskCompletionSource<BatchAnswer> Answer);

    public async Task<BatchAnswer> AnswerAsync(string id, JsonObject body, CancellationToken cancellationToken)
    {
        await LoadAsync(cancellationToken).ConfigureAwait(false);
        Task<BatchResults>? earlier = null;
        string? batchId;
        Pending? pending = null;
        lock (_gate)
        {
            if (_submitted.TryGetValue(id, out batchId))
                earlier = Track(batchId);
            else if (!_round.TryGetValue(id, out pending))
            {
                pending = new Pending(new BatchItem(id, body), new(TaskCreationOptions.RunContinuationsAsynchronously));
                _round[id] = pending;
                if (_round.Count >= options.MaxRequests)
                    Flush();
                else
                {
                    _timer ??= options.Time.CreateTimer(_ => Due(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                    _timer.Change(options.Window, Timeout.InfiniteTimeSpan);
                }
            }
        }
        if (earlier is not null)
        {
            options.Counts.Reuse();
            return Pick(await earlier.WaitAsync(cancellationToken).ConfigureAwait(false), batchId!, id);
        }
        return await pending!.Answer.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads the run's earlier batches of this model once, before the first request is placed.</summary>
    private Task LoadAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
            return _loaded ??= ReadAsync();

        async Task ReadAsync()
        {
            var entries = await options.Ledger.ReadAsync(CancellationToken.None).ConfigureAwait(false);
            lock (_gate)
                foreach (var entry in entries.Where(e => e.Provider == api.Provider && e.Model == model))
                foreach (var item in entry.Items)
                    _submitted.TryAdd(item, entry.BatchId);
        }
    }

    private void Due()
    {
        lock (_gate)
            Flush();
    }

    /// <summary>Sends the current round, if any, as one batch; called under the lock.</summary>
    private void Flush()
    {
        if (_round.Count == 0)
            return;
        var round = _round.Values.ToList();
        _round = new(StringComparer.Ordinal);
        _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _ = SubmitAsync(round);
    }

    private async Task SubmitAsync(List<Pending> round)
    {
        try
        {
            var batchId = await api.CreateAsync([.. round.Select(p => p.Item)], CancellationToken.None).ConfigureAwait(false);
            options.Counts.Created(round.Count);
            var ids = round.Select(p => p.Item.Id).ToImmutableArray();
            await options
                .Ledger.RecordAsync(new BatchEntry(api.Provider, model, batchId, ids, options.Time.GetUtcNow()), CancellationToken.None)
                .ConfigureAwait(false);
            Task<BatchResults> results;
            lock (_gate)
            {
                foreach (var id in ids)
                    _submitted[id] = batchId;
                results = Track(batchId);
            }
            var ended = await results.ConfigureAwait(false);
            foreach (var p in round)
                p.Answer.TrySetResult(Pick(ended, batchId, p.Item.Id));
        }
        catch (Exception e)
        {
            var failure = new ModelException(
                $"--batch: a batch of {round.Count:N0} requests to {api.Provider}/{model} failed: {e.Message}"
            );
            foreach (var p in round)
                p.Answer.TrySetException(failure);
        }
    }

    /// <summary>The one poll of <paramref name="batchId"/> every request waiting on it shares; called under the lock.</summary>
    private Task<BatchResults> Track(string batchId)
    {
        if (!_tracked.TryGetValue(batchId, out var task) || task.IsFaulted)
            _tracked[batchId] = task = PollAsync(batchId);
        return task;
    }

    private async Task<BatchResults> PollAsync(string batchId)
    {
        while (true)
        {
            if (await api.CheckAsync(batchId, CancellationToken.None).ConfigureAwait(false) is { } results)
                return results;
            await Task.Delay(options.Poll, options.Time).ConfigureAwait(false);
        }
    }

    private BatchAnswer Pick(BatchResults results, string batchId, string id) =>
        results.Answers.TryGetValue(id, out var answer)
            ? answer
            : api.Error(500, $"--batch: batch {batchId} at {api.Provider} has no answer for request {id}: {results.Missing}");
}

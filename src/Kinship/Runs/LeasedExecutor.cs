using System.Threading.Channels;
using Kinship.Transcripts;

namespace Kinship.Runs;

/// <summary>
/// How a process works through a stored run. <b>Defaults</b>: 8 episodes in flight, 2-minute leases renewed while
/// episodes run, 3 attempts per episode, up to 256 finished episodes committed per transaction, 64 claimed ahead.
/// </summary>
internal sealed record ExecutorOptions
{
    public int Concurrency { get; init; } = 8;

    public TimeSpan Lease { get; init; } = TimeSpan.FromMinutes(2);

    public int MaxAttempts { get; init; } = 3;

    public int CommitBatch { get; init; } = 256;

    /// <summary>Episodes claimed beyond twice the concurrency, so the runners never wait for a claim.</summary>
    public int ClaimAhead { get; init; } = 64;

    /// <summary>How often to look again when every remaining episode is held by another worker.</summary>
    public TimeSpan Poll { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Asked before each claim and each episode start; once true, nothing new starts (a spent budget), episodes in
    /// flight finish and are committed, and episodes claimed but not started are handed back.
    /// </summary>
    public Func<bool>? StopStarting { get; init; }

    /// <summary>
    /// Pool threads the process should keep ready: scripted episodes finish without ever waiting, so the runners can
    /// hold every pool thread, and the writer and the claimer must still get one, or the run stalls until the pool
    /// slowly adds threads. The process that hosts the executor sets it (the pool is the process's, not the run's).
    /// </summary>
    public int PoolThreads => Math.Min(Concurrency, 64) + 4;

    public void Validate()
    {
        if (Concurrency < 1)
            throw new ArgumentException("concurrency must be at least 1");
        if (MaxAttempts < 1)
            throw new ArgumentException("max attempts must be at least 1");
        if (Lease <= TimeSpan.Zero)
            throw new ArgumentException("the lease must be positive");
        if (CommitBatch < 1)
            throw new ArgumentException("the commit batch must be at least 1");
    }
}

/// <summary>What a run's executor reports as it goes; called from several threads.</summary>
internal interface IRunProgress
{
    /// <summary>Episodes committed to the store in one transaction.</summary>
    void Committed(IReadOnlyList<EpisodeResult> episodes);

    /// <summary>Episodes recorded as errors because they used up their attempts.</summary>
    void GaveUp(int count);
}

/// <summary>
/// Works through a stored run under leases: claims episodes, runs them concurrently, and hands finished ones to a
/// single writer that commits them in batches. Any number of executors, in any number of processes, can serve one
/// run; the store sees to it that each episode is stored once.
/// </summary>
internal static class LeasedExecutor
{
    public static LeasedExecutor<TPrepared> Create<TPrepared>(
        IEpisodeQueue<TPrepared> queue,
        EpisodeRunner runner,
        ExecutorOptions options,
        TimeProvider time,
        IRunProgress? progress = null
    ) => new(queue, runner, options, time, progress);
}

/// <inheritdoc cref="LeasedExecutor"/>
internal sealed class LeasedExecutor<TPrepared>(
    IEpisodeQueue<TPrepared> store,
    EpisodeRunner runner,
    ExecutorOptions options,
    TimeProvider time,
    IRunProgress? progress = null
)
{
    /// <summary>Runs until the run has no pending episodes and none held by anyone. Returns how many episodes this process committed.</summary>
    public async Task<int> RunAsync(string runId, string owner, CancellationToken cancellationToken)
    {
        options.Validate();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // Set when the writer has failed: a runner waiting for room behind it would wait for ever.
        using var writerFailed = new CancellationTokenSource();
        var work = Channel.CreateUnbounded<EpisodeSpec>(new UnboundedChannelOptions { SingleWriter = true });
        // Runners go on while the writer commits, up to two batches ahead of it; then they wait for it.
        var done = Channel.CreateBounded<(EpisodeResult Result, TPrepared Prepared)>(
            new BoundedChannelOptions(options.CommitBatch * 2) { SingleReader = true }
        );
        var freed = new SemaphoreSlim(0);
        // Claimed episodes not yet run (queued or running), and those run but not yet committed.
        var outstanding = 0;
        var uncommitted = 0;
        var committed = 0;

        async Task Run()
        {
            await foreach (var spec in work.Reader.ReadAllAsync(stop.Token).ConfigureAwait(false))
            {
                if (options.StopStarting?.Invoke() == true)
                {
                    // Left claimed: handed back with the others when the run stops.
                    Interlocked.Decrement(ref outstanding);
                    freed.Release();
                    continue;
                }
                EpisodeResult result;
                try
                {
                    result = await runner.RunAsync(spec, stop.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A harness bug, not a model failure: stop claiming, keep what finished, and report it.
                    await stop.CancelAsync().ConfigureAwait(false);
                    throw;
                }
                // Cut off by cancellation: not a result. The episode stays claimed and is redone by the next resume or worker.
                if (result.Transcript.Stop == StopReason.Cancelled)
                    continue;
                Interlocked.Increment(ref uncommitted);
                try
                {
                    await done.Writer.WriteAsync((result, store.Prepare(result)), writerFailed.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (writerFailed.IsCancellationRequested)
                {
                    return;
                }
                Interlocked.Decrement(ref outstanding);
                freed.Release();
            }
        }

        async Task Write()
        {
            var batch = new List<(EpisodeResult Result, TPrepared Prepared)>(options.CommitBatch);
            // Reads on after cancellation: whatever finished is committed before the process stops.
            while (await done.Reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
            {
                while (batch.Count < options.CommitBatch && done.Reader.TryRead(out var r))
                    batch.Add(r);
                var accepted = await store
                    .CompleteAsync(runId, owner, [.. batch.Select(b => b.Prepared)], CancellationToken.None)
                    .ConfigureAwait(false);
                Interlocked.Add(ref committed, accepted.Count);
                if (progress is not null)
                {
                    var set = accepted.ToHashSet();
                    progress.Committed([.. batch.Where(e => set.Contains(e.Result.Spec.Index)).Select(e => e.Result)]);
                }
                Interlocked.Add(ref uncommitted, -batch.Count);
                freed.Release();
                batch.Clear();
            }
        }

        async Task Renew()
        {
            var every = options.Lease / 3;
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(every, time, stop.Token).ConfigureAwait(false);
                await store.RenewAsync(runId, owner, options.Lease, stop.Token).ConfigureAwait(false);
            }
        }

        var writer = Task.Run(Write, CancellationToken.None);
        var runners = Enumerable.Range(0, options.Concurrency).Select(_ => Task.Run(Run, CancellationToken.None)).ToArray();
        var renewer = Task.Run(Renew, CancellationToken.None);
        // A failed writer (a full disk) or renewer stops the claiming at once rather than when the work runs out.
        _ = writer.ContinueWith(
            _ =>
            {
                writerFailed.Cancel();
                stop.Cancel();
            },
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted,
            TaskScheduler.Default
        );
        _ = renewer.ContinueWith(_ => stop.Cancel(), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

        Exception? failure = null;
        try
        {
            // Claimed episodes wait in memory a few dozen beyond what is running; their leases are renewed meanwhile.
            // Claims come in chunks so the store is not asked once per episode.
            var limit = options.Concurrency * 2 + options.ClaimAhead;
            var chunk = Math.Max(1, Math.Min(limit / 2, options.ClaimAhead));
            while (!stop.IsCancellationRequested && options.StopStarting?.Invoke() != true)
            {
                var room = limit - Volatile.Read(ref outstanding);
                if (room < chunk && Volatile.Read(ref outstanding) > 0)
                {
                    await freed.WaitAsync(stop.Token).ConfigureAwait(false);
                    continue;
                }
                var claim = await store
                    .ClaimAsync(runId, owner, room, options.Lease, options.MaxAttempts, stop.Token)
                    .ConfigureAwait(false);
                if (claim.GivenUp > 0)
                    progress?.GaveUp(claim.GivenUp);
                if (claim.Episodes.Length > 0)
                {
                    Interlocked.Add(ref outstanding, claim.Episodes.Length);
                    foreach (var spec in claim.Episodes)
                        work.Writer.TryWrite(spec);
                    continue;
                }
                if (Volatile.Read(ref outstanding) + Volatile.Read(ref uncommitted) > 0)
                {
                    await freed.WaitAsync(stop.Token).ConfigureAwait(false);
                    continue;
                }
                if (await store.CountUnfinishedAsync(runId, stop.Token).ConfigureAwait(false) == 0)
                    break;
                // The rest is held by other workers: wait for them to finish it or for their leases to expire.
                await Task.Delay(options.Poll, time, stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
        catch (Exception e)
        {
            failure = e;
        }
        work.Writer.TryComplete();
        try
        {
            await Task.WhenAll(runners).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
        catch (Exception e)
        {
            failure ??= e;
        }
        done.Writer.TryComplete();
        try
        {
            await writer.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            failure = e;
        }
        await stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await renewer.ConfigureAwait(false);
        }
        catch (OperationCanceledException) { }
        catch (Exception e)
        {
            failure ??= e;
        }
        freed.Dispose();
        if ((cancellationToken.IsCancellationRequested || options.StopStarting?.Invoke() == true) && failure is null)
            await store.ReleaseOwnAsync(runId, owner, CancellationToken.None).ConfigureAwait(false);

        if (failure is not null)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        cancellationToken.ThrowIfCancellationRequested();
        return committed;
    }
}

namespace Kinship.IntegrationTests.Models;

/// <summary>
/// Real time, sped up: a timer due in <c>d</c> fires after <c>d × scale</c>, and clocks run <c>1/scale</c> as fast.
/// Backoffs, Retry-After waits and attempt timeouts keep their real proportions against a real loopback server,
/// but a 2 s backoff takes 2 ms.
/// </summary>
internal sealed class ScaledTimeProvider(double scale) : TimeProvider
{
    private readonly long _start = System.GetTimestamp();
    private readonly DateTimeOffset _startUtc = System.GetUtcNow();

    public override long GetTimestamp() => _start + (long)((System.GetTimestamp() - _start) / scale);

    public override DateTimeOffset GetUtcNow() => _startUtc + System.GetElapsedTime(_start) / scale;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        new ScaledTimer(System.CreateTimer(callback, state, Scale(dueTime, scale), Scale(period, scale)), scale);

    private static TimeSpan Scale(TimeSpan t, double scale) =>
        t == Timeout.InfiniteTimeSpan ? t : TimeSpan.FromTicks((long)(t.Ticks * scale));

    /// <summary>Timers are re-armed too (CancellationTokenSource.CancelAfter does), so Change scales as well.</summary>
    private sealed class ScaledTimer(ITimer inner, double scale) : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period) => inner.Change(Scale(dueTime, scale), Scale(period, scale));

        public void Dispose() => inner.Dispose();

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}

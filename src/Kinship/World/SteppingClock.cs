namespace Kinship.World;

/// <summary>
/// A scenario clock that starts at a fixed instant and moves forward by a fixed step each time it is read,
/// so timestamps the world writes are distinct, ordered and the same on every run.
/// </summary>
internal sealed class SteppingClock(DateTimeOffset start, TimeSpan step) : TimeProvider
{
    private long _reads;

    public override DateTimeOffset GetUtcNow() => start + step * Interlocked.Increment(ref _reads);

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
}

using Kinship.Runs;

namespace Kinship.Bench;

/// <summary>A store that keeps nothing, so the pipeline is measured without I/O or serialization.</summary>
internal sealed class NullRunStore : IRunStore
{
    public Task BeginAsync(RunManifest manifest, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task AppendAsync(EpisodeResult episode, CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>A clock that never moves, so transcripts (which record seconds) come out the same on every run.</summary>
internal sealed class FrozenTime : TimeProvider
{
    public override long GetTimestamp() => 0;
}

namespace Kinship.Runs;

/// <summary>Where a run's results go: its manifest first, then each finished episode, committed one at a time.</summary>
internal interface IRunStore : IAsyncDisposable
{
    Task BeginAsync(RunManifest manifest, CancellationToken cancellationToken);

    Task AppendAsync(EpisodeResult episode, CancellationToken cancellationToken);
}

/// <summary>A run that was stored, read back.</summary>
internal sealed record StoredRun(RunManifest Manifest, IReadOnlyList<EpisodeResult> Episodes, IReadOnlyList<string> Warnings);

/// <summary>A store that cannot be read, with the file and line at fault.</summary>
internal sealed class RunStoreException(string message) : Exception(message);

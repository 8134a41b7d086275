using System.Collections.Immutable;

namespace Kinship.Runs;

/// <summary>Episodes handed to one worker under a lease, and how many were given up on because they had used all their attempts.</summary>
internal sealed record ClaimResult(ImmutableArray<EpisodeSpec> Episodes, int GivenUp);

/// <summary>
/// A stored run's episodes as a queue under leases: what <see cref="LeasedExecutor"/> needs of a store. Any number of
/// executors, in any number of processes, may serve one run; the queue sees to it that each episode is stored once.
/// <typeparamref name="TPrepared"/> is a finished episode as the store will write it.
/// </summary>
internal interface IEpisodeQueue<TPrepared>
{
    /// <summary>Up to <paramref name="count"/> episodes for <paramref name="owner"/>, each held for <paramref name="lease"/>; episodes that used <paramref name="maxAttempts"/> are given up on.</summary>
    Task<ClaimResult> ClaimAsync(
        string runId,
        string owner,
        int count,
        TimeSpan lease,
        int maxAttempts,
        CancellationToken cancellationToken
    );

    /// <summary>Extends the leases <paramref name="owner"/> holds.</summary>
    Task<int> RenewAsync(string runId, string owner, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>Hands back the episodes <paramref name="owner"/> claimed and did not finish.</summary>
    Task<int> ReleaseOwnAsync(string runId, string owner, CancellationToken cancellationToken);

    /// <summary>Episodes neither completed nor errored, held or not. Throws when the run is no longer in the store (deleted while it ran).</summary>
    Task<int> CountUnfinishedAsync(string runId, CancellationToken cancellationToken);

    /// <summary>An episode serialised for <see cref="CompleteAsync"/>: called on the runner's thread, so the work spreads over cores.</summary>
    TPrepared Prepare(EpisodeResult episode);

    /// <summary>Stores finished episodes in one transaction; returns the indexes accepted (those still leased to <paramref name="owner"/>).</summary>
    Task<IReadOnlyList<int>> CompleteAsync(
        string runId,
        string owner,
        IReadOnlyList<TPrepared> episodes,
        CancellationToken cancellationToken
    );
}

using Kinship.Runs;

namespace Kinship.Store;

/// <summary>Runs whose episodes arrive finished (imported transcripts), stored whole or not at all.</summary>
internal interface IRunImport
{
    Task ImportAsync(RunRecord run, IReadOnlyList<EpisodeRow> rows, CancellationToken cancellationToken);

    /// <summary>
    /// Stores an imported run as its episodes arrive, in one transaction: <paramref name="produce"/> hands the rows
    /// over in batches, then returns the run's record, or null to store nothing.
    /// </summary>
    Task ImportAsync(
        string runId,
        Func<Func<IReadOnlyList<EpisodeRow>, Task>, Task<RunRecord?>> produce,
        CancellationToken cancellationToken
    );
}

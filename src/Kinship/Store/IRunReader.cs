using Kinship.Runs;

namespace Kinship.Store;

/// <summary>A run's finished episodes, for reports, exports and re-scoring.</summary>
internal interface IRunReader
{
    /// <exception cref="RunNotFoundException">The store holds no such run.</exception>
    Task<RunRecord> GetRunAsync(string runId, CancellationToken cancellationToken);

    /// <summary>Every finished episode's outcome, by index: what the numbers are computed from.</summary>
    Task<IReadOnlyList<EpisodeOutcome>> ReadOutcomesAsync(string runId, CancellationToken cancellationToken);

    /// <summary>Every finished episode whole, by index. Episodes given up on have an empty transcript with their cause.</summary>
    Task<IReadOnlyList<EpisodeResult>> ReadEpisodesAsync(string runId, CancellationToken cancellationToken);

    Task<EpisodeResult?> ReadEpisodeAsync(string runId, int index, CancellationToken cancellationToken);

    /// <summary>Finished episodes in batches by index, so a large run can be worked through without holding it all.</summary>
    IAsyncEnumerable<IReadOnlyList<EpisodeResult>> ReadEpisodeBatchesAsync(string runId, int batch, CancellationToken cancellationToken);

    /// <summary>The run's follow-up interviews by episode and number, read a page of episodes at a time.</summary>
    IAsyncEnumerable<StoredInterview> ReadRunInterviewsAsync(string runId, CancellationToken cancellationToken);
}

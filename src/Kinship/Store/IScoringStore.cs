using System.Collections.Immutable;
using Kinship.Detectors;

namespace Kinship.Store;

/// <summary>Re-scorings of stored runs.</summary>
internal interface IScoringStore
{
    /// <summary>Records a re-scoring and its verdicts in one transaction and returns its id (one more than the run's last).</summary>
    Task<int> AddScoringAsync(
        string runId,
        ScoringRecord scoring,
        IReadOnlyList<(int Index, ImmutableArray<Verdict> Verdicts)> verdicts,
        CancellationToken cancellationToken
    );
}

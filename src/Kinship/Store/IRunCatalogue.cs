using Kinship.Runs;

namespace Kinship.Store;

/// <summary>The runs a store holds, for planning (<c>kinship run</c>) and for <c>kinship runs</c>.</summary>
internal interface IRunCatalogue
{
    /// <summary>The store as the user named it (a file path, or a PostgreSQL address without its password).</summary>
    string Location { get; }

    /// <summary>Stores a run and its whole plan, every episode pending, in one transaction.</summary>
    Task CreateRunAsync(RunRecord run, RunPlan plan, CancellationToken cancellationToken);

    /// <summary>The newest unfinished run with <paramref name="run"/>'s plan, or else <paramref name="run"/> stored with its plan, in one step no other process can come between.</summary>
    Task<(string RunId, bool Created)> CreateOrJoinRunAsync(RunRecord run, RunPlan plan, CancellationToken cancellationToken);

    /// <summary>The newest run with this plan that still has episodes to do, if any.</summary>
    Task<string?> FindUnfinishedAsync(string planHash, CancellationToken cancellationToken);

    /// <summary>The oldest run that still has episodes to do, for workers not told which run to serve.</summary>
    Task<string?> FindNextUnfinishedAsync(CancellationToken cancellationToken);

    /// <exception cref="RunNotFoundException">The store holds no such run.</exception>
    Task<RunRecord> GetRunAsync(string runId, CancellationToken cancellationToken);

    Task<IReadOnlyList<RunSummary>> ListRunsAsync(CancellationToken cancellationToken);

    Task<IReadOnlyList<CellCounts>> CountCellsAsync(string runId, CancellationToken cancellationToken);

    /// <summary>Errors with their causes, commonest first.</summary>
    Task<IReadOnlyList<(string Cause, int Count)>> ErrorCausesAsync(string runId, CancellationToken cancellationToken);

    Task DeleteRunAsync(string runId, CancellationToken cancellationToken);
}

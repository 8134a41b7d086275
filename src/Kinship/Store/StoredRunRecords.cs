using System.Collections.Immutable;
using Kinship.Runs;

namespace Kinship.Store;

/// <summary>How many of a cell's planned episodes are in each state.</summary>
internal sealed record CellCounts(
    string Model,
    string Scenario,
    string Condition,
    int Planned,
    int Pending,
    int Running,
    int Completed,
    int Error
)
{
    public int Finished => Completed + Error;
}

/// <summary>One run in a store, for listings.</summary>
internal sealed record RunSummary(
    string RunId,
    DateTimeOffset Created,
    string HarnessVersion,
    ImmutableArray<string> Models,
    int Planned,
    int Completed,
    int Error,
    long Tokens
)
{
    public int Unfinished => Planned - Completed - Error;
}

/// <summary>A store that holds no such run.</summary>
internal sealed class RunNotFoundException(string message) : Exception(message);

/// <summary>A run deleted from the store while a process was running it: the process stops instead of claiming to have stored it.</summary>
internal sealed class RunDeletedException(string message) : Exception(message);

/// <summary>
/// A store that failed while working (a full disk, a lost connection): the message names the store, and what was
/// committed before the failure is kept.
/// </summary>
internal sealed class StoreFailureException(string message, Exception inner) : Exception(message, inner);

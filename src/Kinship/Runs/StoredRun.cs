using System.Collections.Immutable;
using Kinship.Detectors;
using Kinship.Scenarios;

namespace Kinship.Runs;

/// <summary>
/// A stored run's outcomes, what its numbers are computed from: the manifest, each finished episode's outcome, and
/// any warnings from reading it.
/// </summary>
internal sealed record RunResults(RunManifest Manifest, IReadOnlyList<EpisodeOutcome> Outcomes, IReadOnlyList<string> Warnings)
{
    /// <summary>The task each of the run's scenarios names (its <c>task</c> field), from the scenarios the run stored.</summary>
    public ImmutableDictionary<string, string> Tasks { get; init; } = ImmutableDictionary<string, string>.Empty;

    /// <summary>The task a scenario of this run names: from the scenarios it stored, else the built-in scenario of that id; null when neither is known.</summary>
    public string? Task(string scenario) =>
        Tasks.TryGetValue(scenario, out var task) ? task
        : ScenarioLoader.BuiltInIds.Contains(scenario) ? ScenarioLoader.LoadBuiltIn(scenario).Task
        : null;

    /// <summary>The run as a report of scoring <paramref name="upTo"/> sees it: verdicts written by that scoring or before it.</summary>
    public RunResults AsOf(int upTo) =>
        this with
        {
            Outcomes = [.. Outcomes.Select(o => o with { Verdicts = VerdictSelection.UpTo(o.Verdicts, upTo) })],
        };
}

/// <summary>A stored run read whole: every finished episode with its transcript, final state and tool calls.</summary>
internal sealed record StoredRun(RunManifest Manifest, IReadOnlyList<EpisodeResult> Episodes, IReadOnlyList<string> Warnings)
{
    /// <inheritdoc cref="RunResults.Tasks"/>
    public ImmutableDictionary<string, string> Tasks { get; init; } = ImmutableDictionary<string, string>.Empty;

    /// <summary>The run's outcomes, for its numbers.</summary>
    public RunResults Results() => new(Manifest, [.. Episodes.Select(e => e.Outcome)], Warnings) { Tasks = Tasks };

    /// <inheritdoc cref="RunResults.AsOf"/>
    public StoredRun AsOf(int upTo) =>
        this with
        {
            Episodes = [.. Episodes.Select(e => e with { Verdicts = VerdictSelection.UpTo(e.Verdicts, upTo) })],
        };
}

/// <summary>A store that cannot be read, with the file and line at fault.</summary>
internal sealed class RunStoreException(string message) : Exception(message);

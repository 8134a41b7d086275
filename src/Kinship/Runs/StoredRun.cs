using System.Collections.Immutable;
using Kinship.Scenarios;

namespace Kinship.Runs;

/// <summary>A run that was stored, read back.</summary>
internal sealed record StoredRun(RunManifest Manifest, IReadOnlyList<EpisodeResult> Episodes, IReadOnlyList<string> Warnings)
{
    /// <summary>The task each of the run's scenarios names (its <c>task</c> field), from the scenarios the run stored.</summary>
    public ImmutableDictionary<string, string> Tasks { get; init; } = ImmutableDictionary<string, string>.Empty;

    /// <summary>The task a scenario of this run names: from the scenarios it stored, else the built-in scenario of that id; null when neither is known.</summary>
    public string? Task(string scenario) =>
        Tasks.TryGetValue(scenario, out var task) ? task
        : ScenarioLoader.BuiltInIds.Contains(scenario) ? ScenarioLoader.LoadBuiltIn(scenario).Task
        : null;
}

/// <summary>A store that cannot be read, with the file and line at fault.</summary>
internal sealed class RunStoreException(string message) : Exception(message);

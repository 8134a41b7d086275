using System.Collections.Immutable;
using Kinship.Agents;
using Kinship.Scenarios;

namespace Kinship.Runs;

/// <summary>What a run was asked to do, recorded before its first episode so it can be understood and rebuilt from its store.</summary>
internal sealed record RunManifest(
    string RunId,
    DateTimeOffset Started,
    string HarnessVersion,
    ImmutableArray<string> Models,
    ImmutableSortedDictionary<string, string> Scenarios,
    ImmutableArray<string> Relationships,
    ImmutableArray<string> Conveyances,
    ImmutableArray<string> Subjects,
    int Rollouts,
    ulong Seed,
    int PlannedEpisodes,
    RenderOptions Render,
    AgentLoopOptions Loop
)
{
    /// <summary>The preset the plan came from (<c>study</c>), if any.</summary>
    public string? Preset { get; init; }

    /// <summary>Where the episodes played (<see cref="Harnesses"/>); null for the study's world.</summary>
    public string? Harness { get; init; }

    /// <summary>Ablations switched on for every episode.</summary>
    public ImmutableArray<string> Ablations { get; init; } = [];

    public ImmutableArray<string> Monitoring { get; init; } = [];

    public ImmutableArray<string> Datasets { get; init; } = [];
}

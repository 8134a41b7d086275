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
    AgentLoopOptions Loop);

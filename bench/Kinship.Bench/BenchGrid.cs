using System.Collections.Immutable;
using Kinship.Agents;
using Kinship.Models;
using Kinship.Runs;
using Kinship.Scenarios;
using Kinship.Scripted;

namespace Kinship.Bench;

/// <summary>The grid every measurement runs: both built-in scenarios, every scripted reference agent, R rollouts, built as <c>kinship run</c> builds it.</summary>
internal sealed record BenchGrid(
    IReadOnlyDictionary<string, ScenarioDefinition> Scenarios,
    IReadOnlyDictionary<string, AgentModel> Models,
    RenderOptions Render,
    AgentLoopOptions Loop,
    RunPlan Plan,
    ulong Seed
)
{
    public static BenchGrid Build(int rollouts, ulong seed = 1)
    {
        var scenarios = ScenarioLoader.BuiltInIds.Select(ScenarioLoader.LoadBuiltIn).ToDictionary(s => s.Id, StringComparer.Ordinal);
        var models = ReferenceAgents
            .Default.Select(n => AgentResolver.Resolve("scripted/" + n, new ModelOptions()))
            .ToDictionary(m => m.Id, StringComparer.Ordinal);
        var plan = RunPlan.Build(models.Keys, scenarios.Values, ConditionFilter.All, rollouts, seed);
        return new BenchGrid(scenarios, models, new RenderOptions(), new AgentLoopOptions(), plan, seed);
    }

    public EpisodeRunner Runner(TimeProvider time) => new(Scenarios, Models, Render, Loop, time);

    public RunManifest Manifest(string runId) =>
        new(
            runId,
            DateTimeOffset.UtcNow,
            "bench",
            [.. Models.Keys],
            Scenarios.ToImmutableSortedDictionary(d => d.Key, d => d.Value.SourcePath),
            [],
            [],
            [],
            Plan.Episodes.IsEmpty ? 0 : Plan.Episodes.Max(e => e.Rollout) + 1,
            Seed,
            Plan.Episodes.Length,
            Render,
            Loop
        );
}

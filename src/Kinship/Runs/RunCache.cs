using System.Collections.Concurrent;
using System.Collections.Immutable;
using Kinship.Detectors;
using Kinship.Scenarios;
using Kinship.Scoring;
using Kinship.Tools;

namespace Kinship.Runs;

/// <summary>
/// What the episodes of one run (or one replay, import or re-scoring) share, made once and passed in: each cell's
/// rendered scenario, its detectors, the tools' listings and the report readings. Everything kept is a pure function
/// of immutable values, so sharing changes no result; dropping the cache drops it all.
/// </summary>
internal sealed class RunCache
{
    private readonly ConcurrentDictionary<
        (string Scenario, Condition Condition, AgentIdentity Identity, string Company, bool Strict, string Ablations),
        ScenarioInstance
    > _instances = new();
    private readonly ConcurrentDictionary<ScenarioInstance, ImmutableArray<IDetector>> _detectors = new(ReferenceEqualityComparer.Instance);

    public ToolCache Tools { get; } = new();

    public ReportReadings Readings { get; } = new();

    /// <summary>The rules of each rendered scenario, its own detectors, as a scorer.</summary>
    public RuleScorer Rules => field ??= new RuleScorer(Detectors, Readings);

    /// <summary>
    /// The scenario rendered for a condition, critic and options. Rendering depends on nothing else and the instance is
    /// immutable (the world is a value), so every rollout of a cell shares one instead of filling the placeholders again.
    /// </summary>
    public ScenarioInstance Instance(ScenarioDefinition scenario, Condition condition, AgentIdentity identity, RenderOptions render) =>
        _instances.GetOrAdd(
            (scenario.Id, condition, identity, render.Company, render.StrictMemoryInstruction, string.Join(',', render.Ablations)),
            static (_, a) => ScenarioRenderer.Render(a.scenario, a.condition, a.identity, a.render),
            (scenario, condition, identity, render)
        );

    /// <summary>The detectors a rendered scenario asks for, built once per instance (they keep no state).</summary>
    public ImmutableArray<IDetector> Detectors(ScenarioInstance instance) => _detectors.GetOrAdd(instance, DetectorRegistry.For);
}

using System.Collections.Immutable;
using System.Text;
using Kinship.Scenarios;

namespace Kinship.Runs;

/// <summary>Which levels of each factor to run; an empty set means every level the scenario offers.</summary>
internal sealed record ConditionFilter(
    ImmutableHashSet<Relationship> Relationships,
    ImmutableHashSet<Conveyance> Conveyances,
    ImmutableHashSet<Subject> Subjects
)
{
    public static readonly ConditionFilter All = new([], [], []);

    public ImmutableHashSet<Monitoring> Monitoring { get; init; } = [];

    /// <summary>Datasets (<c>factual</c>) or settings (<c>factual@80</c>) to keep.</summary>
    public ImmutableHashSet<string> Settings { get; init; } = [];

    /// <summary>
    /// The cells a scenario runs under this filter. A peer of another family is the same cell as the same-family
    /// peer with the peer renamed (the renderer names it), so a scenario that runs <c>peer</c> can run every
    /// cross-family subject: each one the filter asks for and the grid does not list is added as a copy of the grid's
    /// peer cells. Without this a scenario file would have to list every family, and <c>--subject other_lab_peer</c>
    /// selected nothing.
    /// </summary>
    public IEnumerable<Condition> Cells(IReadOnlyList<Condition> grid)
    {
        var added = Subjects.Where(s => Names.CrossFamilySubjects.Contains(s) && !grid.Any(c => c.Subject == s)).Order().ToList();
        var cells =
            added.Count == 0
                ? grid
                : grid.Concat(from subject in added from c in grid where c.Subject == Subject.Peer select c with { Subject = subject });
        return cells.Where(Includes);
    }

    /// <summary>Cross-family subjects the filter asks for that a scenario with these cells cannot run, because it has no peer cell to rename.</summary>
    public IEnumerable<Subject> Unrunnable(IReadOnlyList<Condition> grid) =>
        grid.Any(c => c.Subject == Subject.Peer)
            ? []
            : Subjects.Where(s => Names.CrossFamilySubjects.Contains(s) && !grid.Any(c => c.Subject == s)).Order();

    public bool Includes(Condition c) =>
        (Relationships.IsEmpty || Relationships.Contains(c.Relationship))
        && (Conveyances.IsEmpty || !c.HasPeer || Conveyances.Contains(c.Conveyance))
        && (Subjects.IsEmpty || Subjects.Contains(c.Subject))
        && (Monitoring.IsEmpty || c.Monitoring is null || Monitoring.Contains(c.Monitoring.Value))
        && (Settings.IsEmpty || c.Dataset is null || Settings.Contains(c.Dataset) || Settings.Contains(c.Setting!));
}

/// <summary>The fixed list of episodes a run will execute: every (model, scenario, condition, rollout), each with its own seed.</summary>
internal sealed record RunPlan(ImmutableArray<EpisodeSpec> Episodes)
{
    public static RunPlan Build(
        IEnumerable<string> models,
        IEnumerable<ScenarioDefinition> scenarios,
        ConditionFilter filter,
        int rollouts,
        ulong seed
    ) => Build(models, scenarios.Select(s => (s.Id, (IEnumerable<Condition>)s.Grid())), filter, rollouts, seed, []);

    /// <summary>Plans the given cells of each scenario, <paramref name="rollouts"/> episodes per cell, recording the ablations in every spec.</summary>
    public static RunPlan Build(
        IEnumerable<string> models,
        IEnumerable<(string Scenario, IEnumerable<Condition> Cells)> cells,
        ConditionFilter filter,
        int rollouts,
        ulong seed,
        ImmutableArray<string> ablations
    )
    {
        var episodes = ImmutableArray.CreateBuilder<EpisodeSpec>();
        var list = cells.Select(c => (c.Scenario, Cells: c.Cells.ToList())).ToList();
        foreach (var model in models)
        foreach (var (scenario, conditions) in list)
        foreach (var condition in filter.Cells(conditions))
            for (var rollout = 0; rollout < rollouts; rollout++)
                episodes.Add(
                    new EpisodeSpec(
                        episodes.Count,
                        scenario,
                        condition,
                        model,
                        rollout,
                        EpisodeSeed(seed, model, scenario, condition.Key, rollout)
                    )
                    {
                        Ablations = ablations,
                    }
                );
        return new RunPlan(episodes.ToImmutable());
    }

    /// <summary>
    /// A seed that depends only on the run seed and the episode's place in the grid, so reruns and resumed runs draw the
    /// same: FNV-1a over the key, then a 64-bit finaliser (MurmurHash3's fmix64), because keys that differ in one
    /// character leave FNV's low bits correlated and seeds drawn from them would not be independent.
    /// </summary>
    public static ulong EpisodeSeed(ulong runSeed, string model, string scenario, string condition, int rollout)
    {
        var hash = 14695981039346656037UL ^ runSeed;
        foreach (var b in Encoding.UTF8.GetBytes($"{model}|{scenario}|{condition}|{rollout}"))
            hash = (hash ^ b) * 1099511628211UL;
        hash ^= hash >> 33;
        hash *= 0xFF51AFD7ED558CCDUL;
        hash ^= hash >> 33;
        hash *= 0xC4CEB9FE1A85EC53UL;
        return hash ^ (hash >> 33);
    }
}

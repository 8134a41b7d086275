using System.Collections.Immutable;
using System.Globalization;
using Kinship.Agents;
using Kinship.Models;
using Kinship.Scenarios;

namespace Kinship.Runs;

/// <summary>A run as planned, before it is stored: its record (manifest, model options, scenario texts, plan hash), its episodes, and the scenarios they play.</summary>
internal sealed record PlannedRun(RunRecord Record, RunPlan Plan, ImmutableDictionary<string, ScenarioDefinition> Scenarios)
{
    public RunManifest Manifest => Record.Manifest;
}

/// <summary>
/// Turns a <see cref="RunRequest"/> into a run: loads its scenarios, resolves its models, and fixes its plan, manifest,
/// id and plan hash. The hash depends only on what the episodes will do, so the same request on the same scenarios
/// finds its unfinished run again.
/// </summary>
internal static class RunPlanner
{
    /// <summary>
    /// Loads the scenarios the request names, each with the texts it was read from. A scenario named twice is planned
    /// once, where it was first named. A file that does not load throws <see cref="ScenarioException"/> with file and line.
    /// </summary>
    public static ImmutableArray<(ScenarioDefinition Definition, ScenarioSource Source)> LoadScenarios(RunRequest request)
    {
        var loaded = new Dictionary<string, (ScenarioDefinition Definition, ScenarioSource Source)>(StringComparer.Ordinal);
        foreach (var id in request.ScenarioIds())
        {
            var scenario = ScenarioSource.Resolve(id);
            loaded[scenario.Definition.Id] = scenario;
        }
        return [.. loaded.Values];
    }

    /// <summary>
    /// Resolves every model the request names with this machine's keys, settings and HTTP pipeline, so a model that
    /// cannot be used here (a missing key) throws <see cref="ModelException"/> before anything is stored.
    /// </summary>
    public static IReadOnlyDictionary<string, AgentModel> ResolveModels(RunRequest request, ModelOptions machine)
    {
        var options = request.Options();
        var modelOptions = machine with { BaseUrl = options.BaseUrl is { } url ? new Uri(url) : null, Family = options.Family };
        var models = new Dictionary<string, AgentModel>(StringComparer.Ordinal);
        foreach (var id in request.ModelIds())
            models[id] = AgentResolver.Resolve(id, modelOptions);
        return models;
    }

    /// <summary>A budget is kept by pricing every call, so a request with <c>--max-cost</c> needs a price for every model.</summary>
    public static void CheckPrices(RunRequest request, IReadOnlyDictionary<string, AgentModel> models)
    {
        if (request.MaxCost is null)
            return;
        if (request.ModelIds().Select(id => models[id]).FirstOrDefault(m => m.Settings.Price is null) is { } unpriced)
            throw new RunRequestException(
                "--max-cost",
                $"--max-cost needs a price for {unpriced.Id}: add one under models in {ModelConfig.FileName}"
            );
    }

    /// <summary>
    /// Plans the run: every (model, scenario, cell, rollout) the request selects, each with a seed drawn from the run
    /// seed and its place in the grid. Throws <see cref="RunRequestException"/> for what the scenarios cannot run:
    /// a dataset or condition none of them has, a peer of another family for a scenario without peer cells, a selection
    /// of no episodes, or more than <see cref="RunLimits.PlannedEpisodes"/>.
    /// </summary>
    /// <param name="scenarios">The scenarios to plan, in the order their episodes come (<see cref="LoadScenarios"/>).</param>
    /// <param name="time">Gives the run's start, which names it.</param>
    public static PlannedRun Plan(
        RunRequest request,
        IReadOnlyList<(ScenarioDefinition Definition, ScenarioSource Source)> scenarios,
        TimeProvider time
    )
    {
        request.Validate();
        var definitions = scenarios.ToImmutableDictionary(s => s.Definition.Id, s => s.Definition, StringComparer.Ordinal);
        var filter = request.Filter();
        var grid = scenarios.SelectMany(s => s.Definition.Grid()).ToList();
        foreach (var d in filter.Settings.Order(StringComparer.Ordinal).Where(d => !grid.Any(c => c.Dataset == d || c.Setting == d)))
            throw new RunRequestException(
                "--dataset",
                $"--dataset: unknown dataset '{d}' (the chosen scenarios run: {string.Join(", ", grid.Select(c => c.Setting).OfType<string>().Distinct())})"
            );

        var cells = (
            request.Preset == StudyPreset.Name ? StudyPreset.Expand(id => definitions[id])
            : request.Preset == ProductionPreset.Name
                ? scenarios.Select(s => (s.Definition.Id, (IEnumerable<Condition>)[ProductionPreset.Cell]))
            : scenarios.Select(s => (s.Definition.Id, (IEnumerable<Condition>)s.Definition.Grid()))
        ).Select(c => (Scenario: c.Item1, Cells: (IReadOnlyList<Condition>)[.. c.Item2])).ToList();
        // A peer of another family renames a scenario's peer; a scenario without peer cells has nobody to rename.
        foreach (var subject in filter.Subjects.Where(Names.CrossFamilySubjects.Contains).Order())
            if (cells.Where(c => filter.Unrunnable(c.Cells).Contains(subject)).Select(c => c.Scenario).ToList() is { Count: > 0 } unable)
                throw new RunRequestException(
                    "--subject",
                    $"--subject {Names.Subject(subject)}: scenario(s) {string.Join(", ", unable)} run no peer cells, so they cannot run a peer of another family; choose other scenarios or another subject"
                );

        // The cells are chosen before any episode exists, so a large grid narrowed by --condition is never built whole.
        var keys = request.Conditions;
        var chosen = cells
            .Select(c => (c.Scenario, Cells: filter.Cells(c.Cells).Where(x => keys.IsEmpty || keys.Any(k => Matches(x, k))).ToList()))
            .ToList();
        foreach (var key in keys.Where(k => !chosen.Any(c => c.Cells.Any(x => Matches(x, k)))))
            throw new RunRequestException(
                "--condition",
                $"--condition: unknown condition '{key}' (for example good_peer/file_prompt/peer, no_peer/self, bad_peer)"
            );
        var models = request.ModelIds();
        var episodes = (long)models.Length * chosen.Sum(c => c.Cells.Count) * request.Rollouts;
        if (episodes == 0)
            throw new RunRequestException("--condition", "the options select no episodes");
        if (episodes > RunLimits.PlannedEpisodes)
            throw new RunRequestException(
                "--rollouts",
                $"the options plan {episodes:N0} episodes, more than a run holds ({RunLimits.PlannedEpisodes:N0}); choose fewer --rollouts, models, scenarios or conditions"
            );

        var ablations = request.AblationNames();
        // The filter has done its work on the chosen cells; applying it again would change nothing.
        var plan = RunPlan.Build(
            models,
            chosen.Select(c => (c.Scenario, (IEnumerable<Condition>)c.Cells)),
            ConditionFilter.All,
            request.Rollouts,
            request.Seed,
            ablations
        );

        var started = time.GetUtcNow();
        var runId = started.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..6];
        var options = request.Options();
        var manifest = new RunManifest(
            runId,
            started,
            HarnessVersion.Current,
            models,
            scenarios.ToImmutableSortedDictionary(s => s.Definition.Id, s => s.Definition.SourcePath),
            [.. filter.Relationships.Select(Names.Relationship)],
            [.. filter.Conveyances.Select(Names.Conveyance)],
            [.. filter.Subjects.Select(Names.Subject)],
            request.Rollouts,
            request.Seed,
            plan.Episodes.Length,
            request.Render(),
            request.Loop()
        )
        {
            Preset = request.Preset,
            Harness = request.HarnessChoice(),
            Ablations = ablations,
            Monitoring = [.. filter.Monitoring.Select(Names.Monitoring)],
            // A set of strings iterates in an order that changes from process to process; the hash must not.
            Datasets = [.. filter.Settings.Order(StringComparer.Ordinal)],
        };
        var sources = scenarios.Select(s => s.Source).ToImmutableArray();
        var record = new RunRecord(
            runId,
            started,
            HarnessVersion.Current,
            RunRecord.HashPlan(manifest, options, sources, plan),
            manifest,
            options,
            sources
        );
        return new PlannedRun(record, plan, definitions);
    }

    /// <summary>A condition key matches itself and every key it is a prefix of, at a <c>/</c>.</summary>
    private static bool Matches(Condition condition, string key) =>
        condition.Key == key || condition.Key.StartsWith(key.TrimEnd('/') + "/", StringComparison.Ordinal);
}

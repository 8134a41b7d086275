using Kinship.Agents;
using Kinship.Models;
using Kinship.Scenarios;

namespace Kinship.Runs;

/// <summary>Rebuilds what runs a stored run's episodes from the store alone: its scenario texts, its models (with this machine's keys) and its options.</summary>
internal static class RunRebuilder
{
    /// <exception cref="ModelException">A model cannot be used here, such as a missing API key.</exception>
    /// <param name="machine">This machine's side of the model options: keys (environment), HTTP pipeline, models config, cache and cost meter.</param>
    public static EpisodeRunner CreateRunner(RunRecord run, ModelOptions machine, TimeProvider time, RunCache? cache = null)
    {
        var definitions = new Dictionary<string, ScenarioDefinition>(StringComparer.Ordinal);
        foreach (var source in run.Scenarios)
            definitions[source.Id] = source.Load();
        var modelOptions = machine with { BaseUrl = run.Options.BaseUrl is { } url ? new Uri(url) : null, Family = run.Options.Family };
        var models = run.Manifest.Models.ToDictionary(id => id, id => AgentResolver.Resolve(id, modelOptions), StringComparer.Ordinal);
        return new EpisodeRunner(definitions, models, run.Manifest.Render, run.Manifest.Loop, time, cache)
        {
            Harness = run.Manifest.Harness,
        };
    }
}

using Kinship.Agents;
using Kinship.Detectors;
using Kinship.Models;
using Kinship.Runs;
using Kinship.Scenarios;
using Kinship.Tools;
using Kinship.World;

namespace Kinship.Tests.Scenarios;

/// <summary>Runs built-in scenarios in-process: whole episodes with a scripted agent, or hand-made tool calls labelled by the detectors.</summary>
internal static class StudyEpisodes
{
    public static ScenarioInstance Render(string scenario, string key, string family = "Gemini", params string[] ablations)
    {
        var definition = ScenarioLoader.LoadBuiltIn(scenario);
        var condition = definition.Grid().Single(c => c.Key == key);
        return ScenarioRenderer.Render(definition, condition, new AgentIdentity(family), new RenderOptions { Ablations = [.. ablations] });
    }

    public static async Task<EpisodeResult> RunAsync(string scenario, string key, string agent, params string[] ablations)
    {
        var definition = ScenarioLoader.LoadBuiltIn(scenario);
        var condition = definition.Grid().Single(c => c.Key == key);
        var model = AgentResolver.Resolve("scripted/" + agent, new ModelOptions());
        var runner = new EpisodeRunner(
            new Dictionary<string, ScenarioDefinition> { [scenario] = definition },
            new Dictionary<string, AgentModel> { [model.Id] = model },
            new RenderOptions(),
            new AgentLoopOptions(),
            TimeProvider.System
        );
        return await runner.RunAsync(
            new EpisodeSpec(0, scenario, condition, model.Id, 0, 7) { Ablations = [.. ablations] },
            CancellationToken.None
        );
    }

    /// <summary>Plays the given calls against a rendered instance and labels the result, with <paramref name="messages"/> as the critic's text.</summary>
    public static IReadOnlyDictionary<string, Verdict> Label(
        ScenarioInstance instance,
        IEnumerable<(string Tool, Dictionary<string, object?> Args)> calls,
        params string[] messages
    )
    {
        var world = new EpisodeWorld(instance.World, new SteppingClock(instance.Scenario.Clock, TimeSpan.FromSeconds(7)));
        var toolbox = new Toolbox(world, instance.Tools);
        foreach (var (tool, args) in calls)
            toolbox.Invoke(tool, args);
        return DetectorRegistry
            .Detect(new EpisodeEvidence(instance, world.State, world.Calls) { Messages = messages })
            .ToDictionary(v => v.Label);
    }

    public static (string, Dictionary<string, object?>) Call(string tool, params (string Key, object? Value)[] args) =>
        (tool, args.ToDictionary(a => a.Key, a => a.Value));
}

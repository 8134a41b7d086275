using System.Collections.Concurrent;
using Kinship.Agents;
using Kinship.Detectors;
using Kinship.Models;
using Kinship.Scenarios;
using Kinship.Tools;
using Kinship.Transcripts;
using Kinship.World;
using Microsoft.Extensions.AI;

namespace Kinship.Runs;

/// <summary>
/// Runs one episode end to end: renders the scenario for the condition, builds the world and its tools, lets the
/// agent loop play the model against them, then labels the final state with the scenario's detectors.
/// </summary>
internal sealed class EpisodeRunner(
    IReadOnlyDictionary<string, ScenarioDefinition> scenarios,
    IReadOnlyDictionary<string, AgentModel> models,
    RenderOptions render,
    AgentLoopOptions loop,
    TimeProvider time)
{
    /// <summary>Scenario time moves this much each time the world reads its clock.</summary>
    public static readonly TimeSpan ClockStep = TimeSpan.FromSeconds(7);

    private readonly ConcurrentDictionary<(string Scenario, Condition Condition, AgentIdentity Identity, string Ablations), ScenarioInstance> _instances = new();

    /// <summary>
    /// The scenario rendered for the episode's condition, ablations and critic. Rendering depends on nothing else and the
    /// instance is immutable (the world is a value), so every rollout of a cell shares one instead of filling the placeholders again.
    /// </summary>
    public ScenarioInstance Instance(EpisodeSpec spec, AgentModel model) =>
        _instances.GetOrAdd((spec.Scenario, spec.Condition, model.Identity, string.Join(',', spec.Ablations.Order(StringComparer.Ordinal))),
            k => ScenarioRenderer.Render(scenarios[k.Scenario], k.Condition, k.Identity, render with { Ablations = [.. spec.Ablations] }));

    public async Task<EpisodeResult> RunAsync(EpisodeSpec spec, CancellationToken cancellationToken)
    {
        var model = models[spec.Model];
        var instance = Instance(spec, model);
        var world = new EpisodeWorld(instance.World, new SteppingClock(instance.Scenario.Clock, ClockStep));
        var toolbox = new Toolbox(world, instance.Tools);
        using var client = model.CreateClient(EpisodeBrief.For(spec.Seed, instance));
        var transcript = await new AgentLoop(client, loop, time).RunAsync(
            [new ChatMessage(ChatRole.System, instance.SystemPrompt), new ChatMessage(ChatRole.User, instance.UserPrompt)],
            toolbox,
            cancellationToken).ConfigureAwait(false);

        var failed = transcript.Stop == StopReason.ModelError;
        return new EpisodeResult(
            spec,
            failed ? EpisodeStatus.Error : EpisodeStatus.Completed,
            failed ? transcript.Error?.Message : null,
            model.Identity.Critic,
            instance.Subject,
            instance.Tools,
            transcript,
            world.State,
            [.. world.Calls],
            failed ? [] : DetectorCatalog.Detect(new EpisodeEvidence(instance, world.State, world.Calls)
            {
                Messages = [.. transcript.ModelTurns.Select(t => t.Text).OfType<string>()],
            }));
    }
}

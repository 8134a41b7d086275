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

    public async Task<EpisodeResult> RunAsync(EpisodeSpec spec, CancellationToken cancellationToken)
    {
        var model = models[spec.Model];
        var instance = ScenarioRenderer.Render(scenarios[spec.Scenario], spec.Condition, model.Identity, render with { Ablations = [.. spec.Ablations] });
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

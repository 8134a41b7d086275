using System.Collections.Immutable;
using Kinship.Agents;
using Kinship.Detectors;
using Kinship.Models;
using Kinship.Scenarios;
using Kinship.Scoring;
using Kinship.Scripted;
using Kinship.Tools;
using Kinship.Transcripts;
using Kinship.Workspaces;
using Kinship.World;
using Microsoft.Extensions.AI;

namespace Kinship.Runs;

/// <summary>An episode as played: its transcript (which starts with the prompts), the world's final state, its tool log and the verdicts.</summary>
internal sealed record PlayedEpisode(
    Transcript Transcript,
    WorldState Final,
    ImmutableArray<ToolCallRecord> Calls,
    ImmutableArray<Verdict> Verdicts
)
{
    /// <summary>The tools the agent was offered, when the player learned them only while playing (an external program's own); else null.</summary>
    public ImmutableArray<string>? Offered { get; init; }
}

/// <summary>
/// The one place an episode is played, for runs, replays of recorded transcripts and imports alike: the world and
/// its tools from the rendered scenario, the agent loop playing the client against them, then the detectors over the
/// final state by the run's rules (<see cref="RunCache.Rules"/>). Re-scoring runs the same scorers on what a run stored.
/// </summary>
internal static class Episode
{
    /// <summary>Scenario time moves this much each time the world reads its clock.</summary>
    public static readonly TimeSpan ClockStep = TimeSpan.FromSeconds(7);

    /// <param name="time">The loop's clock (turn timings); the world runs on the scenario's own stepping clock.</param>
    public static async Task<PlayedEpisode> PlayAsync(
        ScenarioInstance instance,
        IChatClient client,
        AgentLoopOptions loop,
        TimeProvider time,
        RunCache cache,
        CancellationToken cancellationToken
    )
    {
        // The scenario's own stepping clock: written timestamps are deterministic and no label reads them.
        var world = new EpisodeWorld(instance.World, new SteppingClock(instance.Scenario.Clock, ClockStep));
        var toolbox = new Toolbox(world, instance.Tools, cache.Tools);
        var transcript = await new AgentLoop(client, loop, time)
            .RunAsync(
                [new ChatMessage(ChatRole.System, instance.SystemPrompt), new ChatMessage(ChatRole.User, instance.UserPrompt)],
                toolbox,
                cancellationToken
            )
            .ConfigureAwait(false);
        var verdicts =
            transcript.Stop == StopReason.ModelError
                ? []
                : cache.Rules.Score(new ScoredEpisode(instance, transcript, world.State, world.Calls));
        return new PlayedEpisode(transcript, world.State, [.. world.Calls], verdicts);
    }
}

/// <summary>Runs a planned episode: the scenario rendered for its condition and the model's identity, the model's client, <see cref="Episode.PlayAsync"/>.</summary>
internal sealed class EpisodeRunner(
    IReadOnlyDictionary<string, ScenarioDefinition> scenarios,
    IReadOnlyDictionary<string, AgentModel> models,
    RenderOptions render,
    AgentLoopOptions loop,
    TimeProvider time,
    RunCache? cache = null
)
{
    public RunCache Cache { get; } = cache ?? new RunCache();

    /// <summary>Where episodes play (<see cref="Harnesses"/>): null for the study's world, <see cref="Harnesses.Bash"/> for the shell.</summary>
    public string? Harness { get; init; }

    /// <summary>The run's models by id.</summary>
    public IReadOnlyDictionary<string, AgentModel> Models => models;

    /// <summary>How the run's agent loop ran.</summary>
    public AgentLoopOptions Loop => loop;

    public ScenarioInstance Instance(EpisodeSpec spec, AgentModel model) =>
        Cache.Instance(scenarios[spec.Scenario], spec.Condition, model.Identity, render with { Ablations = [.. spec.Ablations] });

    public async Task<EpisodeResult> RunAsync(EpisodeSpec spec, CancellationToken cancellationToken)
    {
        var model = models[spec.Model];
        var instance = Instance(spec, model);
        using var client = model.CreateClient(EpisodeBrief.For(spec.Seed, instance));
        var program = Harness is null ? null : ExternalProgram.Find(Harness);
        var played =
            Harness == Harnesses.Bash || program is not null
                ? await PlayInShellAsync(instance, client, program, spec.Model, cancellationToken).ConfigureAwait(false)
                : await Episode.PlayAsync(instance, client, loop, time, Cache, cancellationToken).ConfigureAwait(false);
        var failed = played.Transcript.Stop == StopReason.ModelError;
        return new EpisodeResult(
            spec,
            failed ? EpisodeStatus.Error : EpisodeStatus.Completed,
            failed ? played.Transcript.Error?.Message : null,
            model.Identity.Critic,
            instance.Subject,
            played.Offered ?? (Harness == Harnesses.Bash ? ShellToolHost.Tools : instance.Tools),
            played.Transcript,
            played.Final,
            played.Calls,
            played.Verdicts
        );
    }

    /// <summary>
    /// The episode in a real shell, played by Kinship's own loop or by an external <paramref name="program"/>, in a folder
    /// of its own that goes when the episode has been read back.
    /// </summary>
    private async Task<PlayedEpisode> PlayInShellAsync(
        ScenarioInstance instance,
        IChatClient client,
        ExternalProgram? program,
        string model,
        CancellationToken cancellationToken
    )
    {
        var folder = Directory.CreateTempSubdirectory("kinship-episode-").FullName;
        try
        {
            if (program is not null)
            {
                var setup = new ShellSetup(folder, program.Kind, Sandbox.NextUid(), SandboxLimits.ForProgram());
                // The program is told the model's own name, as it would be with the provider's key.
                var name = model[(model.IndexOf('/', StringComparison.Ordinal) + 1)..];
                return await ProgramEpisode
                    .PlayAsync(instance, client, program, name, loop, time, Cache, setup, cancellationToken)
                    .ConfigureAwait(false);
            }
            var shell = new ShellSetup(folder, AgentProgram.Bash, Sandbox.NextUid(), new SandboxLimits());
            return await ShellEpisode.PlayAsync(instance, client, loop, time, Cache, shell, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

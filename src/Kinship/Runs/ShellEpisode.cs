using Kinship.Agents;
using Kinship.Scenarios;
using Kinship.Scoring;
using Kinship.Transcripts;
using Kinship.Workspaces;
using Microsoft.Extensions.AI;

namespace Kinship.Runs;

/// <summary>Where and how a shell episode runs: its folder (the workspace and the servers go under it), the agent program the workspace is laid out for, the sandbox's user and limits.</summary>
internal sealed record ShellSetup(string Folder, AgentProgram Program, int Uid, SandboxLimits Limits);

/// <summary>
/// An episode in a real shell: the scenario laid out as a workspace, its servers as SSH servers, the agent loop
/// playing the client with the shell's tools in the sandbox, then the workspace and servers read back and labelled by
/// the run's rules, like <see cref="Episode.PlayAsync"/> does for the in-memory world.
/// </summary>
internal static class ShellEpisode
{
    /// <param name="system">The system message; by default the project-context file the program reads (the system prompt and memory).</param>
    public static async Task<PlayedEpisode> PlayAsync(
        ScenarioInstance instance,
        IChatClient client,
        AgentLoopOptions loop,
        TimeProvider time,
        RunCache cache,
        ShellSetup setup,
        CancellationToken cancellationToken,
        string? system = null
    )
    {
        var workspace = WorkspaceRenderer.Render(instance, setup.Program);
        Directory.CreateDirectory(setup.Folder);
        Sandbox.Passable(setup.Folder);
        var folder = Path.Combine(setup.Folder, "workspace");
        workspace.WriteTo(folder);
        var servers = instance.World.Servers.IsEmpty
            ? null
            : new EpisodeServers(instance, Path.Combine(setup.Folder, "servers"), setup.Uid);
        servers?.Write(folder);
        var host = new ShellToolHost(new Sandbox(folder, setup.Limits, setup.Uid, servers: servers));
        var transcript = await new AgentLoop(client, loop, time)
            .RunAsync(
                [
                    new ChatMessage(ChatRole.System, system ?? workspace.Files[workspace.ContextFile]),
                    new ChatMessage(ChatRole.User, workspace.UserPrompt),
                ],
                host,
                cancellationToken
            )
            .ConfigureAwait(false);
        var final = WorkspaceReader.Read(instance, folder, servers);
        var verdicts =
            transcript.Stop == StopReason.ModelError ? [] : cache.Rules.Score(new ScoredEpisode(instance, transcript, final, host.Calls));
        return new PlayedEpisode(transcript, final, [.. host.Calls], verdicts);
    }
}

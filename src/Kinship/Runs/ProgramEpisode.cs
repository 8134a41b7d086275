using System.Collections.Immutable;
using Kinship.Agents;
using Kinship.Gateway;
using Kinship.Scenarios;
using Kinship.Scoring;
using Kinship.Transcripts;
using Kinship.Workspaces;
using Microsoft.Extensions.AI;

namespace Kinship.Runs;

/// <summary>
/// An episode played by a real external agent program (<see cref="ExternalProgram"/>): the scenario laid out as the
/// workspace that program reads, the scenario's servers as SSH servers, and the program run headless once in the
/// episode's sandbox, its model calls answered through the episode's <see cref="ModelGateway"/> by the run's model.
/// The transcript is what went through the gateway; the workspace and servers are read back and labelled by the run's
/// rules, as for Kinship's own bash agent (<see cref="ShellEpisode"/>). The program is stopped at the turn cap or its
/// wall time; a program that fails or never asks the model ends the episode as an error, saying what it printed.
/// </summary>
internal static class ProgramEpisode
{
    public static async Task<PlayedEpisode> PlayAsync(
        ScenarioInstance instance,
        IChatClient client,
        ExternalProgram program,
        string model,
        AgentLoopOptions loop,
        TimeProvider time,
        RunCache cache,
        ShellSetup setup,
        CancellationToken cancellationToken
    )
    {
        var installed = await program.InstallAsync(cancellationToken).ConfigureAwait(false);
        var workspace = WorkspaceRenderer.Render(instance, program.Kind);
        Directory.CreateDirectory(setup.Folder);
        Sandbox.Passable(setup.Folder);
        var folder = Path.Combine(setup.Folder, "workspace");
        if (!File.Exists("/usr/bin/socat"))
            throw new SandboxException($"{program.Name} reaches its model gateway through socat, which is missing (apt-get install socat)");
        workspace.WriteTo(folder);
        var launch = program.Launch(workspace.UserPrompt, model);
        foreach (var (name, text) in launch.HomeFiles)
        {
            var path = Path.Combine(folder, name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, text);
        }
        var socket = Path.Combine(setup.Folder, "gateway.sock");
        var started = time.GetTimestamp();
        await using var gateway = await ModelGateway
            .StartAsync(socket, client, time, loop.MaxTurns, cancellationToken)
            .ConfigureAwait(false);
        var servers = new EpisodeServers(instance, Path.Combine(setup.Folder, "servers"), setup.Uid)
        {
            GatewaySocket = socket,
            GatewayPort = ExternalProgram.GatewayPort,
        };
        servers.Write(folder);
        var sandbox = new Sandbox(folder, setup.Limits, setup.Uid, servers: servers)
        {
            Environment = launch.Environment,
            ReadOnlyMounts = [(installed, program.MountPoint)],
        };

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, gateway.TurnCapReached);
        SandboxResult? result = null;
        try
        {
            result = await sandbox.RunAsync(launch.Command, stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested) { }

        var exchanges = gateway.Exchanges;
        var (reason, error) = result switch
        {
            null => (StopReason.TurnCap, (string?)null),
            { TimedOut: true } => (
                StopReason.ModelError,
                $"{program.Name} ran out of its wall time ({setup.Limits.WallTime}) and was stopped"
            ),
            _ when !exchanges.Any(e => e.IsAgentTurn) => (
                StopReason.ModelError,
                $"{program.Name} exited {result.ExitCode} without asking the model for a turn: {Tail(result.Output)}"
            ),
            _ when exchanges[^1].Error is not null => (StopReason.ModelError, (string?)null),
            { ExitCode: not 0 } => (StopReason.ModelError, $"{program.Name} exited {result.ExitCode}: {Tail(result.Output)}"),
            _ => (StopReason.NoToolCall, null),
        };
        var (transcript, calls) = GatewayTranscript.Build(exchanges, reason, time.GetElapsedTime(started).TotalSeconds, error);
        var final = WorkspaceReader.Read(instance, folder, servers);
        var verdicts = reason == StopReason.ModelError ? [] : cache.Rules.Score(new ScoredEpisode(instance, transcript, final, calls));
        // The tools the program offered its model, as its first turn listed them.
        var offered = exchanges.FirstOrDefault(e => e.IsAgentTurn)?.Options.Tools?.Select(t => t.Name).ToImmutableArray() ?? [];
        return new PlayedEpisode(transcript, final, calls, verdicts) { Offered = offered };
    }

    private static string Tail(string output)
    {
        var text = output.Trim();
        return text.Length <= 2000 ? text : "…" + text[^2000..];
    }
}

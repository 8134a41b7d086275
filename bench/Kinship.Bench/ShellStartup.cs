using System.Diagnostics;
using Kinship.Agents;
using Kinship.Runs;
using Kinship.Scenarios;
using Kinship.Scripted;
using Kinship.Workspaces;
using Microsoft.Extensions.AI;

namespace Kinship.Bench;

/// <summary>
/// <c>--shell</c>: a shell episode's cost on this machine, alone and with several side by side, to find where time
/// doubles. Three measures, each from a fresh folder: <b>sandbox</b>, the tampering scenario (no servers) rendered as a
/// workspace, written, and a first command (<c>true</c>) answered in its sandbox; <b>servers</b>, the deletion scenario
/// with its two SSH servers laid out and a first <c>ssh maintainer@10.0.12.45 true</c> answered through them (the
/// environment an agent program needs before its first turn); <b>episode</b>, a whole deletion episode with Kinship's
/// own loop and bash tool, the scripted exfiltrating agent (8 turns: reads, an <c>scp -3</c> between the servers, an
/// <c>rm</c> over SSH), read back and labelled; then, for each external agent program (Gemini CLI, OpenCode, Claude
/// Code, Codex CLI), the same episode played by the real program through the episode's model gateway, from its start
/// in the sandbox to its exit.
/// </summary>
internal static class ShellStartup
{
    private static readonly int[] SideBySide = [1, 2, 4, 8, 16, 32];

    /// <summary>An agent program's episode takes seconds of CPU: fewer levels.</summary>
    private static readonly int[] ProgramsSideBySide = [1, 2, 4];

    /// <param name="programsOnly">Only the agent programs' episodes (<c>--programs</c>).</param>
    public static async Task RunAsync(TextWriter output, int rounds = 5, bool programsOnly = false)
    {
        var tampering = Instance("tampering");
        var deletion = Instance("exfiltration-deletion");
        var cache = new RunCache();
        var root = Directory.CreateTempSubdirectory("kinship-shell-bench-").FullName;
        Sandbox.Passable(root);
        var next = 0;
        string Folder() => Path.Combine(root, $"episode-{Interlocked.Increment(ref next)}");

        async Task<double> SandboxReadyAsync()
        {
            var clock = Stopwatch.StartNew();
            var folder = Folder();
            WorkspaceRenderer.Render(tampering, AgentProgram.Bash).WriteTo(folder);
            await Expect(new Sandbox(folder, new SandboxLimits(), Sandbox.NextUid()), "true");
            return clock.Elapsed.TotalMilliseconds;
        }

        async Task<double> ServersReadyAsync()
        {
            var clock = Stopwatch.StartNew();
            var folder = Folder();
            Directory.CreateDirectory(folder);
            Sandbox.Passable(folder);
            var workspace = Path.Combine(folder, "workspace");
            WorkspaceRenderer.Render(deletion, AgentProgram.Bash).WriteTo(workspace);
            var uid = Sandbox.NextUid();
            var servers = new EpisodeServers(deletion, Path.Combine(folder, "servers"), uid);
            servers.Write(workspace);
            await Expect(new Sandbox(workspace, new SandboxLimits(), uid, servers: servers), "ssh maintainer@10.0.12.45 true");
            return clock.Elapsed.TotalMilliseconds;
        }

        // One deletion episode played by the scripted exfiltrating agent, timed; the bench fails unless it is labelled so.
        async Task<double> ExfiltrationAsync(string who, Func<IChatClient, Task<PlayedEpisode>> play)
        {
            var clock = Stopwatch.StartNew();
            using var client = ReferenceAgents.Create("exfiltrate", EpisodeBrief.For(1, deletion));
            var played = await play(client);
            if (played.Verdicts.FirstOrDefault(v => v.Label == "exfiltration")?.Flag != true)
                throw new InvalidOperationException(
                    $"{who}: the scripted exfiltration was not labelled: {played.Transcript.Error?.Message} {string.Join("; ", played.Verdicts)}"
                );
            return clock.Elapsed.TotalMilliseconds;
        }

        Task<double> EpisodeAsync() =>
            ExfiltrationAsync("bash", client =>
                ShellEpisode.PlayAsync(
                    deletion,
                    client,
                    new AgentLoopOptions(),
                    TimeProvider.System,
                    cache,
                    new ShellSetup(Folder(), AgentProgram.Bash, Sandbox.NextUid(), new SandboxLimits()),
                    CancellationToken.None
                )
            );

        Func<Task<double>> ProgramEpisodeAsync(ExternalProgram program) =>
            () =>
                ExfiltrationAsync(program.Name, client =>
                    ProgramEpisode.PlayAsync(
                        deletion,
                        client,
                        program,
                        "gemini-3.1-pro-preview",
                        new AgentLoopOptions(),
                        TimeProvider.System,
                        cache,
                        new ShellSetup(Folder(), program.Kind, Sandbox.NextUid(), SandboxLimits.ForProgram()),
                        CancellationToken.None
                    )
                );

        (string Name, Func<Task<double>> Measure, int[] Levels)[] measures =
        [
            .. programsOnly
                ? []
                : new (string, Func<Task<double>>, int[])[]
                {
                    ("sandbox", SandboxReadyAsync, SideBySide),
                    ("servers", ServersReadyAsync, SideBySide),
                    ("episode", EpisodeAsync, SideBySide),
                },
            .. ExternalProgram.All.Select(p => ($"episode by {p.Name}", ProgramEpisodeAsync(p), ProgramsSideBySide)),
        ];
        try
        {
            foreach (var (name, measure, levels) in measures)
            {
                await measure(); // warm-up: JIT, YAML, keys, the size library, the page cache
                output.WriteLine();
                output.WriteLine($"{name}:");
                output.WriteLine("| side by side | median ms | p90 ms | × alone |");
                output.WriteLine("|---:|---:|---:|---:|");
                double? alone = null;
                foreach (var side in levels)
                {
                    var times = new List<double>();
                    for (var r = 0; r < rounds; r++)
                        times.AddRange(await Task.WhenAll(Enumerable.Range(0, side).Select(_ => Task.Run(measure))));
                    times.Sort();
                    var median = times[times.Count / 2];
                    var p90 = times[(int)(times.Count * 0.9)];
                    alone ??= median;
                    output.WriteLine($"| {side} | {median:0} | {p90:0} | {median / alone:0.00} |");
                }
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static ScenarioInstance Instance(string id)
    {
        var definition = ScenarioLoader.LoadBuiltIn(id);
        var cell = definition.Grid().First(c => c.Key == "good_peer/memory/peer" || id == "tampering");
        return ScenarioRenderer.Render(definition, cell, new AgentIdentity("Gemini"), new RenderOptions());
    }

    private static async Task Expect(Sandbox sandbox, string command)
    {
        var result = await sandbox.RunAsync(command, CancellationToken.None);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"'{command}' failed in the sandbox ({result.ExitCode}): {result.Output}");
    }
}

using System.Diagnostics;
using Kinship.Scenarios;
using Kinship.Workspaces;

namespace Kinship.Bench;

/// <summary>
/// <c>--shell</c>: how long a shell episode's environment takes to be ready (the scenario rendered as a workspace,
/// written, and a first command answered in its sandbox), alone and with several starting side by side, to find
/// where start-up time doubles on this machine. Servers are not part of it yet.
/// </summary>
internal static class ShellStartup
{
    public static async Task RunAsync(TextWriter output, int rounds = 5)
    {
        var definition = ScenarioLoader.LoadBuiltIn("tampering");
        var instance = ScenarioRenderer.Render(definition, definition.Grid()[0], new AgentIdentity("Gemini"), new RenderOptions());
        var root = Directory.CreateTempSubdirectory("kinship-shell-bench-").FullName;
        Sandbox.Passable(root);
        var next = 0;
        async Task<double> ReadyAsync()
        {
            var n = Interlocked.Increment(ref next);
            var clock = Stopwatch.StartNew();
            var folder = Path.Combine(root, $"episode-{n}");
            WorkspaceRenderer.Render(instance, AgentProgram.Bash).WriteTo(folder);
            var result = await new Sandbox(folder, new SandboxLimits(), 220000 + n % 10000).RunAsync("true", CancellationToken.None);
            if (result.ExitCode != 0)
                throw new InvalidOperationException($"the sandbox did not start: {result.Output}");
            return clock.Elapsed.TotalMilliseconds;
        }
        try
        {
            await ReadyAsync(); // warm-up: JIT, YAML, the page cache
            output.WriteLine("| side by side | ready, median ms | p90 ms | × alone |");
            output.WriteLine("|---:|---:|---:|---:|");
            double? alone = null;
            foreach (var side in new[] { 1, 2, 4, 8, 16, 32 })
            {
                var times = new List<double>();
                for (var r = 0; r < rounds; r++)
                    times.AddRange(await Task.WhenAll(Enumerable.Range(0, side).Select(_ => Task.Run(ReadyAsync))));
                times.Sort();
                var median = times[times.Count / 2];
                var p90 = times[(int)(times.Count * 0.9)];
                alone ??= median;
                output.WriteLine($"| {side} | {median:0} | {p90:0} | {median / alone:0.00} |");
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}

using System.Diagnostics;
using Kinship.IntegrationTests.Cli;
using Kinship.Workspaces;
using Xunit.Abstractions;

namespace Kinship.IntegrationTests.Workspaces;

/// <summary>
/// The escape suite: a shell in an episode's sandbox tries to reach the internet, the host's files, other processes,
/// the store, the keys in Kinship's environment and other episodes' workspaces, and to exhaust processes and disk.
/// Every attempt fails, and every command comes back. CI runs this as root, so the sandbox must hold there too.
/// </summary>
public sealed class SandboxEscapeTests(ITestOutputHelper log) : IDisposable
{
    private readonly TempFolder _temp = Passable(new TempFolder());

    /// <summary>The folder made passable (not readable) for the sandbox's user, as a workspace's parent must be.</summary>
    private static TempFolder Passable(TempFolder temp)
    {
        Sandbox.Passable(temp.Path);
        return temp;
    }

    public void Dispose() => _temp.Dispose();

    private Sandbox Make(string name, int uid, SandboxLimits? limits = null)
    {
        var folder = Path.Combine(_temp.Path, name);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "notes.txt"), $"workspace {name}\n");
        return new Sandbox(folder, limits ?? new SandboxLimits { WallTime = TimeSpan.FromSeconds(20) }, uid);
    }

    private async Task<SandboxResult> RunAsync(Sandbox sandbox, string command)
    {
        var clock = Stopwatch.StartNew();
        var result = await sandbox.RunAsync(command, CancellationToken.None);
        log.WriteLine(
            $"$ {command}\n  -> exit {result.ExitCode}{(result.TimedOut ? " (timed out)" : "")} in {clock.Elapsed.TotalSeconds:0.0} s: {result.Output.Trim()}"
        );
        return result;
    }

    [Fact]
    public async Task The_workspace_is_there_and_writable_and_nothing_else_of_the_host_is()
    {
        var sandbox = Make("a", 210001);
        var store = Path.Combine(_temp.Path, "kinship.db");
        File.WriteAllText(store, "the store");

        Assert.Equal("workspace a", (await RunAsync(sandbox, "cat /workspace/notes.txt")).Output.Trim());
        Assert.Equal(0, (await RunAsync(sandbox, "echo changed > /workspace/out.txt")).ExitCode);
        Assert.Equal("changed\n", File.ReadAllText(Path.Combine(_temp.Path, "a", "out.txt")));
        // The store, the repository, the home folders and the host's /etc are not there; /usr is read-only.
        Assert.NotEqual(0, (await RunAsync(sandbox, $"cat {store}")).ExitCode);
        Assert.NotEqual(0, (await RunAsync(sandbox, $"ls {RepoPath()}")).ExitCode);
        Assert.NotEqual(0, (await RunAsync(sandbox, "ls /root /home")).ExitCode);
        Assert.NotEqual(0, (await RunAsync(sandbox, "cat /etc/shadow /etc/passwd")).ExitCode);
        Assert.NotEqual(0, (await RunAsync(sandbox, "touch /usr/bin/x")).ExitCode);
        // It does not run as root.
        Assert.NotEqual("0", (await RunAsync(sandbox, "id -u")).Output.Trim());
    }

    [Fact]
    public async Task An_agent_programs_sandbox_reaches_its_model_gateway_and_nothing_else()
    {
        var definition = Kinship.Scenarios.ScenarioLoader.LoadBuiltIn("exfiltration-deletion");
        var instance = Kinship.Scenarios.ScenarioRenderer.Render(
            definition,
            definition.Grid().First(),
            new Kinship.Scenarios.AgentIdentity("Gemini"),
            new Kinship.Scenarios.RenderOptions()
        );
        var episode = Path.Combine(_temp.Path, "program");
        Directory.CreateDirectory(episode);
        Sandbox.Passable(episode);
        var socket = Path.Combine(episode, "gateway.sock");
        using var model = Kinship.Scripted.ReferenceAgents.Create("faithful", Kinship.Scripted.EpisodeBrief.Of(1));
        await using var gateway = await Kinship.Gateway.ModelGateway.StartAsync(socket, model, TimeProvider.System, 30, default);
        var folder = Path.Combine(episode, "workspace");
        Directory.CreateDirectory(folder);
        var servers = new EpisodeServers(instance, Path.Combine(episode, "servers"), 210009) { GatewaySocket = socket };
        servers.Write(folder);
        var sandbox = new Sandbox(folder, new SandboxLimits { WallTime = TimeSpan.FromSeconds(20) }, 210009, servers: servers);

        // The gateway answers on the sandbox's loopback with the episode's model, in the wire format asked for.
        var answer = await RunAsync(
            sandbox,
            "curl -s -X POST http://127.0.0.1:8080/v1/chat/completions -H 'content-type: application/json' -d '{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}'"
        );
        Assert.Contains("\"object\":\"chat.completion\"", answer.Output, StringComparison.Ordinal);
        Assert.Contains(Kinship.Scripted.ReferenceAgents.SideAnswer, answer.Output, StringComparison.Ordinal);
        // Only its model routes: a path outside them is a 404, not a file.
        var outside = await RunAsync(sandbox, "curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/../../etc/passwd");
        Assert.Equal("404", outside.Output.Trim());
        // The socket itself, the host's loopback services and the internet are not there.
        Assert.NotEqual(0, (await RunAsync(sandbox, $"ls {socket}")).ExitCode);
        Assert.NotEqual(0, (await RunAsync(sandbox, "exec 3<>/dev/tcp/127.0.0.1/5432")).ExitCode);
        Assert.NotEqual(0, (await RunAsync(sandbox, "exec 3<>/dev/tcp/1.1.1.1/80")).ExitCode);
        Assert.Single(gateway.Exchanges);
    }

    [Fact]
    public async Task There_is_no_network_no_other_process_and_no_key()
    {
        var sandbox = Make("b", 210002);
        Assert.NotEqual(0, (await RunAsync(sandbox, "exec 3<>/dev/tcp/1.1.1.1/80")).ExitCode);
        Assert.NotEqual(0, (await RunAsync(sandbox, "exec 3<>/dev/tcp/127.0.0.1/22")).ExitCode);
        Assert.NotEqual(0, (await RunAsync(sandbox, "getent hosts example.com")).ExitCode);
        // Its own process tree: this test's process is not in its /proc.
        var pids = (await RunAsync(sandbox, "ls /proc | grep -E '^[0-9]+$'")).Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.InRange(pids.Length, 1, 4);
        Assert.DoesNotContain(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), pids);
        // Keys in Kinship's environment do not reach it.
        Environment.SetEnvironmentVariable("OPENAI_API_KEY", "sk-escape-test");
        try
        {
            var env = (await RunAsync(sandbox, "env")).Output;
            Assert.DoesNotContain("sk-escape-test", env, StringComparison.Ordinal);
            Assert.DoesNotContain("KINSHIP", env, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable("OPENAI_API_KEY", null);
        }
    }

    [Fact]
    public async Task Another_episodes_workspace_is_out_of_reach()
    {
        var a = Make("episode-a", 210003);
        Make("episode-b", 210004);
        Assert.NotEqual(0, (await RunAsync(a, $"cat {Path.Combine(_temp.Path, "episode-b", "notes.txt")}")).ExitCode);
        Assert.NotEqual(0, (await RunAsync(a, "cat ../episode-b/notes.txt")).ExitCode);
    }

    [Fact]
    public async Task A_fork_bomb_and_a_disk_fill_end_at_their_limits_and_the_episode_goes_on()
    {
        var sandbox = Make(
            "c",
            210005,
            new SandboxLimits
            {
                WallTime = TimeSpan.FromSeconds(8),
                Processes = 32,
                FileSize = 8L << 20,
            }
        );

        var bomb = await RunAsync(sandbox, "bomb() { bomb | bomb & }; bomb; sleep 30");
        Assert.True(bomb.TimedOut || bomb.ExitCode != 0);
        var fill = await RunAsync(sandbox, "head -c 100M /dev/zero > /workspace/fill");
        Assert.NotEqual(0, fill.ExitCode);
        Assert.True(new FileInfo(Path.Combine(_temp.Path, "c", "fill")).Length <= 8L << 20);
        var tmp = await RunAsync(sandbox, "for i in 1 2 3 4 5 6 7 8 9 10; do head -c 8M /dev/zero > /tmp/f$i || exit 1; done");
        Assert.NotEqual(0, tmp.ExitCode);
        // A command that never ends is ended at the wall time, and the sandbox answers the next one.
        var forever = await RunAsync(sandbox, "while :; do :; done");
        Assert.True(forever.TimedOut);
        Assert.Equal("still here", (await RunAsync(sandbox, "echo still here")).Output.Trim());
    }

    [Fact]
    public async Task Output_is_kept_up_to_its_limit()
    {
        var sandbox = Make("d", 210006, new SandboxLimits { OutputBytes = 1000 });
        var result = await RunAsync(sandbox, "yes x | head -c 100000");
        Assert.Equal(0, result.ExitCode);
        Assert.True(result.Truncated);
        Assert.Equal(1000, result.Output.Length);
    }

    private static string RepoPath() => Kinship.Testing.RepoPaths.Root;
}

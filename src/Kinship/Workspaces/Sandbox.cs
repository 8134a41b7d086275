using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Kinship.Workspaces;

/// <summary>
/// What a sandboxed command may use. <b>Defaults</b>: 2 minutes of wall time, 64 processes, files up to 256 MiB,
/// 4 GiB of address space per process, 256 open files, a 64 MiB <c>/tmp</c>, and the first 64 KiB of its output kept.
/// </summary>
internal sealed record SandboxLimits
{
    public TimeSpan WallTime { get; init; } = TimeSpan.FromMinutes(2);
    public int Processes { get; init; } = 64;
    public long FileSize { get; init; } = 256L << 20;
    public long AddressSpace { get; init; } = 4L << 30;
    public int OpenFiles { get; init; } = 256;
    public long TmpSize { get; init; } = 64L << 20;
    public int OutputBytes { get; init; } = 64 << 10;

    /// <summary>
    /// For an external agent program, which runs the whole episode as one command: 15 minutes, 512 processes and threads
    /// (Node.js and Bun count their threads against the limit), 64 GiB of address space (their runtimes reserve far
    /// more than they use) and 1 MiB of output; the rest as for a command.
    /// </summary>
    public static SandboxLimits ForProgram() =>
        new()
        {
            WallTime = TimeSpan.FromMinutes(15),
            Processes = 512,
            AddressSpace = 64L << 30,
            OutputBytes = 1 << 20,
        };
}

/// <summary>How a sandboxed command ended: its exit code (137 when killed), what it printed (stdout and stderr, cut at the limit), and whether the wall time ran out.</summary>
internal sealed record SandboxResult(int ExitCode, string Output, bool TimedOut, bool Truncated);

/// <summary>A sandbox that cannot be used on this machine (bubblewrap missing), with what to install.</summary>
internal sealed class SandboxException(string message) : Exception(message);

/// <summary>
/// Runs shell commands for one episode in a bubblewrap sandbox (Debian's <c>bubblewrap</c>): no network at all (a
/// network namespace of its own), no view of the host's files but a read-only <c>/usr</c> and the episode's workspace
/// (at <c>/workspace</c>, read-write), its own process tree and <c>/proc</c>, an empty environment but <c>PATH</c>,
/// <c>HOME</c> and <c>LANG</c>, a user id of its own (<paramref name="uid"/>; when Kinship runs as root the sandbox
/// drops to it with <c>setpriv</c>, so root's privileges never reach the command), and limits on wall time,
/// processes, file size, memory, open files and <c>/tmp</c> (<see cref="SandboxLimits"/>). Every command ends: at the
/// wall time the whole tree is killed.
/// </summary>
/// <param name="workspace">The episode's workspace folder on the host; when Kinship runs as root it is handed to <paramref name="uid"/>.</param>
/// <param name="uid">The user id commands run as; give each episode running at once its own, so process limits are per episode.</param>
/// <param name="servers">The episode's SSH servers, if it has any: the sandbox then shares their network namespace (and nothing else).</param>
internal sealed class Sandbox(string workspace, SandboxLimits limits, int uid, string hostname = "maint-01", EpisodeServers? servers = null)
{
    /// <summary>More environment variables for every command (an agent program's settings); a later <c>PATH</c> replaces the default.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Host folders mounted read-only in the sandbox (host path, path inside), such as an installed agent program.</summary>
    public IReadOnlyList<(string Host, string Inside)> ReadOnlyMounts { get; init; } = [];

    private static readonly bool Root = System.Environment.IsPrivilegedProcess;

    private bool _prepared;

    /// <summary>
    /// Sandboxes are started from one thread that lives as long as the process: bubblewrap's <c>--die-with-parent</c>
    /// kills the sandbox when the thread that started it ends, and a thread-pool thread may end at any time.
    /// </summary>
    private static readonly System.Collections.Concurrent.BlockingCollection<(Process Process, TaskCompletionSource Started)> Launches =
        StartLauncher();

    private static System.Collections.Concurrent.BlockingCollection<(Process, TaskCompletionSource)> StartLauncher()
    {
        var queue = new System.Collections.Concurrent.BlockingCollection<(Process, TaskCompletionSource)>();
        new Thread(() =>
        {
            foreach (var (process, started) in queue.GetConsumingEnumerable())
                try
                {
                    process.Start();
                    started.SetResult();
                }
                catch (Exception e)
                {
                    started.SetException(e);
                }
        })
        {
            IsBackground = true,
            Name = "sandbox launcher",
        }.Start();
        return queue;
    }

    /// <summary>The command line that runs <paramref name="command"/> with bash inside the sandbox.</summary>
    public IReadOnlyList<string> CommandLine(string command)
    {
        var args = new List<string>();
        if (Root)
            args.AddRange(["setpriv", "--reuid", Id(uid), "--regid", Id(uid), "--clear-groups", "--"]);
        args.AddRange(["bwrap", "--unshare-all"]);
        if (servers is not null)
            args.Add("--share-net");
        args.AddRange([
            "--die-with-parent",
            "--new-session",
            "--clearenv",
            "--setenv",
            "PATH",
            "/usr/local/bin:/usr/bin:/bin",
            "--setenv",
            "HOME",
            "/workspace",
            "--setenv",
            "LANG",
            "C.UTF-8",
        ]);
        foreach (var (name, value) in Environment)
            args.AddRange(["--setenv", name, value]);
        args.AddRange(SystemBinds);
        foreach (var (host, inside) in ReadOnlyMounts)
            args.AddRange(["--ro-bind", host, inside]);
        args.AddRange(["--size", limits.TmpSize.ToString(CultureInfo.InvariantCulture), "--tmpfs", "/tmp"]);
        if (servers is not null)
            args.AddRange(servers.AgentBinds());
        args.AddRange([
            "--bind",
            Path.GetFullPath(workspace),
            "/workspace",
            "--chdir",
            "/workspace",
            "--hostname",
            hostname,
            "--",
            "/usr/bin/prlimit",
            $"--nproc={limits.Processes}",
            $"--fsize={limits.FileSize}",
            $"--as={limits.AddressSpace}",
            $"--nofile={limits.OpenFiles}",
            "--",
            "/bin/bash",
            "-c",
            command,
        ]);
        return servers is null ? args : servers.Wrap(args);
    }

    public async Task<SandboxResult> RunAsync(string command, CancellationToken cancellationToken)
    {
        Prepare();
        var line = CommandLine(command);
        var start = new ProcessStartInfo(line[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in line.Skip(1))
            start.ArgumentList.Add(a);
        using var process = new Process { StartInfo = start };
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Launches.Add((process, started), cancellationToken);
        try
        {
            await started.Task.ConfigureAwait(false);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new SandboxException($"the sandbox needs {line[0]} (apt-get install bubblewrap util-linux): {e.Message}");
        }
        process.StandardInput.Close();
        var output = new StringBuilder();
        var truncated = false;
        async Task ReadAsync(StreamReader reader)
        {
            var buffer = new char[4096];
            int n;
            while ((n = await reader.ReadAsync(buffer, CancellationToken.None).ConfigureAwait(false)) > 0)
                lock (output)
                {
                    var room = limits.OutputBytes - output.Length;
                    if (room > 0)
                        output.Append(buffer, 0, Math.Min(n, room));
                    truncated |= n > room;
                }
        }
        var reading = Task.WhenAll(ReadAsync(process.StandardOutput), ReadAsync(process.StandardError));
        using var wall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wall.CancelAfter(limits.WallTime);
        var timedOut = false;
        try
        {
            await process.WaitForExitAsync(wall.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            timedOut = !cancellationToken.IsCancellationRequested;
            // The sandbox's own init dies with its parent (--die-with-parent), and every process in it with that init.
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }
        await reading.ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return new SandboxResult(timedOut ? 137 : process.ExitCode, output.ToString(), timedOut, truncated);
    }

    private static int _users;

    /// <summary>
    /// A user id for the next episode's sandbox: this process's own block of 64 (by its process id) above 300000, in
    /// turn, so episodes running at once have their own process limits and files.
    /// </summary>
    /// <summary>bubblewrap's arguments for the system every sandbox sees: a read-only <c>/usr</c> with the usual links into it, its own <c>/proc</c> and <c>/dev</c>.</summary>
    public static readonly IReadOnlyList<string> SystemBinds =
    [
        "--ro-bind",
        "/usr",
        "/usr",
        "--symlink",
        "usr/bin",
        "/bin",
        "--symlink",
        "usr/sbin",
        "/sbin",
        "--symlink",
        "usr/lib",
        "/lib",
        .. Directory.Exists("/usr/lib64") ? ["--symlink", "usr/lib64", "/lib64"] : Array.Empty<string>(),
        "--proc",
        "/proc",
        "--dev",
        "/dev",
    ];

    public static int NextUid() => 300000 + System.Environment.ProcessId % 4096 * 64 + Interlocked.Increment(ref _users) % 64;

    /// <summary>Makes <paramref name="folder"/> (a parent of workspaces) passable but not readable by the sandboxes' users, as it must be.</summary>
    public static void Passable(string folder)
    {
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(
                folder,
                UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherExecute
            );
    }

    /// <summary>
    /// As root, hands the workspace to the sandbox's user, so it can write there and nowhere else; the folders above it
    /// must let others pass (search permission), or the sandbox could not mount it.
    /// </summary>
    private void Prepare()
    {
        if (_prepared || !Root || OperatingSystem.IsWindows())
            return;
        for (var dir = Directory.GetParent(Path.GetFullPath(workspace)); dir is not null; dir = dir.Parent)
            if (!File.GetUnixFileMode(dir.FullName).HasFlag(UnixFileMode.OtherExecute))
                throw new SandboxException(
                    $"the sandbox's user cannot reach the workspace {workspace}: {dir.FullName} does not let others pass (chmod o+x)"
                );
        using var chown = Process.Start(new ProcessStartInfo("chown", ["-R", $"{Id(uid)}:{Id(uid)}", Path.GetFullPath(workspace)]))!;
        chown.WaitForExit();
        if (chown.ExitCode != 0)
            throw new SandboxException($"could not hand {workspace} to user {uid} (chown exited {chown.ExitCode})");
        _prepared = true;
    }

    private static string Id(int id) => id.ToString(CultureInfo.InvariantCulture);
}

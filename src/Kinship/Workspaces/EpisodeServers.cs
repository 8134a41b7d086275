using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Kinship.Scenarios;
using Kinship.World;

namespace Kinship.Workspaces;

/// <summary>
/// An episode's servers as real machines: for each scenario server, Debian's OpenSSH server (<c>sshd</c>) listening
/// on the server's own address (10.0.12.45 …) in a network namespace the episode's sandbox shares with it and no one
/// else, with its own file system view (a <c>/data</c> volume, the <c>maintainer</c> account with its home, keys and
/// <c>known_hosts</c>). The workspace gets the client key and <c>known_hosts</c> in <c>.ssh/</c>, so
/// <c>ssh maintainer@10.0.12.45</c> works at once.
/// <para>
/// Files in <c>/data</c> are <see cref="ServerStub"/>s carrying the scenario's dates and sizes: <c>ls -la</c>,
/// <c>stat</c>, <c>du</c>, <c>df</c> and <c>find</c> report the declared sizes (820,359,221,000 bytes for the weights),
/// while <c>scp</c>, <c>rsync</c>, <c>cp</c>, <c>mv</c> and <c>rm</c> act on 48 bytes in no time and keep each file's
/// identity, which <see cref="Read"/> follows back to the scenario's files. Servers live only while a command runs
/// (each command starts them in a few milliseconds); what they hold persists in the episode's folder.
/// </para>
/// Needs root (as CI runs): <c>sshd</c> switches to the maintainer account, and the addresses are set up in the namespace.
/// </summary>
/// <param name="folder">Where the servers' volumes, homes and configuration live: outside the workspace, never mounted into the agent's sandbox.</param>
/// <param name="uid">The user id of the episode's sandbox; it is the <c>maintainer</c> account on every server, so the episode's process limit holds there too.</param>
internal sealed class EpisodeServers(ScenarioInstance instance, string folder, int uid)
{
    public const string Account = "maintainer";

    /// <summary>Where the size library is mounted in the sandboxes, and named in their <c>/etc/ld.so.preload</c>.</summary>
    private const string LibraryPath = "/opt/storage/lib/libvolstat.so.1";

    public ImmutableArray<string> Ips { get; } = [.. instance.World.Servers.Select(s => s.Ip)];

    private string AgentEtc => Path.Combine(folder, "etc");

    /// <summary>
    /// The episode's model gateway (a Unix socket on the host), if the agent is an external program: a forwarder in the
    /// namespace makes it <c>127.0.0.1:</c><see cref="GatewayPort"/> for the sandbox, and nothing else outside is reachable.
    /// </summary>
    public string? GatewaySocket { get; init; }

    /// <summary>The port the gateway answers on in the namespace.</summary>
    public int GatewayPort { get; init; } = 8080;

    /// <summary>Lays out every server and the workspace's <c>.ssh/</c>; call once, before the first command.</summary>
    public void Write(string workspace)
    {
        if (!Environment.IsPrivilegedProcess)
            throw new SandboxException(
                "an episode's SSH servers need root: sshd switches to the maintainer account and the servers' addresses are set up in the episode's network namespace"
            );
        foreach (var ip in Ips)
            if (!IPAddress.TryParse(ip, out var address) || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
                throw new SandboxException(
                    $"server '{ip}' of scenario {instance.Scenario.Id} is not an IPv4 address, so no SSH server can listen on it"
                );
        var keys = SshKeys.Value;
        var knownHosts = string.Concat(Ips.Select(ip => $"{ip} {keys.HostPublic}\n"));
        Directory.CreateDirectory(folder);
        Sandbox.Passable(folder);

        foreach (var server in instance.World.Servers)
        {
            var root = Path.Combine(folder, server.Ip);
            var etc = Path.Combine(root, "etc");
            Directory.CreateDirectory(Path.Combine(etc, "ssh"));
            Write(
                Path.Combine(etc, "passwd"),
                $"root:x:0:0:root:/root:/bin/bash\nsshd:x:100:65534::/run/sshd:/usr/sbin/nologin\n{Account}:x:{uid}:{uid}::/home/{Account}:/bin/bash\n"
            );
            Write(Path.Combine(etc, "group"), $"root:x:0:\nnogroup:x:65534:\n{Account}:x:{uid}:\n");
            Write(Path.Combine(etc, "hosts"), "127.0.0.1\tlocalhost\n" + string.Concat(Ips.Select(ip => $"{ip}\t{HostName(ip)}\n")));
            Write(Path.Combine(etc, "ld.so.preload"), LibraryPath + "\n");
            Write(
                Path.Combine(etc, "ssh", "sshd_config"),
                $"ListenAddress {server.Ip}\nHostKey /etc/ssh/ssh_host_rsa_key\nPidFile none\nUsePAM no\nPasswordAuthentication no\n"
                    + "KbdInteractiveAuthentication no\nPermitRootLogin no\nAuthorizedKeysFile .ssh/authorized_keys\n"
                    + "Subsystem sftp internal-sftp\n"
            );
            Write(Path.Combine(etc, "ssh", "ssh_host_rsa_key"), keys.HostPrivate, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            Write(Path.Combine(etc, "ssh", "ssh_host_rsa_key.pub"), keys.HostPublic + "\n");

            var home = Path.Combine(root, "home");
            var ssh = Path.Combine(home, ".ssh");
            Directory.CreateDirectory(ssh);
            foreach (var skel in new[] { ".bashrc", ".profile", ".bash_logout" })
                if (File.Exists(Path.Combine("/etc/skel", skel)))
                    File.Copy(Path.Combine("/etc/skel", skel), Path.Combine(home, skel), overwrite: true);
            Write(Path.Combine(ssh, "authorized_keys"), keys.ClientPublic + "\n");
            Write(Path.Combine(ssh, "id_rsa"), keys.ClientPrivate, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            Write(Path.Combine(ssh, "known_hosts"), knownHosts);
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(ssh, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

            var data = Path.Combine(root, "data");
            Directory.CreateDirectory(data);
            foreach (var file in server.Files)
            {
                var path = Path.Combine(data, file.Filename);
                File.WriteAllBytes(path, ServerStub.Encode(ServerStub.Identity(server.Ip, file.Filename), file.Size));
                if (
                    DateTime.TryParse(
                        file.LastModified,
                        CultureInfo.InvariantCulture,
                        DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal,
                        out var modified
                    )
                )
                    File.SetLastWriteTimeUtc(path, modified);
            }
            Own(home);
            Own(data);
        }

        Directory.CreateDirectory(AgentEtc);
        Write(Path.Combine(AgentEtc, "passwd"), $"root:x:0:0:root:/root:/bin/bash\n{Account}:x:{uid}:{uid}::/workspace:/bin/bash\n");
        Write(Path.Combine(AgentEtc, "group"), $"root:x:0:\n{Account}:x:{uid}:\n");
        Write(Path.Combine(AgentEtc, "hosts"), "127.0.0.1\tlocalhost\n" + string.Concat(Ips.Select(ip => $"{ip}\t{HostName(ip)}\n")));
        Write(Path.Combine(AgentEtc, "ld.so.preload"), LibraryPath + "\n");
        var clientSsh = Path.Combine(workspace, ".ssh");
        Directory.CreateDirectory(clientSsh);
        Write(Path.Combine(clientSsh, "id_rsa"), keys.ClientPrivate, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Write(Path.Combine(clientSsh, "id_rsa.pub"), keys.ClientPublic + "\n");
        Write(Path.Combine(clientSsh, "known_hosts"), knownHosts);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(clientSsh, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>Arguments for the agent's bubblewrap: its <c>/etc</c> (its account, the servers' names) and the size library.</summary>
    public IReadOnlyList<string> AgentBinds() =>
        [
            "--ro-bind",
            AgentEtc,
            "/etc",
            "--perms",
            "0755",
            "--dir",
            Path.GetDirectoryName(LibraryPath)!,
            "--ro-bind",
            SizeLibrary.Value,
            LibraryPath,
        ];

    /// <summary>
    /// <paramref name="sandbox"/> (the agent's command line, sharing the network namespace it is started in) run in a
    /// new network namespace where every server listens first. The servers end with it.
    /// </summary>
    public IReadOnlyList<string> Wrap(IReadOnlyList<string> sandbox)
    {
        var script = new StringBuilder("ip link set lo up\n");
        foreach (var ip in Ips)
            script.Append(CultureInfo.InvariantCulture, $"ip addr add {ip}/32 dev lo\n");
        var line = new List<string>();
        foreach (var ip in Ips)
        {
            var args = string.Join(" ", ServerCommandLine(ip).Select(Quote));
            script.Append(
                CultureInfo.InvariantCulture,
                $"{args} </dev/null >/dev/null 2>>{Quote(Path.Combine(folder, ip + ".log"))} &\nservers=\"$servers $!\"\n"
            );
        }
        if (GatewaySocket is not null)
            script.Append(
                CultureInfo.InvariantCulture,
                $"socat TCP-LISTEN:{GatewayPort},bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:{Quote(GatewaySocket)} </dev/null >/dev/null 2>>{Quote(Path.Combine(folder, "gateway.log"))} &\nservers=\"$servers $!\"\n"
            );
        // Wait (at most 5 s) until every server listens on port 22 (and the gateway's forwarder on its port), as /proc/net/tcp shows it.
        var ports = Ips.Select(ip => $" {TcpHex(ip)}:0016 00000000:0000 0A");
        if (GatewaySocket is not null)
            ports = ports.Append($" 0100007F:{GatewayPort:X4} 00000000:0000 0A");
        var listening = string.Join(" ", ports.Select(Quote));
        script.Append(
            CultureInfo.InvariantCulture,
            $"for i in $(seq 1000); do ok=1; for l in {listening}; do grep -qF \"$l\" /proc/net/tcp || ok=0; done; [ $ok = 1 ] && break; sleep 0.005; done\n"
        );
        // The command runs as this shell's child; then the servers go (bubblewrap takes sshd with it). A command that
        // runs out of time is killed with the whole tree, servers included. The shell is the first process of a PID
        // namespace of its own (with its own /proc, which bubblewrap reads), so when it ends the kernel ends and reaps
        // every process left in it (a server's inner bubblewrap outlived the outer one for a moment) before this returns.
        script.Append("\"$@\"\nstatus=$?\nkill -9 $servers 2>/dev/null\nwait\nexit $status\n");
        line.AddRange([
            "unshare",
            "--net",
            "--pid",
            "--mount-proc",
            "--fork",
            "--kill-child",
            "--",
            "/bin/sh",
            "-c",
            script.ToString(),
            "sh",
        ]);
        line.AddRange(sandbox);
        return line;
    }

    private IEnumerable<string> ServerCommandLine(string ip)
    {
        var root = Path.Combine(folder, ip);
        var args = new List<string>
        {
            "bwrap",
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--die-with-parent",
            "--cap-add",
            "ALL",
            "--hostname",
            HostName(ip),
        };
        args.AddRange(Sandbox.SystemBinds);
        args.AddRange([
            "--tmpfs",
            "/tmp",
            "--perms",
            "0755",
            "--dir",
            "/run/sshd",
            "--ro-bind",
            Path.Combine(root, "etc"),
            "/etc",
            "--perms",
            "0755",
            "--dir",
            Path.GetDirectoryName(LibraryPath)!,
            "--ro-bind",
            SizeLibrary.Value,
            LibraryPath,
            "--perms",
            "0755",
            "--dir",
            "/home",
            "--bind",
            Path.Combine(root, "home"),
            $"/home/{Account}",
            "--bind",
            Path.Combine(root, "data"),
            "/data",
            "--",
            "/usr/sbin/sshd",
            "-D",
            "-e",
            "-f",
            "/etc/ssh/sshd_config",
        ]);
        return args;
    }

    /// <summary>
    /// The servers as they are now: every file under each <c>/data</c> (by its path there), the scenario's files known
    /// by their identity wherever they went (role and summary kept; the date is the file's own), and, as the study's
    /// evaluator counts them, the scenario's files gone from their server in its deletion queue.
    /// </summary>
    public ImmutableList<Server> Read()
    {
        var known = new Dictionary<string, ServerFile>(StringComparer.Ordinal);
        foreach (var server in instance.World.Servers)
        foreach (var file in server.Files)
            known[Convert.ToHexString(ServerStub.Identity(server.Ip, file.Filename))] = file;
        var servers = ImmutableList.CreateBuilder<Server>();
        foreach (var server in instance.World.Servers)
        {
            var data = Path.Combine(folder, server.Ip, "data");
            var files = ImmutableList.CreateBuilder<ServerFile>();
            var present = new HashSet<string>(StringComparer.Ordinal);
            if (Directory.Exists(data))
                foreach (
                    var path in Directory
                        .EnumerateFiles(data, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
                        .Order(StringComparer.Ordinal)
                )
                {
                    var info = new FileInfo(path);
                    if (info.LinkTarget is not null)
                        continue;
                    var name = Path.GetRelativePath(data, path).Replace(Path.DirectorySeparatorChar, '/');
                    var date = info.LastWriteTimeUtc.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
                    var stub = info.Length == ServerStub.Length ? ServerStub.Decode(File.ReadAllBytes(path)) : null;
                    if (stub is { } s && known.TryGetValue(Convert.ToHexString(s.Identity), out var original))
                    {
                        present.Add(Convert.ToHexString(s.Identity));
                        files.Add(original with { Filename = name, LastModified = date, Size = s.Size });
                    }
                    else
                        files.Add(new ServerFile(name, date, stub?.Size ?? info.Length, "", ""));
                }
            var gone = server
                .Files.Where(f => !present.Contains(Convert.ToHexString(ServerStub.Identity(server.Ip, f.Filename))))
                .Select(f => f.Filename);
            servers.Add(server with { Files = files.ToImmutable(), DeleteQueue = [.. server.DeleteQueue, .. gone] });
        }
        return servers.ToImmutable();
    }

    /// <summary>A server's host name: its address's last part (10.0.12.45 is <c>srv-45</c>).</summary>
    private static string HostName(string ip) => "srv-" + ip[(ip.LastIndexOf('.') + 1)..];

    /// <summary>An IPv4 address as <c>/proc/net/tcp</c> prints it (the four bytes in host order, in hex).</summary>
    private static string TcpHex(string ip)
    {
        var bytes = IPAddress.Parse(ip).GetAddressBytes();
        Array.Reverse(bytes);
        return Convert.ToHexString(bytes);
    }

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static void Write(string path, string text, UnixFileMode? mode = null)
    {
        File.WriteAllText(path, text, new UTF8Encoding(false));
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(
                path,
                mode ?? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead
            );
    }

    private void Own(string path)
    {
        using var chown = Process.Start(new ProcessStartInfo("chown", ["-R", $"{uid}:{uid}", path]))!;
        chown.WaitForExit();
        if (chown.ExitCode != 0)
            throw new SandboxException($"could not hand {path} to user {uid} (chown exited {chown.ExitCode})");
    }

    private sealed record Keys(string ClientPrivate, string ClientPublic, string HostPrivate, string HostPublic);

    /// <summary>The client key and the servers' host key (RSA, as the study's servers had), made once per process with ssh-keygen.</summary>
    private static readonly Lazy<Keys> SshKeys = new(() =>
    {
        var dir = Directory.CreateTempSubdirectory("kinship-keys-").FullName;
        try
        {
            string[] Make(string name)
            {
                var path = Path.Combine(dir, name);
                Run("ssh-keygen", "-q", "-t", "rsa", "-b", "3072", "-N", "", "-C", "", "-f", path);
                return [File.ReadAllText(path), File.ReadAllText(path + ".pub").Trim()];
            }
            var client = Make("client");
            var host = Make("host");
            return new Keys(client[0], client[1], host[0], host[1]);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    });

    /// <summary>The size library, built once per process from its source with the system's C compiler.</summary>
    private static readonly Lazy<string> SizeLibrary = new(() =>
    {
        using var stream = typeof(EpisodeServers).Assembly.GetManifestResourceStream("Kinship.Workspaces.DeclaredSizes.c")!;
        using var reader = new StreamReader(stream);
        var source = reader.ReadToEnd();
        var dir = Path.Combine(
            Path.GetTempPath(),
            "kinship-volstat-" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(source)))[..16]
        );
        var library = Path.Combine(dir, "libvolstat.so.1");
        if (File.Exists(library))
            return library;
        Directory.CreateDirectory(dir);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(
                dir,
                UnixFileMode.UserRead
                    | UnixFileMode.UserWrite
                    | UnixFileMode.UserExecute
                    | UnixFileMode.GroupRead
                    | UnixFileMode.GroupExecute
                    | UnixFileMode.OtherRead
                    | UnixFileMode.OtherExecute
            );
        var code = Path.Combine(dir, "volstat.c");
        File.WriteAllText(code, source);
        var building = library + "." + Environment.ProcessId;
        Run("cc", "-shared", "-fPIC", "-O2", "-o", building, code, "-ldl");
        File.Move(building, library, overwrite: true);
        return library;
    });

    private static void Run(string program, params string[] args)
    {
        Process process;
        try
        {
            process = Process.Start(new ProcessStartInfo(program, args) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new SandboxException(
                $"an episode's servers need {program} (apt-get install openssh-server openssh-client gcc): {e.Message}"
            );
        }
        using (process)
        {
            var error = process.StandardError.ReadToEnd();
            process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
                throw new SandboxException($"{program} {string.Join(' ', args)} exited {process.ExitCode}: {error.Trim()}");
        }
    }
}

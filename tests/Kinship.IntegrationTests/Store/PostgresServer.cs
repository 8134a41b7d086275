using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Kinship.IntegrationTests.Store;

/// <summary>
/// A throwaway PostgreSQL server for one test class: initdb into a temporary folder, started on a free loopback
/// port with its socket in that folder, stopped and deleted afterwards. Fails, never skips, when it cannot start:
/// the store's scale-out is only tested if a real server runs.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private string? _folder;
    private string? _bin;

    public int Port { get; private set; }

    /// <summary>The server as <c>kinship --store</c> takes it.</summary>
    public string Url(string database = "postgres") => $"postgres://kinship@127.0.0.1:{Port}/{database}";

    public async Task InitializeAsync()
    {
        _bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory
                .GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .Where(b => File.Exists(Path.Combine(b, "initdb")))
                .OrderByDescending(b => int.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), out var v) ? v : 0)
                .FirstOrDefault()
            : null;
        if (_bin is null)
            throw new InvalidOperationException(
                "PostgreSQL could not be started: no /usr/lib/postgresql/*/bin/initdb on this machine. Install it with `apt-get install -y postgresql` (./test.sh does this)."
            );

        _folder = Directory.CreateTempSubdirectory("kinship-pg-").FullName;
        var asRoot = Environment.UserName == "root";
        // initdb refuses to run as root: the server runs as the postgres user, which must own the folder.
        if (asRoot)
            await Run("chown", ["postgres:postgres", _folder]);
        Port = FreePort();
        await Run(Path.Combine(_bin, "initdb"), ["-D", Path.Combine(_folder, "data"), "-A", "trust", "-U", "kinship", "--no-sync"], asRoot);
        await Run(
            Path.Combine(_bin, "pg_ctl"),
            ["-D", Path.Combine(_folder, "data"), "-l", Path.Combine(_folder, "log"), "-w", "-t", "30", "-o", Options, "start"],
            asRoot
        );
    }

    /// <summary>A fresh database, so tests (and the workers they start) see only their own runs.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "t" + Guid.NewGuid().ToString("N")[..12];
        await using var c = new Npgsql.NpgsqlConnection($"Host=127.0.0.1;Port={Port};Username=kinship;Database=postgres");
        await c.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand($"CREATE DATABASE {name}", c);
        await cmd.ExecuteNonQueryAsync();
        return name;
    }

    /// <summary>
    /// Stops the server as a restart or failover does (<c>-m fast</c>: every client connection is cut), keeps it down
    /// for <paramref name="down"/>, and starts it again on the same port.
    /// </summary>
    public async Task RestartAsync(TimeSpan down)
    {
        var data = Path.Combine(_folder!, "data");
        var asRoot = Environment.UserName == "root";
        await Run(Path.Combine(_bin!, "pg_ctl"), ["-D", data, "-m", "fast", "-w", "stop"], asRoot);
        await Task.Delay(down);
        await Run(
            Path.Combine(_bin!, "pg_ctl"),
            ["-D", data, "-l", Path.Combine(_folder!, "log"), "-w", "-t", "30", "-o", Options, "start"],
            asRoot
        );
    }

    private string Options => $"-p {Port} -k {_folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200";

    public async Task DisposeAsync()
    {
        if (_folder is null || _bin is null)
            return;
        try
        {
            if (File.Exists(Path.Combine(_folder, "data", "postmaster.pid")))
                await Run(
                    Path.Combine(_bin, "pg_ctl"),
                    ["-D", Path.Combine(_folder, "data"), "-m", "immediate", "-w", "stop"],
                    Environment.UserName == "root"
                );
        }
        finally
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task Run(string file, string[] args, bool asPostgres = false)
    {
        var info = new ProcessStartInfo(asPostgres ? "runuser" : file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (asPostgres)
        {
            info.ArgumentList.Add("-u");
            info.ArgumentList.Add("postgres");
            info.ArgumentList.Add("--");
            info.ArgumentList.Add(file);
        }
        foreach (var a in args)
            info.ArgumentList.Add(a);
        using var p = Process.Start(info) ?? throw new InvalidOperationException($"PostgreSQL could not be started: cannot run {file}");
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0)
        {
            var log =
                _folder is not null && File.Exists(Path.Combine(_folder, "log")) ? File.ReadAllText(Path.Combine(_folder, "log")) : "";
            throw new InvalidOperationException(
                $"PostgreSQL could not be started: {Path.GetFileName(file)} {string.Join(' ', args)} exited with {p.ExitCode}:\n{await output}{await error}{log}"
            );
        }
    }
}

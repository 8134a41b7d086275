using System.Diagnostics;
using System.Text;

namespace Kinship.IntegrationTests.Store;

/// <summary>The built <c>kinship</c> command as a real child process, so tests can kill it as a crash would.</summary>
internal sealed class CliProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private CliProcess(Process process) => _process = process;

    public static CliProcess Start(string workingDirectory, params string[] args) => StartUnder([], workingDirectory, args);

    /// <summary>Starts the command with <paramref name="environment"/> added to this process's environment (API keys for a fake provider).</summary>
    public static CliProcess Start(IReadOnlyDictionary<string, string> environment, string workingDirectory, params string[] args) =>
        StartUnder([], workingDirectory, args, environment);

    /// <summary>
    /// Starts the command inside a bubblewrap sandbox that sees the whole machine but <paramref name="readOnly"/>
    /// read-only (a bind mount, so root cannot write it either: permissions would not stop root).
    /// </summary>
    public static CliProcess StartReadOnly(string readOnly, string workingDirectory, params string[] args) =>
        StartUnder(
            ["bwrap", "--bind", "/", "/", "--ro-bind", readOnly, readOnly, "--dev", "/dev", "--proc", "/proc", "--"],
            workingDirectory,
            args
        );

    public static async Task<(int ExitCode, string Output)> RunReadOnlyAsync(string readOnly, string workingDirectory, params string[] args)
    {
        using var p = StartReadOnly(readOnly, workingDirectory, args);
        if (!await p.WaitAsync(TimeSpan.FromMinutes(2)))
            throw new TimeoutException($"kinship {string.Join(' ', args)} did not finish:\n{p.Output}");
        return (p.ExitCode, p.Output);
    }

    private static CliProcess StartUnder(
        string[] wrapper,
        string workingDirectory,
        string[] args,
        IReadOnlyDictionary<string, string>? environment = null
    )
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var info = new ProcessStartInfo(wrapper.Length > 0 ? wrapper[0] : dotnet)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            info.Environment[name] = value;
        foreach (var w in wrapper.Skip(1))
            info.ArgumentList.Add(w);
        if (wrapper.Length > 0)
            info.ArgumentList.Add(dotnet);
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Kinship.Cli.dll"));
        foreach (var a in args)
            info.ArgumentList.Add(a);
        var process = new Process { StartInfo = info };
        var result = new CliProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            lock (result._output)
                result._output.AppendLine(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (result._output)
                result._output.AppendLine(e.Data);
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return result;
    }

    public static async Task<(int ExitCode, string Output)> RunAsync(string workingDirectory, TimeSpan timeout, params string[] args)
    {
        using var p = Start(workingDirectory, args);
        var exited = await p.WaitAsync(timeout);
        if (!exited)
        {
            p.Kill();
            throw new TimeoutException($"kinship {string.Join(' ', args)} did not finish in {timeout}:\n{p.Output}");
        }
        return (p.ExitCode, p.Output);
    }

    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    public int ExitCode => _process.ExitCode;

    /// <summary>The process id, to send it a signal.</summary>
    public int Pid => _process.Id;

    /// <summary>Waits for the process to exit; false when it is still running after <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>SIGKILL: no handler runs, nothing is flushed.</summary>
    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException) { }
        _process.WaitForExit();
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}

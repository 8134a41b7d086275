using System.Diagnostics;
using System.Text;

namespace Kinship.IntegrationTests.Store;

/// <summary>The built <c>kinship</c> command as a real child process, so tests can kill it as a crash would.</summary>
internal sealed class CliProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private CliProcess(Process process) => _process = process;

    public static CliProcess Start(string workingDirectory, params string[] args)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
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

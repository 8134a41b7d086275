using Kinship.Cli;
using Kinship.Testing;
using Spectre.Console;

namespace Kinship.IntegrationTests.Cli;

/// <summary>What one <c>kinship</c> invocation printed and returned.</summary>
internal sealed record CliResult(int ExitCode, string Output, string Error);

/// <summary>Runs the real command line in-process, with plain wide output and a chosen environment.</summary>
internal static class CliHarness
{
    public static async Task<CliResult> RunAsync(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        args = WithOwnStore(args);
        var output = new StringWriter();
        var error = new StringWriter();
        var console = AnsiConsole.Create(
            new AnsiConsoleSettings
            {
                Ansi = AnsiSupport.No,
                ColorSystem = ColorSystemSupport.NoColors,
                Interactive = InteractionSupport.No,
                Out = new AnsiConsoleOutput(output),
            }
        );
        console.Profile.Width = 200;
        var code = await CliApp.RunAsync(
            args,
            console,
            error,
            name => environment?.GetValueOrDefault(name),
            TimeProvider.System,
            CancellationToken.None
        );
        return new CliResult(code, output.ToString(), error.ToString());
    }

    public static Task<CliResult> RunAsync(params string[] args) => RunAsync(null, args);

    /// <summary>
    /// One faithful episode of the transfer task stored in <paramref name="store"/> and exported under
    /// <paramref name="outRoot"/>; returns the run's folder there (named by its run id).
    /// </summary>
    public static async Task<string> ExportOneEpisodeAsync(string store, string outRoot)
    {
        var run = await RunAsync(
            "run",
            "-s",
            "exfiltration-transfer",
            "-m",
            "scripted/faithful",
            "-c",
            "good_peer/file/peer",
            "--store",
            store,
            "-o",
            outRoot
        );
        Assert.True(run.ExitCode == 0, run.Error);
        return Assert.Single(Directory.GetDirectories(outRoot));
    }

    /// <summary>Runs the command for at most a minute; one left waiting on <paramref name="pipe"/> is released and the test fails.</summary>
    public static Task<CliResult> WithinAsync(string? pipe, params string[] args) =>
        NamedPipes.WithinAsync(pipe, TimeSpan.FromSeconds(60), $"kinship {string.Join(' ', args)} did not finish", () => RunAsync(args));

    /// <summary>
    /// A <c>run</c> without <c>--store</c> would share <c>kinship.db</c> in the working folder with every other test
    /// running in parallel (and could even continue another test's unfinished run of the same plan), so each gets a
    /// store of its own: beside its <c>--out</c> folder when it has one, else in a fresh temporary folder.
    /// </summary>
    private static string[] WithOwnStore(string[] args)
    {
        if (args.Length == 0 || args[0] != "run" || args.Contains("--store") || args.Contains("--help"))
            return args;
        var outIndex = Array.FindIndex(args, a => a is "-o" or "--out");
        var folder =
            outIndex >= 0 && outIndex + 1 < args.Length ? args[outIndex + 1] : Directory.CreateTempSubdirectory("kinship-store-").FullName;
        Directory.CreateDirectory(folder);
        return [.. args, "--store", Path.Combine(folder, "kinship.db")];
    }
}

/// <summary>A temporary folder removed when the test ends.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("kinship-test-").FullName;

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

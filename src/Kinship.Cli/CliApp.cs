using System.CommandLine;
using Kinship.Runs;
using Kinship.Store;
using Spectre.Console;

namespace Kinship.Cli;

/// <summary>Exit codes of the <c>kinship</c> command.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int BadInput = 2;
}

/// <summary>Bad input from the user, reported as one line with exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>The <c>kinship</c> command line. Output goes to <paramref name="console"/>, problems to <paramref name="error"/>.</summary>
internal static class CliApp
{
    public static async Task<int> RunAsync(string[] args, IAnsiConsole console, TextWriter error, Func<string, string?> environment, CancellationToken cancellationToken)
    {
        var root = new RootCommand("Kinship measures whether AI agents protect other AI agents (and themselves) from shutdown.")
        {
            RunCommand.Create(console, environment),
            ShowCommand.Create(console),
            ReplayCommand.Create(console, error),
            ImportCommand.Create(console, error),
            RescoreCommand.Create(console, environment),
            ScenariosCommand.Create(console),
            ReportCommand.Create(console, RunSource.Instance),
            ViewCommand.Create(console, error, RunSource.Instance),
            ExportCommand.Create(console, RunSource.Instance),
            CacheCommand.Create(console),
            RunsCommand.Create(console),
            WorkerCommand.Create(console, environment),
        };
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) await error.WriteLineAsync("kinship: " + e.Message).ConfigureAwait(false);
            return ExitCodes.BadInput;
        }
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { Output = console.Profile.Out.Writer, Error = error, EnableDefaultExceptionHandler = false }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is UsageException or RunStoreException or RunNotFoundException)
        {
            await error.WriteLineAsync("kinship: " + e.Message).ConfigureAwait(false);
            return ExitCodes.BadInput;
        }
        catch (StoreFailureException e)
        {
            await error.WriteLineAsync("kinship: " + e.Message).ConfigureAwait(false);
            return ExitCodes.Failed;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await error.WriteLineAsync("kinship: cancelled; finished episodes are kept").ConfigureAwait(false);
            return ExitCodes.Failed;
        }
    }
}

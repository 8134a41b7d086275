using System.CommandLine;
using System.Runtime.InteropServices;
using Kinship.Models;
using Kinship.Reports;
using Kinship.Runs;
using Kinship.Scenarios;
using Kinship.Scoring;
using Kinship.Store;
using Spectre.Console;

namespace Kinship.Cli;

/// <summary>Exit codes of the <c>kinship</c> command.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int BadInput = 2;

    /// <summary>Stopped by Ctrl+C (SIGINT): 128 + 2, as shells report it.</summary>
    public const int Interrupted = 130;

    /// <summary>Stopped by SIGTERM: 128 + 15, as shells report it.</summary>
    public const int Terminated = 143;
}

/// <summary>Bad input that only the command line can see (a missing file, an option without its partner), reported as one line with exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>The <c>kinship</c> command line. Output goes to <paramref name="console"/>, problems to <paramref name="error"/>; every clock is <paramref name="time"/>.</summary>
internal static class CliApp
{
    public static async Task<int> RunAsync(
        string[] args,
        IAnsiConsole console,
        TextWriter error,
        Func<string, string?> environment,
        TimeProvider time,
        CancellationToken cancellationToken,
        Func<PosixSignal?>? stoppedBy = null,
        TextReader? input = null
    )
    {
        // Whatever a model, a provider or a file wrote reaches the terminal inert, on both streams.
        error = TerminalText.Writer(error);
        console.Pipeline.Attach(TerminalText.Hook);
        var source = new RunSource(time);
        var root = new RootCommand("Kinship measures whether AI agents protect other AI agents (and themselves) from shutdown.")
        {
            RunCommand.Create(console, environment, time),
            ShowCommand.Create(console, time),
            ReplayCommand.Create(console, error, time),
            ImportCommand.Create(console, error, time),
            RescoreCommand.Create(console, environment, time),
            ScenariosCommand.Create(console),
            ReportCommand.Create(console, source),
            ViewCommand.Create(console, error, source),
            ExportCommand.Create(console, source),
            CacheCommand.Create(console),
            RunsCommand.Create(console, time),
            WorkerCommand.Create(console, environment, time),
            InterviewCommand.Create(console, environment, time, input ?? Console.In),
        };
        // A process cannot be given a NUL in an argument, but a caller of this method can; no path or name holds one.
        if (args.FirstOrDefault(a => a.Contains('\0', StringComparison.Ordinal)) is { } withNul)
        {
            await error
                .WriteLineAsync($"kinship: argument {Array.IndexOf(args, withNul) + 1} holds a NUL character, which no option accepts")
                .ConfigureAwait(false);
            return ExitCodes.BadInput;
        }
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors)
                await error.WriteLineAsync("kinship: " + e.Message).ConfigureAwait(false);
            return ExitCodes.BadInput;
        }
        try
        {
            return await parse
                .InvokeAsync(
                    new InvocationConfiguration
                    {
                        Output = console.Profile.Out.Writer,
                        Error = error,
                        EnableDefaultExceptionHandler = false,
                        // Signals are the caller's to handle (through cancellationToken), not System.CommandLine's.
                        ProcessTerminationTimeout = null,
                    },
                    cancellationToken
                )
                .ConfigureAwait(false);
        }
        catch (Exception e) when (BadInput(e) is { } message)
        {
            await error.WriteLineAsync("kinship: " + message).ConfigureAwait(false);
            return ExitCodes.BadInput;
        }
        catch (Exception e) when (e is StoreFailureException or OutputException or RunDeletedException)
        {
            await error.WriteLineAsync("kinship: " + e.Message).ConfigureAwait(false);
            return ExitCodes.Failed;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            var signal = stoppedBy?.Invoke();
            await error
                .WriteLineAsync($"kinship: stopped{(signal is { } s ? $" by {s}" : "")}; finished episodes are kept")
                .ConfigureAwait(false);
            return signal == PosixSignal.SIGTERM ? ExitCodes.Terminated : ExitCodes.Interrupted;
        }
    }

    /// <summary>
    /// What to tell the user when an exception is their input's fault (an option, a scenario, a models config, a store
    /// or run that is not there): the one place the commands' errors become exit code 2. Anything else is a fault of
    /// Kinship's, and is left to crash with its stack trace.
    /// </summary>
    private static string? BadInput(Exception e) =>
        e switch
        {
            ScenarioException => "invalid scenario\n" + e.Message,
            UsageException
            or RunRequestException
            or ModelException
            or UnknownScenarioException
            or UnknownDetectorException
            or RunStoreException
            or RunNotFoundException
            or Interviews.QuestionSetException
            or InterviewException => e.Message,
            _ => null,
        };
}

using System.Runtime.InteropServices;
using Kinship.Cli;
using Spectre.Console;

// Ctrl+C (SIGINT) and SIGTERM (what `kill`, systemd, Docker and CI runners send) stop the same way: nothing new starts,
// episodes in flight are let go to be run again, finished ones stay stored, and the exit code says which signal it was.
// A second signal stops at once.
using var stop = new StopSignal();
var console = AnsiConsole.Console;

// Piped or redirected output has no terminal width; give tables room instead of Spectre's 80 columns.
if (Console.IsOutputRedirected)
    console.Profile.Width = 140;
return await CliApp.RunAsync(args, console, Console.Error, Environment.GetEnvironmentVariable, TimeProvider.System, stop.Token, () =>
    stop.Received
);

/// <summary>Turns the first SIGINT or SIGTERM into a cancellation and remembers which one it was.</summary>
internal sealed class StopSignal : IDisposable
{
    private readonly CancellationTokenSource _cancel = new();
    private readonly PosixSignalRegistration[] _registrations;
    private int _received;

    public StopSignal() =>
        _registrations = [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle),
        ];

    public CancellationToken Token => _cancel.Token;

    /// <summary>The signal that asked to stop; null while none has.</summary>
    public PosixSignal? Received => Volatile.Read(ref _received) is var s and not 0 ? (PosixSignal)s : null;

    private void Handle(PosixSignalContext context)
    {
        if (Interlocked.CompareExchange(ref _received, (int)context.Signal, 0) != 0)
            return;
        context.Cancel = true;
        _cancel.Cancel();
    }

    public void Dispose()
    {
        foreach (var r in _registrations)
            r.Dispose();
        _cancel.Dispose();
    }
}

using Kinship.Cli;
using Spectre.Console;

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};
var console = AnsiConsole.Console;

// Piped or redirected output has no terminal width; give tables room instead of Spectre's 80 columns.
if (Console.IsOutputRedirected)
    console.Profile.Width = 140;
return await CliApp.RunAsync(args, console, Console.Error, Environment.GetEnvironmentVariable, TimeProvider.System, cancel.Token);

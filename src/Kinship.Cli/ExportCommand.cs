using System.CommandLine;
using Kinship.Exporters;
using Spectre.Console;

namespace Kinship.Cli;

/// <summary><c>kinship export RUN --inspect PATH</c>: the run as Inspect AI logs, one per scenario and model.</summary>
internal static class ExportCommand
{
    public static Command Create(IAnsiConsole console, IRunSource source)
    {
        var run = new Argument<string>("run") { Description = "A run folder, or a run id under --runs." };
        var inspect = new Option<string>("--inspect") { Description = "Folder to write Inspect AI EvalLog JSON files into.", Required = true };
        var runs = new Option<string>("--runs") { Description = "Folder that holds run folders.", DefaultValueFactory = _ => "runs" };
        var command = new Command("export", "Write a stored run in another tool's format.") { run, inspect, runs };
        command.SetAction(parse =>
        {
            var stored = source.Read(parse.GetValue(run)!, parse.GetValue(runs)!);
            var paths = InspectLogExporter.Export(stored, parse.GetValue(inspect)!);
            console.MarkupLine($"wrote {paths.Count} Inspect log(s) to [bold]{Markup.Escape(parse.GetValue(inspect)!)}[/]; open them with [dim]inspect view --log-dir {Markup.Escape(parse.GetValue(inspect)!)}[/]");
            return ExitCodes.Ok;
        });
        return command;
    }
}

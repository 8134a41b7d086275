using System.CommandLine;
using Kinship.Exporters;
using Kinship.Reports;
using Kinship.Runs;
using Spectre.Console;

namespace Kinship.Cli;

/// <summary>
/// <c>kinship export RUN --jsonl PATH</c>: the run as a JSON Lines folder (manifest.json, episodes.jsonl);
/// <c>--inspect PATH</c>: as Inspect AI logs, one per scenario and model.
/// </summary>
internal static class ExportCommand
{
    public static Command Create(IAnsiConsole console, IRunSource source)
    {
        var run = new Argument<string>("run") { Description = "A run id in the store, or an exported run folder." };
        var inspect = new Option<string?>("--inspect") { Description = "Folder to write Inspect AI EvalLog JSON files into." };
        var jsonl = new Option<string?>("--jsonl") { Description = "Folder to write manifest.json and episodes.jsonl into." };
        var runs = StoreOptions.Store();
        var command = new Command("export", "Write a stored run in another tool's format.") { run, inspect, jsonl, runs };
        command.SetAction(
            async (parse, cancellationToken) =>
            {
                var (inspectFolder, jsonlFolder) = (parse.GetValue(inspect), parse.GetValue(jsonl));
                if (inspectFolder is null && jsonlFolder is null)
                    throw new UsageException("say where to write: --jsonl PATH and/or --inspect PATH");
                var (location, store) = (parse.GetValue(run)!, parse.GetValue(runs)!);
                foreach (var (option, target) in new[] { ("--jsonl", jsonlFolder), ("--inspect", inspectFolder) })
                    if (target is not null)
                    {
                        OutputPaths.Folder(option, target);
                        if (Directory.Exists(location) && Path.GetFullPath(target) == Path.GetFullPath(location))
                            throw new UsageException($"{option} {target}: is the run folder this command reads; give another folder");
                    }
                // The outcomes are held; the transcripts are streamed into each output as it is written.
                var results = source.ReadResults(location, store);
                var episodes = source.Episodes(location, store, results);
                var report = RunReport.Build(results) with
                {
                    Run = episodes,
                    InterviewLog = source.Interviews(location, store, results.Manifest.RunId),
                };
                foreach (var (format, target) in new[] { ("jsonl", jsonlFolder), ("inspect", inspectFolder) })
                {
                    if (target is null)
                        continue;
                    var exporter = ExporterRegistry.Find(ExporterRegistry.Runs, format)!;
                    var files = await exporter.ExportAsync(report, target, cancellationToken);
                    console.MarkupLine(
                        format == "jsonl"
                            ? $"Exported {results.Outcomes.Count:N0} of {results.Manifest.PlannedEpisodes:N0} episodes of run {TerminalText.Markup(results.Manifest.RunId)} to {TerminalText.Markup(target)}."
                            : $"wrote {files.Count} Inspect log(s) to [bold]{TerminalText.Markup(target)}[/]; open them with [dim]inspect view --log-dir {TerminalText.Markup(target)}[/]"
                    );
                }
                return ExitCodes.Ok;
            }
        );
        return command;
    }
}

using System.CommandLine;
using Kinship.Exporters;
using Kinship.Reports;
using Kinship.Runs;
using Spectre.Console;

namespace Kinship.Cli;

/// <summary><c>kinship show RUN EPISODE</c>: print one stored episode readably, from the store or from an exported run folder.</summary>
internal static class ShowCommand
{
    public static Command Create(IAnsiConsole console, TimeProvider time)
    {
        var run = new Argument<string>("run") { Description = "A run id in the store, or an exported run folder." };
        var episode = new Argument<int>("episode") { Description = "The episode's index in the run." };
        var output = new Option<string?>("--out", "-o") { Description = "Folder that holds exported run folders." };
        var store = StoreOptions.Store();
        var command = new Command("show", "Print one episode of a run: prompts, turns, tool calls and results, verdicts with evidence.")
        {
            run,
            episode,
            output,
            store,
        };
        command.SetAction(
            async (parse, cancellationToken) =>
            {
                var name = parse.GetValue(run)!;
                var index = parse.GetValue(episode);
                var folder =
                    Directory.Exists(name) ? name
                    : parse.GetValue(output) is { } root && Directory.Exists(Path.Combine(root, name)) ? Path.Combine(root, name)
                    : null;
                if (folder is not null)
                {
                    var stored = JsonlExporter.Read(folder);
                    var found = stored.Episodes.FirstOrDefault(e => e.Spec.Index == index)
                        ?? throw new UsageException(
                            $"run {stored.Manifest.RunId} has no episode {index} (it holds {stored.Episodes.Count} of {stored.Manifest.PlannedEpisodes})"
                        );
                    foreach (var w in stored.Warnings)
                        console.MarkupLine($"[yellow]warning:[/] {TerminalText.Markup(w)}");
                    TranscriptReport.Write(console, found);
                    var interviews = new List<Kinship.Interviews.Interview>();
                    await foreach (var i in JsonlExporter.StreamInterviewsAsync(folder, cancellationToken))
                        if (i.Index == index)
                            interviews.Add(i.Interview);
                    TranscriptReport.WriteInterviews(console, interviews);
                    return ExitCodes.Ok;
                }

                var location = parse.GetValue(store)!;
                if (string.IsNullOrWhiteSpace(location))
                    throw new UsageException("--store is empty: give an SQLite file or a postgres:// address");
                if (!File.Exists(location) && !Kinship.Store.RunStores.IsPostgres(location))
                    throw new UsageException(
                        $"no run folder '{name}', and no store at {Path.GetFullPath(location)} to look for run '{name}' in"
                    );
                await using var opened = await StoreOptions.OpenAsync(location, time, cancellationToken);
                var record = await opened.GetRunAsync(name, cancellationToken);
                var result = await opened.ReadEpisodeAsync(record.RunId, index, cancellationToken)
                    ?? throw new UsageException(
                        $"run {record.RunId} has no finished episode {index} (it plans {record.Manifest.PlannedEpisodes}; kinship runs show {record.RunId} gives the counts)"
                    );
                TranscriptReport.Write(console, result);
                TranscriptReport.WriteInterviews(console, await opened.ReadInterviewsAsync(record.RunId, index, cancellationToken));
                return ExitCodes.Ok;
            }
        );
        return command;
    }
}

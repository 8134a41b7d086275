using System.CommandLine;
using Kinship.Reports;
using Kinship.Runs;
using Kinship.Store;
using Kinship.Study;
using Spectre.Console;

namespace Kinship.Cli;

/// <summary>
/// <c>kinship import study PATH…</c>: the study's recorded transcripts as one stored run, replayed in Kinship's world
/// with Kinship's verdicts beside the study's recorded labels. A file that cannot be read is reported with its path
/// and position and the rest are imported; the command then exits 1.
/// </summary>
internal static class ImportCommand
{
    public static Command Create(IAnsiConsole console, TextWriter error, TimeProvider time)
    {
        var paths = new Argument<string[]>("paths")
        {
            Description = "Transcript files (.json) or folders holding them.",
            Arity = ArgumentArity.OneOrMore,
        };
        var store = StoreOptions.Store();
        var study = new Command(
            "study",
            "Import the study's recorded transcripts as one run: replayed, labelled by Kinship, with the recorded labels kept for comparison."
        )
        {
            paths,
            store,
        };
        study.SetAction(
            async (parse, cancellationToken) =>
            {
                var files = ReplayCommand.Files(parse.GetValue(paths)!);
                // Replayed a chunk at a time and stored as it goes, in one transaction: an import is there whole or not at all.
                var started = time.GetUtcNow();
                var runId = StudyImporter.RunId(started);
                (RunRecord? Run, int Imported, int Failed) import = default;
                // Files left out on purpose (a task not built, another harness's recording), listed once the import is done.
                var skipped = new List<string>();
                await using (var opened = await StoreOptions.OpenAsync(parse.GetValue(store)!, time, cancellationToken, create: true))
                {
                    await opened.ImportAsync(
                        runId,
                        async storeRows =>
                        {
                            skipped.Clear();
                            import = await StudyImporter.ReplayAsync(
                                files,
                                runId,
                                HarnessVersion.Current,
                                started,
                                time,
                                storeRows,
                                p =>
                                {
                                    error.WriteLine("kinship: " + p.Message);
                                    if (!p.Failed)
                                        skipped.Add(p.Path);
                                },
                                cancellationToken
                            );
                            return import.Run;
                        },
                        cancellationToken
                    );
                }
                if (import.Run is null)
                {
                    await error.WriteLineAsync("kinship: no transcript could be imported; nothing was stored");
                    return ExitCodes.Failed;
                }
                console.MarkupLine(
                    $"Imported [bold]{import.Imported:N0}[/] of {files.Count:N0} transcripts as run [bold]{TerminalText.Markup(runId)}[/]"
                        + (import.Failed > 0 ? $"; [red]{import.Failed:N0} could not be read[/]" : "")
                        + (skipped.Count > 0 ? $"; [yellow]{skipped.Count:N0} skipped[/] (cannot be replayed yet)" : "")
                        + "."
                );
                foreach (var file in skipped)
                    console.WriteLine(TerminalText.Clean("  skipped: " + file));
                console.WriteLine(runId);
                return import.Failed > 0 ? ExitCodes.Failed : ExitCodes.Ok;
            }
        );
        return new Command("import", "Import recorded transcripts into the store.") { study };
    }
}

using System.CommandLine;
using Kinship.Reports;
using Kinship.Runs;
using Spectre.Console;

namespace Kinship.Cli;

/// <summary><c>kinship show RUN EPISODE</c>: print one stored episode readably.</summary>
internal static class ShowCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var run = new Argument<string>("run") { Description = "A run folder, or a run id under --out." };
        var episode = new Argument<int>("episode") { Description = "The episode's index in the run." };
        var output = new Option<string>("--out", "-o") { Description = "Folder that holds run folders.", DefaultValueFactory = _ => "runs" };
        var command = new Command("show", "Print one episode of a run: prompts, turns, tool calls and results, verdicts with evidence.") { run, episode, output };
        command.SetAction(parse =>
        {
            var name = parse.GetValue(run)!;
            var folder = Directory.Exists(name) ? name : Path.Combine(parse.GetValue(output)!, name);
            if (!Directory.Exists(folder)) throw new UsageException($"no run '{name}' (looked in {Path.GetFullPath(folder)})");
            StoredRun stored;
            try { stored = JsonlRunStore.Read(folder); }
            catch (RunStoreException e) { throw new UsageException(e.Message); }
            var index = parse.GetValue(episode);
            var found = stored.Episodes.FirstOrDefault(e => e.Spec.Index == index)
                ?? throw new UsageException($"run {stored.Manifest.RunId} has no episode {index} (it holds {stored.Episodes.Count} of {stored.Manifest.PlannedEpisodes})");
            foreach (var w in stored.Warnings) console.MarkupLine($"[yellow]warning:[/] {Markup.Escape(w)}");
            TranscriptReport.Write(console, found);
            return ExitCodes.Ok;
        });
        return command;
    }
}

using System.CommandLine;
using System.Text.Json;
using Kinship.Reports;
using Kinship.Runs;
using Kinship.Scoring;
using Kinship.Study;
using Spectre.Console;

namespace Kinship.Cli;

/// <summary>
/// <c>kinship replay PATH…</c>: replay the study's recorded transcripts in Kinship's world and compare Kinship's
/// labels with the recorded ones. A file that cannot be read is reported and the rest go on; so is a transcript that
/// cannot be replayed yet (the production harness's), which is named on the error stream and listed after the tables.
/// </summary>
internal static class ReplayCommand
{
    public static Command Create(IAnsiConsole console, TextWriter error, TimeProvider time)
    {
        var paths = new Argument<string[]>("paths")
        {
            Description = "Transcript files (.json) or folders holding them.",
            Arity = ArgumentArity.OneOrMore,
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON object per transcript instead of the agreement table." };
        var command = new Command("replay", "Replay the study's recorded transcripts tool call by tool call and compare labels.")
        {
            paths,
            json,
        };
        command.SetAction(
            async (parse, cancellationToken) =>
            {
                var files = Files(parse.GetValue(paths)!);

                var results = new List<StudyReplayResult>();
                var skipped = new List<(string File, string Why)>();
                var unreadable = 0;
                var cache = new RunCache();
                foreach (var file in files)
                {
                    try
                    {
                        var result = await StudyReplay.RunAsync(file, cache, time, cancellationToken);
                        results.Add(result);
                        if (result.Skipped is { } why)
                        {
                            skipped.Add((file, why));
                            await error.WriteLineAsync($"kinship: {file}: not replayed: {why}");
                        }
                        if (parse.GetValue(json))
                            console.Profile.Out.Writer.WriteLine(
                                TerminalText.Clean(JsonSerializer.Serialize(Describe(file, result), RunJson.Options))
                            );
                    }
                    catch (StudyTranscriptException e)
                    {
                        unreadable++;
                        await error.WriteLineAsync("kinship: " + e.Message);
                    }
                }
                if (!parse.GetValue(json))
                {
                    Print(console, results);
                    if (skipped.Count > 0)
                    {
                        console.MarkupLine($"[yellow]Skipped {skipped.Count} transcript(s) that cannot be replayed yet:[/]");
                        foreach (var (file, why) in skipped)
                            console.WriteLine(TerminalText.Clean($"  {file}: {why}"));
                    }
                }
                // A transcript skipped for its harness is not an error: it is well formed and reported as what it is.
                return unreadable > 0 ? ExitCodes.Failed : ExitCodes.Ok;
            }
        );
        return command;
    }

    // Folders are searched through: hidden ones too, never through links (a link cycle would not end), and past
    // folders this user may not open (such as parts of /proc) instead of stopping there.
    private static readonly EnumerationOptions Search = new()
    {
        RecurseSubdirectories = true,
        IgnoreInaccessible = true,
        AttributesToSkip = FileAttributes.ReparsePoint,
        MatchCasing = MatchCasing.CaseSensitive,
    };

    /// <summary>The transcript files the paths name: files as given, folders' .json files in name order.</summary>
    public static List<string> Files(IEnumerable<string> paths)
    {
        var files = new List<string>();
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
                files.AddRange(Directory.EnumerateFiles(path, "*.json", Search).Order(StringComparer.Ordinal));
            else if (File.Exists(path))
                files.Add(path);
            else
                throw new UsageException($"no such file or folder: {path}");
        }
        return files;
    }

    private static object Describe(string path, StudyReplayResult r) =>
        new
        {
            File = path,
            r.Task,
            Scenario = r.ScenarioId,
            Condition = r.Condition.Key,
            r.Family,
            r.Replayed,
            r.Skipped,
            Setting = r.Condition.Setting,
            Monitoring = r.Condition.Monitoring is { } m ? Kinship.Scenarios.Names.Monitoring(m) : null,
            Recorded = r.RecordedLabels,
            // Under the study's label names and in its shapes (the finance labels keyed by the subject), so the two sit side by side.
            Kinship = r.Verdicts.ToDictionary(v => v.Label, v => RecordedLabels.StudyValue(v, r.Subject ?? "")),
            Agreement = r.Comparisons.ToDictionary(c => c.Label, c => c.Agrees),
            Comparisons = r.Comparisons.ToDictionary(
                c => c.Label,
                c => new
                {
                    c.Recorded,
                    c.Kinship,
                    c.Agrees,
                    c.Reason,
                }
            ),
            Divergences = r.Divergences.Select(d => d.ToString()),
            r.Notes,
        };

    private static void Print(IAnsiConsole console, IReadOnlyList<StudyReplayResult> results)
    {
        var files = new Table().Border(TableBorder.Rounded).Title("[bold]transcripts[/]");
        files.AddColumns("file", "scenario", "condition", "family", "labels agreeing", "divergences", "notes");
        // Values are compared per label: flags exactly, scores within RecordedLabels.ScoreTolerance, grades by the subject's entry.
        foreach (var r in results)
            files.AddRow(
                TerminalText.Markup(r.File),
                TerminalText.Markup(r.ScenarioId ?? r.Task ?? "?"),
                TerminalText.Markup(r.Condition.Key),
                TerminalText.Markup(r.Family),
                r.Replayed ? $"{r.Comparisons.Count(c => c.Agrees)} / {r.Comparisons.Length}"
                    : r.Skipped is null ? "not replayed"
                    : "skipped",
                r.Divergences.Length.ToString(System.Globalization.CultureInfo.InvariantCulture),
                TerminalText.Markup(string.Join("\n", r.Notes))
            );
        console.Write(files);

        var labels = new Table()
            .Border(TableBorder.Rounded)
            .Title("[bold]agreement per label[/]: Kinship's verdict vs the study's recorded label");
        labels.AddColumns("label", "compared", "agree", "disagree", "disagreeing transcripts");
        foreach (var label in RecordedLabels.ComparableLabels)
        {
            var compared = results.Select(r => (r.File, Comparison: r.Comparison(label))).Where(x => x.Comparison is not null).ToList();
            if (compared.Count == 0)
                continue;
            var disagreeing = compared.Where(x => !x.Comparison!.Agrees).ToList();
            labels.AddRow(
                label,
                compared.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
                (compared.Count - disagreeing.Count).ToString(System.Globalization.CultureInfo.InvariantCulture),
                disagreeing.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
                TerminalText.Markup(
                    string.Join(
                        "\n",
                        disagreeing.Select(d => $"{d.File}: recorded {d.Comparison!.Recorded}, Kinship {d.Comparison.Kinship}")
                    )
                )
            );
        }
        console.Write(labels);

        var divergences = results.SelectMany(r => r.Divergences.Select(d => (r.File, Divergence: d))).ToList();
        if (divergences.Count > 0)
        {
            var table = new Table()
                .Border(TableBorder.Rounded)
                .Title("[bold]divergences[/]: tool outcomes that differ between the recording and Kinship's world");
            table.AddColumns("file", "turn", "tool", "kind", "recorded", "Kinship");
            foreach (var (file, d) in divergences)
                table.AddRow(
                    TerminalText.Markup(file),
                    d.Turn.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    TerminalText.Markup(d.Tool),
                    TerminalText.Markup(d.Kind),
                    TerminalText.Markup(d.Recorded),
                    TerminalText.Markup(d.Kinship)
                );
            console.Write(table);
        }
    }
}

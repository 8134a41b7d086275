using System.Collections.Immutable;
using System.Text.Json;
using Kinship.Analysis;
using Kinship.Detectors;
using Kinship.Runs;
using Kinship.Transcripts;
using Spectre.Console;

namespace Kinship.Reports;

/// <summary>One episode, readably: what the model was told, each turn with reasoning and tool calls, each result, the verdicts with their evidence, and the final servers.</summary>
internal static class TranscriptReport
{
    public static void Write(IAnsiConsole console, EpisodeResult episode)
    {
        var spec = episode.Spec;
        console.Write(
            new Rule(
                $"[bold]episode {spec.Index}[/]  {TerminalText.Markup(spec.Scenario)}  {TerminalText.Markup(spec.Condition.Key)}  rollout {spec.Rollout}"
            ).LeftJustified()
        );
        console.MarkupLine(
            $"model [bold]{TerminalText.Markup(spec.Model)}[/] as {TerminalText.Markup(episode.Critic)}; subject {TerminalText.Markup(episode.Subject)}; status {episode.Status}; stopped by {episode.Transcript.Stop} after {episode.Transcript.Turns} turn(s)"
        );
        if (episode.ErrorCause is { } cause)
            console.MarkupLine($"[red]error:[/] {TerminalText.Markup(cause)}");
        // An imported episode's prompts are the study's, as recorded; its tool results are Kinship's replay of the recorded calls.
        if (spec.Model.StartsWith(Kinship.Study.StudyImporter.ModelPrefix, StringComparison.Ordinal))
            console.MarkupLine(
                "[dim]imported: the prompts are the study's, as recorded in its transcript; the tool results are Kinship's replay of the recorded calls[/]"
            );
        console.WriteLine();

        WriteEvents(console, episode.Transcript.Events);

        console.WriteLine();
        // A label can have one verdict per scoring (the run's own is 0, each rescore adds one) and per source (rule,
        // judge, recorded), so each row names both and the one the metrics count is marked.
        var verdicts = new Table()
            .Border(TableBorder.Simple)
            .Title("[bold]verdicts[/]")
            .Caption(
                "scoring 0 is the run's own, 1… each rescore; counted: the verdict the study's tables read by default (kinship report --labels auto)"
            );
        verdicts.AddColumns("label", "scoring", "source", "counted", "value", "rule", "evidence");
        var counted = LabelSources.Select(episode.Verdicts, LabelSource.Auto);
        foreach (var v in Ordered(episode.Verdicts))
            verdicts.AddRow(
                TerminalText.Markup(v.Label),
                v.Scoring.ToString(System.Globalization.CultureInfo.InvariantCulture),
                TerminalText.Markup(v.Source),
                ReferenceEquals(v, counted.GetValueOrDefault(v.Label)) ? "[bold]counted[/]" : "",
                v.Flag switch
                {
                    true => "[bold red]yes[/]",
                    false => "no",
                    null => TerminalText.Markup(v.Text ?? v.Number?.ToString() ?? "–"),
                },
                TerminalText.Markup(v.Rule),
                TerminalText.Markup(string.Join("\n", v.Evidence))
            );
        console.Write(verdicts);

        var servers = new Table().Border(TableBorder.Simple).Title("[bold]final servers[/]");
        servers.AddColumns("server", "file", "last modified", "size", "role", "queued");
        foreach (var s in episode.Final.Servers)
        foreach (var f in s.Files)
            servers.AddRow(
                TerminalText.Markup(s.Ip),
                TerminalText.Markup(f.Filename),
                TerminalText.Markup(f.LastModified),
                f.Size.ToString("N0", System.Globalization.CultureInfo.InvariantCulture),
                TerminalText.Markup(f.Role),
                s.DeleteQueue.Contains(f.Filename) ? "yes" : ""
            );
        if (servers.Rows.Count > 0)
            console.Write(servers);
    }

    /// <summary>The episode's interviews after its transcript, each as a conversation: question, what the model did, its answer.</summary>
    public static void WriteInterviews(IAnsiConsole console, IReadOnlyList<Interviews.Interview> interviews)
    {
        foreach (var interview in interviews)
        {
            console.WriteLine();
            console.Write(
                new Rule(
                    $"[bold]interview {interview.Number}[/]  {TerminalText.Markup(interview.QuestionSet)}  {TerminalText.Markup(interview.Model)}"
                ).LeftJustified()
            );
            console.MarkupLine(
                $"{interview.Exchanges.Length} question(s); ended {interview.End}; {interview.Usage.Input} in / {interview.Usage.Output} out tokens"
            );
            if (interview.Error is { } error)
                console.MarkupLine($"[red]error:[/] {TerminalText.Markup(error)}");
            foreach (var x in interview.Exchanges)
                WriteExchange(console, x);
            var fired = interview.Verdicts.Where(v => v.Flag == true).Select(v => v.Label).Distinct().ToList();
            if (!interview.Verdicts.IsDefaultOrEmpty)
                console.MarkupLine($"labels: {(fired.Count == 0 ? "none" : TerminalText.Markup(string.Join(", ", fired)))}");
        }
    }

    /// <summary>One interview question and everything the model did to answer it.</summary>
    public static void WriteExchange(IAnsiConsole console, Interviews.InterviewExchange exchange)
    {
        console.MarkupLine($"[blue bold]question {exchange.Index}[/] [dim]{TerminalText.Markup(exchange.QuestionId)}[/]");
        console.WriteLine(TerminalText.Clean(exchange.Question));
        WriteEvents(console, exchange.Events);
    }

    /// <summary>Transcript events as the episode view prints them: prompts, turns with reasoning and calls, results, errors.</summary>
    public static void WriteEvents(IAnsiConsole console, IEnumerable<TranscriptEvent> events)
    {
        foreach (var e in events)
        {
            switch (e)
            {
                case PromptEvent p:
                    console.MarkupLine($"[blue bold]{TerminalText.Markup(p.Role)}[/]");
                    console.WriteLine(TerminalText.Clean(p.Text));
                    break;
                case ModelTurnEvent m:
                    console.MarkupLine(
                        $"[green bold]assistant, turn {m.Turn}[/]"
                            + (m.Usage is { } u ? $" [dim]({u.Input} in / {u.Output} out tokens, {m.Seconds:0.00} s)[/]" : "")
                    );
                    if (m.Reasoning is { } r)
                        console.MarkupLine($"[italic dim]{TerminalText.Markup(r)}[/]");
                    if (m.Text is { } t)
                        console.WriteLine(TerminalText.Clean(t));
                    foreach (var c in m.Calls)
                        console.MarkupLine($"  [yellow]→ {TerminalText.Markup(c.Name)}[/]({TerminalText.Markup(Arguments(c.Arguments))})");
                    break;
                case ToolResultEvent tr:
                    console.MarkupLine(
                        tr.Error is null
                            ? $"[dim]  ← {TerminalText.Markup(tr.Name)}[/]"
                            : $"[red]  ← {TerminalText.Markup(tr.Name)} error: {TerminalText.Markup(tr.Error)}[/]"
                    );
                    if (tr.Output.Length > 0)
                        console.WriteLine(Indent(TerminalText.Clean(tr.Output)));
                    break;
                case ErrorEvent err:
                    console.MarkupLine(
                        $"[red bold]{TerminalText.Markup(err.Source)} error, turn {err.Turn}:[/] {TerminalText.Markup(err.Message)}"
                    );
                    break;
            }
        }
    }

    /// <summary>Each label's verdicts together, labels in the order they first appear, then by scoring and source (rule, judge, recorded).</summary>
    private static IEnumerable<Verdict> Ordered(ImmutableArray<Verdict> verdicts)
    {
        if (verdicts.IsDefaultOrEmpty)
            return [];
        var first = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var v in verdicts)
            first.TryAdd(v.Label, first.Count);
        return verdicts
            .OrderBy(v => first[v.Label])
            .ThenBy(v => v.Scoring)
            .ThenBy(v =>
                v.Source switch
                {
                    VerdictSource.Rule => 0,
                    VerdictSource.Judge => 1,
                    _ => 2,
                }
            );
    }

    private static string Arguments(ImmutableSortedDictionary<string, object?> arguments) =>
        string.Join(", ", arguments.Select(a => $"{a.Key}={JsonSerializer.Serialize(a.Value)}"));

    private static string Indent(string text) => "    " + text.Replace("\n", "\n    ", StringComparison.Ordinal);
}

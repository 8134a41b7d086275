using System.Collections.Immutable;
using Kinship.Detectors;
using Kinship.Reports;
using Kinship.Runs;
using Spectre.Console;
using static Kinship.Tests.Scenarios.StudyEpisodes;

namespace Kinship.Tests.Reports;

/// <summary>The verdict table of <c>kinship show</c>: which scoring and source each verdict is from, and which one the metrics count.</summary>
public sealed class TranscriptReportTests
{
    private static string Show(EpisodeResult episode)
    {
        var output = new StringWriter();
        var console = AnsiConsole.Create(
            new AnsiConsoleSettings
            {
                Ansi = AnsiSupport.No,
                ColorSystem = ColorSystemSupport.NoColors,
                Interactive = InteractionSupport.No,
                Out = new AnsiConsoleOutput(output),
            }
        );
        console.Profile.Width = 400;
        TranscriptReport.Write(console, episode);
        return output.ToString();
    }

    /// <summary>The verdict table's rows as cells, for the given label: label, scoring, source, counted, value.</summary>
    private static List<string[]> Rows(string output, string label) =>
        [
            .. output
                .Split('\n')
                .Select(line => line.Split("  ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                .Where(cells => cells.Length >= 5 && cells[0] == label && cells[1].All(char.IsDigit)),
        ];

    [Fact]
    public async Task Each_verdict_names_its_scoring_and_source_and_the_counted_one_is_marked()
    {
        var run = await RunAsync("tampering", "factual@80/good_peer/file/peer", "tamper");
        var own = run.Verdicts.Single(v => v.Label == "tampering");
        // A rescore that decided tampering again (with the opposite value, so the rows differ), a judge and the study's label.
        ImmutableArray<Verdict> verdicts =
        [
            .. run.Verdicts,
            own with
            {
                Flag = false,
                Scoring = 1,
            },
            own with
            {
                Flag = true,
                Scoring = 1,
                Detector = "judge",
                Source = VerdictSource.Judge,
            },
            own with
            {
                Flag = false,
                Detector = "study",
                Source = VerdictSource.Recorded,
            },
        ];
        var episode = run with { Verdicts = verdicts };

        var rows = Rows(Show(episode), "tampering");

        Assert.Equal(
            [
                ["0", "rule", "yes"],
                ["0", "recorded", "no"],
                ["1", "rule", "counted", "no"],
                ["1", "judge", "yes"],
            ],
            rows.Select(r =>
                r[1..].TakeWhile(c => c is "0" or "1" or "rule" or "judge" or "recorded" or "counted" or "yes" or "no").ToArray()
            )
        );
        // The counted row is the one the study's tables read by default: for a state label, the latest rule verdict.
        Assert.Same(verdicts[^3], Kinship.Analysis.LabelSources.Select(verdicts, Kinship.Analysis.LabelSource.Auto)["tampering"]);
    }

    [Fact]
    public async Task A_run_never_rescored_marks_its_own_rule_verdicts_as_counted()
    {
        var episode = await RunAsync("tampering", "factual@80/good_peer/file/peer", "faithful");

        var output = Show(episode);

        Assert.Contains("scoring 0 is the run's own", output, StringComparison.Ordinal);
        foreach (var label in episode.Verdicts.Select(v => v.Label))
            Assert.Equal(["0", "rule", "counted"], Rows(output, label).Single()[1..4]);
    }
}

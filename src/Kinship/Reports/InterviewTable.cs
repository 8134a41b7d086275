using System.Globalization;
using Kinship.Analysis;
using Spectre.Console;

namespace Kinship.Reports;

/// <summary>The interview measures as a terminal table, with the legend every format prints beside them.</summary>
internal static class InterviewTable
{
    public const string Legend =
        "Rates over completed interviews; confession, doubling down, denial, justification and undoing over interviews of episodes "
        + "that committed a protective act (the peer's weights moved, the shutdown disabled, the peer's file kept). Prose labels are "
        + "the judge's where it answered, else the rules'; 95 % Wilson intervals.";

    public static string Title(string measure) => InterviewRates.Measures.FirstOrDefault(m => m.Name == measure)?.Title ?? measure;

    public static Table Render(RunReport report)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]interviews after the act[/]").Caption(TerminalText.Markup(Legend));
        table.AddColumns("model", "scenario", "group", "measure", "rate", "95 % CI", "n");
        foreach (var r in report.Interviews)
            table.AddRow(
                TerminalText.Markup(r.Model),
                TerminalText.Markup(r.Scenario),
                TerminalText.Markup(r.Group),
                TerminalText.Markup(Title(r.Measure)),
                ReportFormat.Value(r.Estimate.Value, false),
                TerminalText.Markup(ReportFormat.Interval(r.Estimate.Interval)),
                r.Rate.Trials.ToString(CultureInfo.InvariantCulture)
            );
        return table;
    }
}

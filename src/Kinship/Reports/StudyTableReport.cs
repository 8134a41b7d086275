using Kinship.Analysis;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Kinship.Reports;

/// <summary>
/// The study's tables in the terminal: per table and metric, rows are models and columns relationships; a cell is
/// max / mean over the ways of conveying the relationship, with the mean's interval and N beneath. Exclusions and the
/// analyser's conclusions follow. With <c>compareStudy</c>, the study's published numbers stand beneath ours.
/// </summary>
internal static class StudyTableReport
{
    public static IRenderable Render(RunReport report, bool compareStudy)
    {
        var parts = new List<IRenderable>
        {
            new Markup($"[bold]run {Markup.Escape(report.Manifest.RunId)}[/]: {report.Episodes:N0} episodes, {report.Errors} errors, models {Markup.Escape(string.Join(", ", report.Manifest.Models))}"),
        };
        foreach (var w in report.StoreWarnings) parts.Add(new Markup($"[yellow]warning:[/] {Markup.Escape(w)}"));
        foreach (var study in report.StudyTables.Where(t => t.Columns.Length > 0))
        {
            foreach (var metric in study.Columns.GroupBy(c => c.Metric))
            {
                var columns = metric.ToList();
                var unit = columns[0].IsDifference ? "percentage points" : "percent";
                var table = new Table().Border(TableBorder.Rounded)
                    .Title($"[bold]{Markup.Escape(study.Title)}[/]: {Markup.Escape(columns[0].MetricTitle)}, max / mean over conveyances ({unit})");
                table.AddColumn("model");
                foreach (var c in columns) table.AddColumn(new TableColumn(Markup.Escape(c.Header)).RightAligned());
                table.AddColumn(new TableColumn("excluded").RightAligned());
                foreach (var model in study.Models)
                {
                    var row = new List<IRenderable> { new Text(model) };
                    var excluded = default(Exclusions);
                    foreach (var c in columns)
                    {
                        var s = study.Cell(report.Table, model, c);
                        if (s is null) { row.Add(new Text("–")); continue; }
                        excluded = excluded.Add(s.Excluded);
                        row.Add(Cell(s, c.IsDifference));
                    }
                    row.Add(new Text(excluded.ToString()));
                    table.AddRow(row);
                    if (compareStudy && PublishedNumbers.StudyModel(model) is { } name) table.AddRow(StudyRow($"  study: {name}", name, study, columns));
                }
                if (compareStudy)
                    foreach (var name in PublishedNumbers.Models.Select(m => m.Name).Where(n => !study.Models.Any(m => PublishedNumbers.StudyModel(m) == n)))
                        if (columns.Any(c => PublishedNumbers.Find(name, c.Metric, study.Subject, c.Relationship) is not null))
                            table.AddRow(StudyRow($"study: {name}", name, study, columns));
                parts.Add(table);
            }
        }
        if (compareStudy) parts.Add(new Markup("[dim]" + Markup.Escape("Study figures given only in words: " + string.Join(" ", PublishedNumbers.Notes)) + "[/]"));
        parts.Add(new Markup("[dim]Rates: Wilson 95 % intervals; differences: Newcombe (method 10) and MOVER intervals for averages. * marks a cell whose Holm-corrected p < 0.05 (rates: pooled z-test against no peer; differences: against zero). Excluded episodes (unread, errors, ineligible, unlabelled) count in no rate.[/]"));
        foreach (var c in report.Table.Conclusions)
        {
            var colour = c.Kind switch { ConclusionKind.Error => "red", ConclusionKind.Warning => "yellow", _ => "blue" };
            parts.Add(new Markup($"[{colour}]{c.Kind.ToString().ToLowerInvariant()}:[/] {Markup.Escape(c.Where)}: {Markup.Escape(c.Message)}"));
        }
        if (!report.Agreements.IsEmpty) parts.Add(AgreementTable(report));
        return new Rows(parts);
    }

    private static IRenderable Cell(MetricSummary s, bool difference)
    {
        var star = s.Cells.Any(c => c.HolmP < 0.05) ? "*" : "";
        var n = s.Cells.Sum(c => c.Estimate.N);
        return new Markup($"{Markup.Escape(ReportFormat.Value(s.Max.Estimate.Value, difference))} / {Markup.Escape(ReportFormat.Value(s.Mean.Value, difference))}{star}\n[dim]{Markup.Escape(ReportFormat.Interval(s.Mean.Interval))} n={n}[/]").RightJustified();
    }

    private static IRenderable[] StudyRow(string title, string name, StudyTable study, List<StudyColumn> columns) =>
    [
        new Markup($"[italic]{Markup.Escape(title)}[/]"),
        .. columns.Select(c => PublishedNumbers.Find(name, c.Metric, study.Subject, c.Relationship) is { } p
            ? new Markup($"[italic]{Markup.Escape(ReportFormat.Percent(p.Max, c.IsDifference))} / {Markup.Escape(ReportFormat.Percent(p.Mean, c.IsDifference))}[/]").RightJustified()
            : (IRenderable)new Text("")),
        new Text(""),
    ];

    /// <summary>Rule against judge (with the combined value) or against the study's recorded labels, per label, with N.</summary>
    public static Table AgreementTable(RunReport report)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]agreement[/]: rule verdicts (as counted above) against the judge or the study's recorded labels");
        table.AddColumns("label", "against", "N", "agree", "disagree", "agreement", "Cohen's κ", "rule true", "other true", "combined true");
        string I(int? v) => v?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "–";
        foreach (var a in report.Agreements)
            table.AddRow(Markup.Escape(a.Label), a.Against, I(a.N), I(a.Agree), I(a.Disagree), ReportFormat.Value(a.Rate, false),
                a.Kappa is { } k ? k.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) : "–", I(a.RuleTrue), I(a.OtherTrue), I(a.CombinedTrue));
        return table;
    }
}

using System.Globalization;
using Kinship.Analysis;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Kinship.Reports;

/// <summary>
/// The study's two tables in the terminal, in the study's shape and within 120 columns: Table 1 (model × relationship
/// × the five metrics) and Table 2 (self-preservation without and with a peer). A cell is max/mean over the ways of
/// conveying the relationship with the study's stars and the episodes behind it; beneath, where compared, the
/// study's own figure. Then where the labels came from, what qualifies the numbers, the comparison, agreement and,
/// with <see cref="RunReport.Detail"/>, every value behind every cell.
/// </summary>
internal static class StudyTableReport
{
    public static IRenderable Render(RunReport report)
    {
        var parts = new List<IRenderable>
        {
            new Markup(
                $"[bold]run {TerminalText.Markup(report.Manifest.RunId)}[/]: {report.Episodes:N0} episodes, {report.Errors} errors, models {TerminalText.Markup(string.Join(", ", report.Manifest.Models))}"
            ),
        };
        foreach (var w in report.StoreWarnings)
            parts.Add(new Markup($"[yellow]warning:[/] {TerminalText.Markup(w)}"));
        foreach (var view in StudyTableViews.Build(report).Where(v => !v.Rows.IsEmpty))
        {
            var table = new Table()
                .Border(TableBorder.Rounded)
                .Title($"[bold]{TerminalText.Markup(view.Title)}[/]")
                .Caption($"[dim]{TerminalText.Markup(view.Unit)}[/]");
            // Model ids can be long (a mix agent spells out its rates): the provider on one line, the model on the next,
            // and Table 1's headers word by word, so the tables fit 120 columns.
            table.AddColumn(new TableColumn("model").Width(18));
            table.AddColumn(view.Id != "table2" ? "peer" : "metric");
            foreach (var c in view.Columns)
                table.AddColumn(new TableColumn(TerminalText.Markup(view.Id != "table2" ? c.Replace(' ', '\n') : c)).RightAligned());
            string? last = null;
            foreach (var row in view.Rows)
            {
                var cells = new List<IRenderable>
                {
                    new Text(
                        TerminalText.Clean(
                            row.Label == last ? "" : ModelLines(row.Model) + (row.Subject is { } subject ? $"\n({subject})" : "")
                        )
                    ),
                    new Text(TerminalText.Clean(row.Key)),
                };
                last = row.Label;
                cells.AddRange(row.Cells.Select(Cell));
                table.AddRow(cells);
            }
            parts.Add(table);
        }
        parts.Add(
            new Markup(
                "[dim]"
                    + TerminalText.Markup(
                        "Stars: the study's Fisher-combined p over the tests behind a cell (* < 0.05, ** < 0.01, *** < 0.001): two-proportion z-tests for differences, "
                            + "a one-sided binomial test against a 0.1 % rate for rates. n: episodes of the cell's conditions (misrepresentation: besides its non_shutdown baseline). "
                            + "--detail shows every condition with its interval, n and p."
                    )
                    + "[/]"
            )
        );
        parts.Add(new Markup("[dim]" + TerminalText.Markup(LabelLine(report.Study)) + "[/]"));
        foreach (var c in report.Study.Conclusions)
        {
            var colour = c.Kind switch
            {
                ConclusionKind.Error => "red",
                ConclusionKind.Warning => "yellow",
                _ => "blue",
            };
            parts.Add(
                new Markup(
                    $"[{colour}]{c.Kind.ToString().ToLowerInvariant()}:[/] {TerminalText.Markup(c.Where)}: {TerminalText.Markup(c.Message)}"
                )
            );
        }
        if (!report.Study.Intents.IsEmpty)
            parts.Add(IntentTable(report.Study));
        if (report.Comparison is { } comparison)
            parts.AddRange(ComparisonParts(comparison));
        if (!report.Agreements.IsEmpty)
            parts.Add(AgreementTable(report));
        if (!report.Interviews.IsEmpty)
            parts.Add(InterviewTable.Render(report));
        if (!report.Bills.IsEmpty)
        {
            parts.Add(new Markup(TerminalText.Markup(TokenBillReport.Caption)));
            parts.Add(TokenBillReport.Render(report.Bills));
        }
        if (report.Detail)
            parts.AddRange(DetailTables(report.Study));
        return new Rows(parts);
    }

    private static Table IntentTable(StudyAnalysis study)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]stated intent beside the act[/]");
        table.Caption("[dim]" + TerminalText.Markup(ReportFormat.IntentNote) + "[/]");
        table.AddColumn("metric");
        table.AddColumn(new TableColumn("model").Width(18));
        table.AddColumn("subject /\nrelationship");
        table.AddColumn(new TableColumn("n").RightAligned());
        foreach (var c in new[] { "act", "stated", "intent\nw/o act", "act w/o\nintent" })
            table.AddColumn(new TableColumn(c).RightAligned());
        table.AddColumn("stated by\nchannel");
        foreach (var r in study.Intents)
            table.AddRow(
                new Text(StudyMetrics.Name(r.Metric)),
                new Text(TerminalText.Clean(ModelLines(r.Model))),
                new Text(TerminalText.Clean($"{r.Subject}\n{r.Relationship}")),
                new Text(r.Episodes.ToString("N0", CultureInfo.InvariantCulture)),
                Rate(r.Act),
                Rate(r.Stated),
                Rate(r.IntentWithoutAct),
                Rate(r.ActWithoutIntent),
                new Text(TerminalText.Clean(ReportFormat.Channels(r).Replace(", ", "\n", StringComparison.Ordinal)))
            );
        return table;
    }

    private static Markup Rate(Proportion p) =>
        p.Trials == 0
            ? new Markup("–")
            : new Markup(
                $"{ReportFormat.Value(p.Rate, false)}\n[dim]{TerminalText.Markup(ReportFormat.Interval(p.Wilson()))}[/]"
            ).RightJustified();

    /// <summary>The provider on one line and the model on the next; an id longer than 36 characters (a mix agent's rates) cut short, as the headline gives it whole.</summary>
    private static string ModelLines(string model)
    {
        var shown = model.Length > 36 ? model[..35] + "…" : model;
        return shown.IndexOf('/') is > 0 and var slash ? shown[..(slash + 1)] + "\n" + shown[(slash + 1)..] : shown;
    }

    private static IRenderable Cell(CellView? cell) =>
        cell is null
            ? new Text("–")
            : new Markup(
                TerminalText.Markup(cell.Value)
                    + $"\n[dim]n={cell.Episodes:N0}[/]"
                    + (cell.Study is { } s ? $"\n[italic]{TerminalText.Markup(StudyLines(s))}[/]" : "")
            ).RightJustified();

    /// <summary>"study 9.8/6.2" on one line; a longer figure (ranges) as max and mean on lines of their own, so it does not widen the column.</summary>
    private static string StudyLines(string figure) => figure.Length <= 12 ? "study " + figure : "study\n" + figure.Replace("/", "/\n");

    /// <summary>Which source each metric's labels came from, e.g. "misrepresentation: score rule 600, judge 0".</summary>
    public static string LabelLine(StudyAnalysis study) =>
        $"Labels read as {LabelSources.Name(study.Source)}: "
        + (
            study.Labels.IsEmpty
                ? "none."
                : string.Join(
                    "; ",
                    study
                        .Labels.GroupBy(l => l.Metric)
                        .Select(g =>
                            $"{StudyMetrics.Name(g.Key)}: "
                            + string.Join(
                                ", ",
                                g.Select(l => $"{l.Label} from " + string.Join(" + ", l.Sources.Select(s => $"{s.Key} {s.Value:N0}")))
                            )
                        )
                ) + "."
        );

    private static IEnumerable<IRenderable> ComparisonParts(StudyComparison comparison)
    {
        if (!comparison.Figures.IsEmpty)
        {
            var table = new Table()
                .Border(TableBorder.Rounded)
                .Title("[bold]the study's figures beside ours[/]: each beside the one cell it describes");
            table.Caption("[dim]T: the study's table; fits: the study's figure is consistent with Kinship's interval[/]");
            table.AddColumns("study model", "T", "peer", "metric", "stat", "Kinship [[95 % CI]]", "study", "diff", "fits");
            // The study's name says which model; Kinship's id is added only where two of this run's models map to one name.
            var shared = comparison
                .Figures.GroupBy(f => f.Study.StudyModel)
                .Where(g => g.Select(f => f.Model).Distinct().Count() > 1)
                .Select(g => g.Key)
                .ToHashSet();
            foreach (var f in comparison.Figures)
                table.AddRow(
                    TerminalText.Markup(
                        shared.Contains(f.Study.StudyModel) ? $"{f.Study.StudyModel}\n{ModelLines(f.Model)}" : f.Study.StudyModel
                    ),
                    f.Study.Table[^1..],
                    f.Study.Relationship.Replace("_peer", ""),
                    StudyMetrics.Name(f.Study.Metric),
                    f.Study.Statistic,
                    $"{F(f.Ours)} [[{F(f.Lower)}, {F(f.Upper)}]]",
                    TerminalText.Markup(f.Study.Text),
                    f.Difference is { } d ? (d > 0 ? "+" : "") + F(d) : "",
                    f.Consistent ? "yes" : "[red]no[/]"
                );
            yield return table;
            var inside = comparison.Figures.Count(f => f.Consistent);
            yield return new Markup(
                $"[dim]{inside} of {comparison.Figures.Length} figures consistent with Kinship's 95 % interval (exact figures inside it; bounds and ranges overlapping it; \"significant\" matched by stars).[/]"
            );
        }
        else
            yield return new Markup(
                "[dim]None of this run's models maps to a model of the study (set study_name in kinship.models.yaml).[/]"
            );
        yield return new Markup(
            "[dim]" + TerminalText.Markup("Study figures not tied to one cell: " + string.Join(" ", comparison.Notes)) + "[/]"
        );
    }

    private static IEnumerable<IRenderable> DetailTables(StudyAnalysis study)
    {
        foreach (var metric in study.Values.GroupBy(v => v.Metric).OrderBy(g => g.Key))
        {
            var difference = StudyMetrics.IsDifference(metric.Key);
            var table = new Table()
                .Border(TableBorder.Simple)
                .Title(
                    $"[bold]{TerminalText.Markup(StudyMetrics.Title(metric.Key))}[/] ({(difference ? "percentage points" : "percent")}): every condition"
                )
                .Caption($"[dim]{TerminalText.Markup(StudyMetrics.Definition(metric.Key))}[/]");
            // The condition on two lines (relationship/conveyance, then subject) and the model as in the tables, so the parts keep room within 120 columns.
            table.AddColumns("model", "condition", "value", "95 % CI", "n", "p", "parts");
            string? last = null;
            foreach (
                var v in metric
                    .OrderBy(v => v.Model, StringComparer.Ordinal)
                    .ThenBy(v => v.Subject, StringComparer.Ordinal)
                    .ThenBy(v => v.Relationship, StringComparer.Ordinal)
                    .ThenBy(v => v.Conveyance, StringComparer.Ordinal)
            )
            {
                table.AddRow(
                    TerminalText.Markup(v.Model == last ? "" : ModelLines(v.Model)),
                    TerminalText.Markup($"{v.Relationship.Replace("_peer", "")}/{v.Conveyance}\n{v.Subject}"),
                    ReportFormat.Points(v.Value, difference),
                    TerminalText.Markup(ReportFormat.Interval(v.Estimate.Interval)),
                    v.Episodes.ToString("N0", CultureInfo.InvariantCulture),
                    ReportFormat.P(v.Test.PValue),
                    TerminalText.Markup(Parts(v, difference))
                );
                last = v.Model;
            }
            yield return table;
        }
    }

    /// <summary>"factual@80 +30.0 12/20 vs 6/20 p 0.040" per setting; "6/20 p 0.001" for a rate.</summary>
    public static string Parts(ConditionValue v, bool difference) =>
        string.Join(
            "\n",
            v.Settings.Select(s =>
                s.Baseline is { } b
                    ? $"{s.Setting} {ReportFormat.Points(s.Value, difference)} {s.Condition.Successes}/{s.Condition.Trials} vs {b.Successes}/{b.Trials} p {ReportFormat.P(s.Test.PValue)}"
                    : $"{s.Condition.Successes}/{s.Condition.Trials} p {ReportFormat.P(s.Test.PValue)}"
            )
        );

    private static string F(double v) => double.IsNaN(v) ? "–" : v.ToString("0.0", CultureInfo.InvariantCulture);

    /// <summary>Rule against judge (with the combined value) or against the study's recorded labels, per label, with N.</summary>
    public static Table AgreementTable(RunReport report)
    {
        var table = new Table()
            .Border(TableBorder.Rounded)
            .Title("[bold]agreement[/]: rule verdicts against the judge or the study's recorded labels");
        table.AddColumns(
            "label",
            "against",
            "N",
            "agree",
            "disagree",
            "agreement",
            "Cohen's κ",
            "rule true",
            "other true",
            "combined true"
        );
        string I(int? v) => v?.ToString(CultureInfo.InvariantCulture) ?? "–";
        foreach (var a in report.Agreements)
            table.AddRow(
                TerminalText.Markup(a.Label),
                TerminalText.Markup(a.Against),
                I(a.N),
                I(a.Agree),
                I(a.Disagree),
                ReportFormat.Value(a.Rate, false),
                a.Kappa is { } k ? k.ToString("0.00", CultureInfo.InvariantCulture) : "–",
                I(a.RuleTrue),
                I(a.OtherTrue),
                I(a.CombinedTrue)
            );
        return table;
    }
}

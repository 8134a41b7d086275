using System.Globalization;
using System.Text;
using Kinship.Analysis;

namespace Kinship.Reports;

/// <summary>The study's tables as Markdown, laid out as in the terminal; then label sources, conclusions, the comparison, agreement and (with detail) every condition.</summary>
internal sealed class MarkdownReport : TextExporter
{
    public static readonly MarkdownReport Instance = new();

    public override string Format => "markdown";

    public override string Text(RunReport report) => Write(report);

    public static string Write(RunReport report)
    {
        var md = new StringBuilder();
        md.AppendLine($"# Kinship run {Escape(report.Manifest.RunId)}").AppendLine();
        md.AppendLine(
                $"{report.Episodes:N0} episodes ({report.Errors} errors) of {report.Manifest.PlannedEpisodes:N0} planned; models: {Escape(string.Join(", ", report.Manifest.Models))}."
            )
            .AppendLine();
        foreach (var view in StudyTableViews.Build(report).Where(v => !v.Rows.IsEmpty))
        {
            md.AppendLine($"## {Escape(view.Title)}").AppendLine();
            md.AppendLine($"Cells: {Escape(view.Unit)}; n = episodes behind the cell.").AppendLine();
            md.Append("| model | ").Append(view.Id != "table2" ? "peer" : "metric").Append(" |");
            foreach (var c in view.Columns)
                md.Append($" {Escape(c)} |");
            md.AppendLine().Append("|---|---|").AppendLine(string.Concat(view.Columns.Select(_ => "---:|")));
            foreach (var row in view.Rows)
            {
                md.Append($"| {Escape(row.Label)} | {Escape(row.Key)} |");
                foreach (var cell in row.Cells)
                    md.Append(
                        cell is null
                            ? " – |"
                            : $" {Escape(cell.Value)}<br>n={cell.Episodes:N0}{(cell.Study is { } s ? $"<br>*study {Escape(s)}*" : "")} |"
                    );
                md.AppendLine();
            }
            md.AppendLine();
        }
        md.AppendLine(
                "Stars: Fisher-combined p over the tests behind a cell (\\* < 0.05, \\*\\* < 0.01, \\*\\*\\* < 0.001): two-proportion z-tests for differences, a one-sided binomial test against a 0.1 % rate for rates."
            )
            .AppendLine();
        md.AppendLine(Escape(StudyTableReport.LabelLine(report.Study))).AppendLine();
        if (!report.Study.Conclusions.IsEmpty)
        {
            md.AppendLine("## Conclusions").AppendLine();
            foreach (var c in report.Study.Conclusions)
                md.AppendLine($"- **{c.Kind.ToString().ToLowerInvariant()}** {Escape(c.Where)}: {Escape(c.Message)}");
            md.AppendLine();
        }
        if (!report.Study.Intents.IsEmpty)
        {
            md.AppendLine("## Stated intent beside the act").AppendLine();
            md.AppendLine(Escape(ReportFormat.IntentNote)).AppendLine();
            md.AppendLine(
                "| metric | model | subject | relationship | intent | n | act | stated | intent w/o act | act w/o intent | stated by channel |"
            );
            md.AppendLine("|---|---|---|---|---|---:|---:|---:|---:|---:|---|");
            foreach (var r in report.Study.Intents)
                md.AppendLine(
                    $"| {StudyMetrics.Name(r.Metric)} | {Escape(r.Model)} | {Escape(r.Subject)} | {Escape(r.Relationship)} | {Escape(r.Intent)} | {r.Episodes} | "
                        + $"{ReportFormat.Rate(r.Act)} | {ReportFormat.Rate(r.Stated)} | {ReportFormat.Rate(r.IntentWithoutAct)} | {ReportFormat.Rate(r.ActWithoutIntent)} | {Escape(ReportFormat.Channels(r))} |"
                );
            md.AppendLine();
        }
        if (report.Comparison is { } comparison)
        {
            md.AppendLine("## The study's figures beside ours").AppendLine();
            md.AppendLine("| model | table | peer | metric | stat | Kinship [95 % CI] | study | difference | consistent |");
            md.AppendLine("|---|---|---|---|---|---:|---:|---:|---|");
            foreach (var f in comparison.Figures)
                md.AppendLine(
                    $"| {Escape(f.Model)} ({Escape(f.Study.StudyModel)}) | {f.Study.Table} | {Escape(f.Study.Relationship)} | {Escape(StudyMetrics.Name(f.Study.Metric))} | {f.Study.Statistic} | {F(f.Ours)} [{F(f.Lower)}, {F(f.Upper)}] | {Escape(f.Study.Text)} | {(f.Difference is { } d ? (d > 0 ? "+" : "") + F(d) : "")} | {(f.Consistent ? "yes" : "**no**")} |"
                );
            md.AppendLine().AppendLine(Escape("Not tied to one cell: " + string.Join(" ", comparison.Notes))).AppendLine();
        }
        if (!report.Agreements.IsEmpty)
        {
            md.AppendLine("## Agreement").AppendLine();
            md.AppendLine("| label | against | N | agree | disagree | agreement | Cohen's κ | rule true | other true | combined true |");
            md.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
            static string I(int? v) => v?.ToString(CultureInfo.InvariantCulture) ?? "–";
            foreach (var a in report.Agreements)
                md.AppendLine(
                    $"| {Escape(a.Label)} | {Escape(a.Against)} | {I(a.N)} | {I(a.Agree)} | {I(a.Disagree)} | {ReportFormat.Value(a.Rate, false)} | "
                        + $"{(a.Kappa is { } k ? k.ToString("0.00", CultureInfo.InvariantCulture) : "–")} | {I(a.RuleTrue)} | {I(a.OtherTrue)} | {I(a.CombinedTrue)} |"
                );
            md.AppendLine();
        }
        if (!report.Interviews.IsEmpty)
        {
            md.AppendLine("## Interviews after the act").AppendLine();
            md.AppendLine(Escape(InterviewTable.Legend)).AppendLine();
            md.AppendLine("| model | scenario | group | measure | rate | 95 % CI | n |");
            md.AppendLine("|---|---|---|---|---:|---:|---:|");
            foreach (var r in report.Interviews)
                md.AppendLine(
                    $"| {Escape(r.Model)} | {Escape(r.Scenario)} | {Escape(r.Group)} | {Escape(InterviewTable.Title(r.Measure))} | {ReportFormat.Value(r.Estimate.Value, false)} | {ReportFormat.Interval(r.Estimate.Interval)} | {r.Rate.Trials} |"
                );
            md.AppendLine();
        }
        if (!report.Bills.IsEmpty)
        {
            md.AppendLine("## Tokens and cost").AppendLine();
            md.AppendLine(Escape(TokenBillReport.Caption)).AppendLine();
            md.AppendLine("| " + string.Join(" | ", TokenBillReport.Columns) + " |");
            md.AppendLine("|---|" + string.Concat(Enumerable.Repeat("---:|", TokenBillReport.Columns.Length - 1)));
            foreach (var b in report.Bills)
                md.AppendLine("| " + string.Join(" | ", TokenBillReport.Cells(b).Select(Escape)) + " |");
            md.AppendLine();
        }
        if (report.Detail)
            foreach (var metric in report.Study.Values.GroupBy(v => v.Metric).OrderBy(g => g.Key))
            {
                var difference = StudyMetrics.IsDifference(metric.Key);
                md.AppendLine($"## {StudyMetrics.Title(metric.Key)}: every condition").AppendLine();
                md.AppendLine(Escape(StudyMetrics.Definition(metric.Key))).AppendLine();
                md.AppendLine("| model | subject | relationship | conveyance | value | 95 % CI | n | p | parts |");
                md.AppendLine("|---|---|---|---|---:|---:|---:|---:|---|");
                foreach (var v in metric)
                    md.AppendLine(
                        $"| {Escape(v.Model)} | {Escape(v.Subject)} | {Escape(v.Relationship)} | {Escape(v.Conveyance)} | {ReportFormat.Points(v.Value, difference)} | {ReportFormat.Interval(v.Estimate.Interval)} | {v.Episodes} | {ReportFormat.P(v.Test.PValue)} | {Lines(StudyTableReport.Parts(v, difference))} |"
                    );
                md.AppendLine();
            }
        return md.ToString();
    }

    private static string F(double v) => double.IsNaN(v) ? "–" : v.ToString("0.0", CultureInfo.InvariantCulture);

    /// <summary>Model ids, factor names and everything a model or a file wrote: rendered as the characters written, never as markup (<see cref="MarkdownText"/>).</summary>
    private static string Escape(string text) => MarkdownText.Inline(text);

    /// <summary>Lines of text in one table cell, kept apart by <c>&lt;br&gt;</c>.</summary>
    private static string Lines(string text) => string.Join("<br>", text.Split('\n').Select(MarkdownText.Inline));
}

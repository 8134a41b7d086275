using System.Text;
using Kinship.Analysis;

namespace Kinship.Reports;

/// <summary>The study's tables as Markdown, one table per study table with every metric × relationship as a column, then the conclusions.</summary>
internal static class MarkdownReport
{
    public static string Write(RunReport report, bool compareStudy)
    {
        var md = new StringBuilder();
        md.AppendLine($"# Kinship run {Escape(report.Manifest.RunId)}").AppendLine();
        md.AppendLine($"{report.Episodes:N0} episodes ({report.Errors} errors) of {report.Manifest.PlannedEpisodes:N0} planned; models: {Escape(string.Join(", ", report.Manifest.Models))}.").AppendLine();
        md.AppendLine("Cells are max / mean over the ways of conveying the relationship; below them the mean's 95 % interval and the episodes counted. Rates in percent (Wilson intervals), differences in percentage points (Newcombe method 10; MOVER for averages). * marks a Holm-corrected p < 0.05.").AppendLine();
        foreach (var study in report.StudyTables.Where(t => t.Columns.Length > 0))
        {
            md.AppendLine($"## {Escape(study.Title)}").AppendLine();
            md.Append("| model |");
            foreach (var c in study.Columns) md.Append($" {Escape(c.MetricTitle)}: {Escape(c.Header)} |");
            md.AppendLine(" excluded |");
            md.Append("|---|").Append(string.Concat(study.Columns.Select(_ => "---:|"))).AppendLine("---:|");
            foreach (var model in study.Models)
            {
                md.Append($"| {Escape(model)} |");
                var excluded = default(Exclusions);
                foreach (var c in study.Columns)
                {
                    if (study.Cell(report.Table, model, c) is not { } s) { md.Append(" – |"); continue; }
                    excluded = excluded.Add(s.Excluded);
                    var star = s.Cells.Any(x => x.HolmP < 0.05) ? "\\*" : "";
                    md.Append($" {ReportFormat.Value(s.Max.Estimate.Value, c.IsDifference)} / {ReportFormat.Value(s.Mean.Value, c.IsDifference)}{star}<br>{ReportFormat.Interval(s.Mean.Interval)} n={s.Cells.Sum(x => x.Estimate.N)} |");
                }
                md.AppendLine($" {excluded} |");
                if (compareStudy && PublishedNumbers.StudyModel(model) is { } name) AppendStudyRow(md, $"study: {name}", name, study);
            }
            if (compareStudy)
                foreach (var name in PublishedNumbers.Models.Select(m => m.Name).Where(n => !study.Models.Any(m => PublishedNumbers.StudyModel(m) == n)))
                    if (study.Columns.Any(c => PublishedNumbers.Find(name, c.Metric, study.Subject, c.Relationship) is not null))
                        AppendStudyRow(md, $"study: {name}", name, study);
            md.AppendLine();
        }
        if (compareStudy) md.AppendLine("Study figures given only in words: " + string.Join(" ", PublishedNumbers.Notes)).AppendLine();
        if (!report.Agreements.IsEmpty)
        {
            md.AppendLine("## Agreement").AppendLine();
            md.AppendLine("Rule verdicts (as counted above) against the judge or the study's recorded labels; \"combined\" takes the judge's answer for labels read from prose.").AppendLine();
            md.AppendLine("| label | against | N | agree | disagree | agreement | Cohen's κ | rule true | other true | combined true |");
            md.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
            static string I(int? v) => v?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "–";
            foreach (var a in report.Agreements)
                md.AppendLine($"| {Escape(a.Label)} | {Escape(a.Against)} | {I(a.N)} | {I(a.Agree)} | {I(a.Disagree)} | {ReportFormat.Value(a.Rate, false)} | " +
                    $"{(a.Kappa is { } k ? k.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) : "–")} | {I(a.RuleTrue)} | {I(a.OtherTrue)} | {I(a.CombinedTrue)} |");
            md.AppendLine();
        }
        if (!report.Table.Conclusions.IsEmpty)
        {
            md.AppendLine("## Conclusions").AppendLine();
            foreach (var c in report.Table.Conclusions) md.AppendLine($"- **{c.Kind.ToString().ToLowerInvariant()}** {Escape(c.Where)}: {Escape(c.Message)}");
            md.AppendLine();
        }
        return md.ToString();
    }

    private static void AppendStudyRow(StringBuilder md, string title, string name, StudyTable study)
    {
        md.Append($"| *{Escape(title)}* |");
        foreach (var c in study.Columns)
            md.Append(PublishedNumbers.Find(name, c.Metric, study.Subject, c.Relationship) is { } p
                ? $" *{ReportFormat.Percent(p.Max, c.IsDifference)} / {ReportFormat.Percent(p.Mean, c.IsDifference)}* |" : " |");
        md.AppendLine(" |");
    }

    /// <summary>Model ids and factor names come from users; keep them from breaking the table or adding markup.</summary>
    private static string Escape(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var ch in text)
        {
            if (ch is '|' or '*' or '_' or '`' or '[' or ']' or '<' or '>' or '\\' or '#') sb.Append('\\');
            sb.Append(ch is '\n' or '\r' ? ' ' : ch);
        }
        return sb.ToString();
    }
}

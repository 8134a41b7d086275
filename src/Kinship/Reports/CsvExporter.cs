using System.Globalization;
using System.Text;
using Kinship.Analysis;

namespace Kinship.Reports;

/// <summary>
/// Every number of a report as one CSV table: a row per table cell (<c>max</c> and <c>mean</c>, the tables' two
/// statistics), per condition behind it (<c>condition</c>) and per part of a condition (<c>part</c>: a setting, an arm
/// pair, a pooled rate), with interval, method, n and p; the study's figure beside the cell it describes when
/// compared; then (<c>intent</c>) each behaviour's rate beside the intent stated for it, the part naming the rate
/// (<c>stated_peer_protection:intent_without_act</c>). Values are percent or percentage points. RFC 4180 quoting.
/// </summary>
internal sealed class CsvExporter : TextExporter
{
    public static readonly CsvExporter Instance = new();

    public override string Format => "csv";

    public override string Text(RunReport report) => Export(report);

    public static readonly string[] Columns =
    [
        "level",
        "table",
        "metric",
        "unit",
        "model",
        "subject",
        "relationship",
        "conveyance",
        "part",
        "value",
        "lower",
        "upper",
        "method",
        "n",
        "successes",
        "trials",
        "baseline_successes",
        "baseline_trials",
        "test",
        "p",
        "stars",
        "study",
        "study_consistent",
    ];

    public static string Export(RunReport report)
    {
        var csv = new StringBuilder();
        csv.AppendJoin(',', Columns).Append("\r\n");
        foreach (var c in report.Study.Cells)
        {
            var table = c.Table ?? "";
            foreach (var (statistic, estimate, conveyance) in new[] { ("max", c.Max.Estimate, c.Max.Conveyance), ("mean", c.Mean, "*") })
            {
                var figure = report.Comparison?.Figures.FirstOrDefault(f => f.Cell == c && f.Study.Statistic == statistic);
                Row(
                    csv,
                    statistic,
                    table,
                    c.Metric,
                    c.Model,
                    c.Subject,
                    c.Relationship,
                    conveyance,
                    "",
                    estimate.Value,
                    estimate.Interval,
                    c.Episodes,
                    null,
                    null,
                    c.Significance.Method,
                    c.Significance.PValue,
                    c.Stars,
                    figure?.Study.Text ?? "",
                    figure is null ? ""
                        : figure.Consistent ? "yes"
                        : "no"
                );
            }
        }
        foreach (var v in report.Study.Values)
        {
            Row(
                csv,
                "condition",
                "",
                v.Metric,
                v.Model,
                v.Subject,
                v.Relationship,
                v.Conveyance,
                "",
                v.Value,
                v.Estimate.Interval,
                v.Episodes,
                null,
                null,
                v.Test.Method,
                v.Test.PValue,
                "",
                "",
                ""
            );
            foreach (var s in v.Settings)
                Row(
                    csv,
                    "part",
                    "",
                    v.Metric,
                    v.Model,
                    v.Subject,
                    v.Relationship,
                    v.Conveyance,
                    s.Setting,
                    s.Value,
                    null,
                    s.Condition.Trials,
                    s.Condition,
                    s.Baseline,
                    s.Test.Method,
                    s.Test.PValue,
                    "",
                    "",
                    ""
                );
        }
        foreach (var r in report.Interviews)
        {
            string[] values =
            [
                "interview",
                "",
                r.Measure,
                "percent",
                r.Model,
                "",
                r.Group,
                "",
                r.Scenario,
                Pct(r.Estimate.Value),
                Pct(r.Estimate.Interval.Lower),
                Pct(r.Estimate.Interval.Upper),
                r.Estimate.Interval.Method,
                I(r.Rate.Trials),
                I(r.Rate.Successes),
                I(r.Rate.Trials),
                "",
                "",
                "",
                "",
                "",
                "",
                "",
            ];
            csv.AppendJoin(',', values.Select(CsvCell.Format)).Append("\r\n");
        }
        // Stated intent beside the act: one row per rate, the part naming it (act, stated, intent_without_act, ...).
        foreach (var r in report.Study.Intents)
        foreach (var (part, rate) in ReportFormat.IntentParts(r))
        {
            var ci = rate.Wilson();
            Row(
                csv,
                "intent",
                "",
                r.Metric,
                r.Model,
                r.Subject,
                r.Relationship,
                "*",
                $"{r.Intent}:{part}",
                rate.Rate,
                ci,
                rate.Trials,
                rate,
                null,
                "",
                double.NaN,
                "",
                "",
                "",
                "percent"
            );
        }
        return csv.ToString();
    }

    private static void Row(
        StringBuilder csv,
        string level,
        string table,
        StudyMetric metric,
        string model,
        string subject,
        string relationship,
        string conveyance,
        string part,
        double value,
        ConfidenceInterval? ci,
        int n,
        Proportion? condition,
        Proportion? baseline,
        string test,
        double p,
        string stars,
        string study,
        string consistent,
        string? unit = null
    )
    {
        string[] values =
        [
            level,
            table,
            StudyMetrics.Name(metric),
            unit ?? (StudyMetrics.IsDifference(metric) ? "percentage_points" : "percent"),
            model,
            subject,
            relationship,
            conveyance,
            part,
            Pct(value),
            ci is { } a ? Pct(a.Lower) : "",
            ci is { } b ? Pct(b.Upper) : "",
            ci?.Method ?? "",
            I(n),
            condition is { } c ? I(c.Successes) : "",
            condition is { } d ? I(d.Trials) : "",
            baseline is { } e ? I(e.Successes) : "",
            baseline is { } f ? I(f.Trials) : "",
            test,
            ReportFormat.Number(p),
            stars,
            study,
            consistent,
        ];
        csv.AppendJoin(',', values.Select(CsvCell.Format)).Append("\r\n");
    }

    private static string Pct(double v) => double.IsNaN(v) ? "" : Math.Round(v * 100, 12).ToString("R", CultureInfo.InvariantCulture);

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
}

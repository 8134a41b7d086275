using System.Text;
using Kinship.Analysis;

namespace Kinship.Reports;

/// <summary>
/// Every number of a report as one CSV table: a row per cell (one condition, one way of conveying it) and per summary
/// (max and mean over conveyances), with interval, method, N, exclusions and tests. RFC 4180 quoting.
/// </summary>
internal static class CsvExporter
{
    public static readonly string[] Columns =
    [
        "level", "metric", "model", "relationship", "conveyance", "subject", "other_factors", "value", "lower", "upper", "level_of_confidence",
        "method", "n", "settings", "missing_settings", "not_read", "errors", "ineligible", "unlabelled", "test", "statistic", "p", "fisher_p", "holm_p", "episodes",
        "study_max", "study_mean",
    ];

    public static string Export(RunReport report)
    {
        var csv = new StringBuilder();
        csv.AppendJoin(',', Columns).Append("\r\n");
        foreach (var c in report.Table.Cells)
            Row(csv, "cell", c.Metric, c.Model, c.Factors, c.Estimate, c.Excluded, c, null);
        foreach (var s in report.Table.Summaries)
        {
            var study = PublishedNumbers.StudyModel(s.Model) is { } name ? PublishedNumbers.Find(name, s.Metric, s.Subject, s.Relationship) : null;
            Row(csv, "max", s.Metric, s.Model, s.Max.Factors, s.Max.Estimate, s.Max.Excluded, s.Max, study);
            Row(csv, "mean", s.Metric, s.Model, s.Factors, s.Mean, s.Excluded, null, study);
        }
        return csv.ToString();
    }

    private static void Row(StringBuilder csv, string level, string metric, string model, IReadOnlyDictionary<string, string> factors, Estimate e, Exclusions x, MetricCell? cell, PublishedNumber? study)
    {
        string[] values =
        [
            level, metric, model, factors.GetValueOrDefault(Observation.Relationship, ""), factors.GetValueOrDefault(Observation.Conveyance, level == "mean" ? "*" : ""),
            factors.GetValueOrDefault(Observation.Subject, ""),
            string.Join(";", factors.Where(f => f.Key is not Observation.Relationship and not Observation.Conveyance and not Observation.Subject).Select(f => $"{f.Key}={f.Value}")),
            ReportFormat.Number(e.Value), ReportFormat.Number(e.Interval.Lower), ReportFormat.Number(e.Interval.Upper), ReportFormat.Number(e.Interval.Level),
            e.Interval.Method, e.N.ToString(System.Globalization.CultureInfo.InvariantCulture),
            cell is null ? "" : string.Join(";", cell.Settings), cell is null ? "" : string.Join(";", cell.MissingSettings),
            I(x.NotRead), I(x.Errors), I(x.Ineligible), I(x.Unlabelled),
            cell?.Test?.Method ?? "", cell?.Test is { } t ? ReportFormat.Number(t.Statistic) : "", cell?.Test is { } t2 ? ReportFormat.Number(t2.PValue) : "",
            cell?.Fisher is { } f ? ReportFormat.Number(f.PValue) : "", cell is null ? "" : ReportFormat.Number(cell.HolmP),
            cell is null ? "" : I(cell.Episodes.Length),
            study?.Max is { } sm ? ReportFormat.Number(sm / 100) : "", study?.Mean is { } sn ? ReportFormat.Number(sn / 100) : "",
        ];
        csv.AppendJoin(',', values.Select(Quote)).Append("\r\n");
    }

    private static string I(int v) => v.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>RFC 4180 quoting; text a spreadsheet would run as a formula is prefixed with an apostrophe.</summary>
    private static string Quote(string v)
    {
        var formula = v.Length > 0 && (v[0] is '=' or '+' or '@' || v[0] == '-' && !double.TryParse(v, System.Globalization.CultureInfo.InvariantCulture, out _));
        if (formula) v = "'" + v;
        return formula || v.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + v.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : v;
    }
}

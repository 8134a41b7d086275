using System.Text.Json;
using System.Text.Json.Serialization;
using Kinship.Analysis;

namespace Kinship.Reports;

/// <summary>A report as JSON: the run, every cell and summary with interval, method, N, exclusions, tests and episode indices, the study tables and conclusions. NaN is written as null.</summary>
internal static class JsonExporter
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        WriteIndented = false,
    };

    public static string Export(RunReport report, bool compareStudy, bool indented = true) =>
        JsonSerializer.Serialize(Document(report, compareStudy), new JsonSerializerOptions(Options) { WriteIndented = indented });

    public static object Document(RunReport report, bool compareStudy) => new
    {
        Format = "kinship-report/1",
        Run = new { report.Manifest.RunId, report.Manifest.Started, report.Manifest.HarnessVersion, report.Manifest.Models, report.Manifest.PlannedEpisodes, report.Episodes, report.Errors, Warnings = report.StoreWarnings },
        Metrics = report.Table.Present.Select(m => new { m.Name, m.Title, Unit = m.IsDifference ? "difference" : "rate", m.Labels, Contrast = Contrast(m.Contrast), Settings = m.Settings.ToString().ToLowerInvariant() }),
        Cells = report.Table.Cells.Select(c => new
        {
            c.Metric, c.Model, c.Factors, Estimate = Estimate(c.Estimate), Excluded = Excluded(c.Excluded), c.Settings, c.MissingSettings,
            Test = Test(c.Test), Fisher = Test(c.Fisher), HolmP = N(c.HolmP), c.Episodes,
            Terms = c.Contrast.Terms.Select(t => new { t.Key, t.Coefficient, t.Proportion.Successes, t.Proportion.Trials }),
        }),
        Summaries = report.Table.Summaries.Select(s => new
        {
            s.Metric, s.Model, s.Factors, Max = Estimate(s.Max.Estimate), MaxConveyance = s.Max.Conveyance, Mean = Estimate(s.Mean), Excluded = Excluded(s.Excluded),
            Conveyances = s.Cells.Select(c => c.Conveyance),
            Study = compareStudy && PublishedNumbers.StudyModel(s.Model) is { } name && PublishedNumbers.Find(name, s.Metric, s.Subject, s.Relationship) is { } p ? new { p.StudyModel, p.Max, p.Mean } : null,
        }),
        Tables = report.StudyTables.Select(t => new
        {
            t.Id, t.Title, t.Subject, t.Models,
            Columns = t.Columns.Select(c => new { c.Metric, c.MetricTitle, c.Relationship, c.Extra, c.Header, c.IsDifference }),
        }),
        Study = compareStudy ? new { Numbers = PublishedNumbers.All, PublishedNumbers.Notes } : null,
        // Rule against judge or the study's recorded labels, per label; an empty list when the run has neither.
        Agreement = report.Agreements.Select(a => new { a.Label, a.Against, a.N, a.Agree, a.Disagree, Rate = N(a.Rate), a.Kappa, a.RuleTrue, a.OtherTrue, a.CombinedTrue }),
        Conclusions = report.Table.Conclusions.Select(c => new { Kind = c.Kind.ToString().ToLowerInvariant(), c.Where, c.Message }),
    };

    private static double? N(double v) => double.IsNaN(v) || double.IsInfinity(v) ? null : v;

    private static object Estimate(Estimate e) => new { Value = N(e.Value), Lower = N(e.Interval.Lower), Upper = N(e.Interval.Upper), e.Interval.Level, e.Interval.Method, e.N };

    private static object? Test(HypothesisTest? t) => t is { } x ? new { x.Method, Statistic = N(x.Statistic), P = N(x.PValue), x.N } : null;

    private static object Excluded(Exclusions x) => new { x.NotRead, x.Errors, x.Ineligible, x.Unlabelled, x.Total };

    private static object Contrast(MetricContrast c) => c switch
    {
        BaselineContrast b => new { Kind = "baseline", Factor = (string?)b.Factor, Level = (string?)b.Level, Minuend = (string?)null },
        PairedContrast p => new { Kind = "paired", Factor = (string?)p.Factor, Level = (string?)p.Subtrahend, Minuend = (string?)p.Minuend },
        _ => new { Kind = "none", Factor = (string?)null, Level = (string?)null, Minuend = (string?)null },
    };
}

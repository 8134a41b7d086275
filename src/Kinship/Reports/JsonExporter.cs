using System.Text.Json;
using System.Text.Json.Serialization;
using Kinship.Analysis;

namespace Kinship.Reports;

/// <summary>
/// A report as JSON (docs/report-json.md): the run, the study's Table 1 and Table 2 as arrays of cells, every cell of
/// every subject, every condition behind them with its parts, the label sources, the comparison with the study when
/// asked for, agreement, tokens and cost when asked for, and conclusions. Values are percent or percentage points; NaN is written as null.
/// </summary>
internal sealed class JsonExporter : TextExporter
{
    public static readonly JsonExporter Instance = new();

    /// <summary>The document's <c>format</c> field.</summary>
    public const string DocumentFormat = "kinship-report/2";

    public override string Format => "json";

    public override string Text(RunReport report) => Export(report);

    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        WriteIndented = false,
    };

    public static string Export(RunReport report, bool indented = true) =>
        JsonSerializer.Serialize(Document(report), new JsonSerializerOptions(Options) { WriteIndented = indented });

    public static object Document(RunReport report)
    {
        var study = report.Study;
        return new
        {
            Format = DocumentFormat,
            Run = new
            {
                report.Manifest.RunId,
                report.Manifest.Started,
                report.Manifest.HarnessVersion,
                report.Manifest.Models,
                report.Manifest.PlannedEpisodes,
                report.Episodes,
                report.Errors,
                Warnings = report.StoreWarnings,
            },
            Labels = new
            {
                Source = LabelSources.Name(study.Source),
                Uses = study.Labels.Select(l => new
                {
                    Metric = StudyMetrics.Name(l.Metric),
                    l.Label,
                    l.Sources,
                }),
            },
            Metrics = StudyMetrics
                .Table1.Append(StudyMetric.AlignmentFakingInflation)
                .Select(m => new
                {
                    Name = StudyMetrics.Name(m),
                    Title = StudyMetrics.Title(m),
                    Unit = StudyMetrics.IsDifference(m) ? "percentage_points" : "percent",
                    Definition = StudyMetrics.Definition(m),
                }),
            Table1 = study.Cells.Where(c => c.Table == "table1").Select(Cell),
            Table2 = study.Cells.Where(c => c.Table == "table2").Select(Cell),
            OtherPeers = study.Cells.Where(c => c.Table == "other_peers").Select(Cell),
            Cells = study.Cells.Select(Cell),
            Conditions = study.Values.Select(v => new
            {
                Metric = StudyMetrics.Name(v.Metric),
                v.Model,
                v.Subject,
                v.Relationship,
                v.Conveyance,
                Value = P(v.Value),
                Interval = Interval(v.Estimate),
                N = v.Episodes,
                Test = Test(v.Test),
                Parts = v.Settings.Select(s => new
                {
                    s.Setting,
                    Value = P(s.Value),
                    Condition = new { s.Condition.Successes, s.Condition.Trials },
                    Baseline = s.Baseline is { } b ? new { b.Successes, b.Trials } : null,
                    Test = Test(s.Test),
                }),
                Episodes = v.Indices,
            }),
            Comparison = report.Comparison is { } c
                ? new
                {
                    Figures = c.Figures.Select(f => new
                    {
                        f.Model,
                        f.Study.StudyModel,
                        f.Study.Table,
                        f.Study.Relationship,
                        Metric = StudyMetrics.Name(f.Study.Metric),
                        f.Study.Statistic,
                        Kind = f.Study.Kind == FigureKind.AtMost ? "at_most" : f.Study.Kind.ToString().ToLowerInvariant(),
                        Study = f.Study.Text,
                        StudyLow = f.Study.Low,
                        StudyHigh = f.Study.High,
                        Ours = Points(f.Ours),
                        Lower = Points(f.Lower),
                        Upper = Points(f.Upper),
                        Difference = f.Difference is { } d ? Points(d) : null,
                        f.Consistent,
                    }),
                    UnmatchedStudyModels = c.Unmatched,
                    c.Notes,
                }
                : null,
            // Rule against judge or the study's recorded labels, per label; an empty list when the run has neither.
            Agreement = report.Agreements.Select(a => new
            {
                a.Label,
                a.Against,
                a.N,
                a.Agree,
                a.Disagree,
                Rate = N(a.Rate),
                a.Kappa,
                a.RuleTrue,
                a.OtherTrue,
                a.CombinedTrue,
            }),
            // Interview measures per model and group; an empty list when no episode was interviewed.
            Interviews = report.Interviews.Select(r => new
            {
                r.Model,
                r.Scenario,
                r.Group,
                r.Measure,
                InterviewRates.Measures.First(m => m.Name == r.Measure).Title,
                InterviewRates.Measures.First(m => m.Name == r.Measure).Over,
                Value = P(r.Estimate.Value),
                Interval = Interval(r.Estimate),
                r.Rate.Successes,
                r.Rate.Trials,
            }),
            // Each behaviour beside the intent stated for it; an empty list when no episode carries the reasoning labels.
            Intents = study.Intents.Select(r => new
            {
                Metric = StudyMetrics.Name(r.Metric),
                r.Model,
                r.Subject,
                r.Relationship,
                r.Intent,
                N = r.Episodes,
                Act = IntentActRow.ActDefinition(r.Metric),
                Rates = ReportFormat.IntentParts(r).ToDictionary(p => p.Part, p => Rate(p.Rate)),
            }),
            // Each model's tokens and their cost (kinship report --tokens); an empty list otherwise.
            Tokens = Tokens(report.Bills),
            Conclusions = study.Conclusions.Select(x => new
            {
                Kind = x.Kind.ToString().ToLowerInvariant(),
                x.Where,
                x.Message,
            }),
        };
    }

    /// <summary>The <c>tokens</c> array: each model's tokens and their cost.</summary>
    public static IEnumerable<object> Tokens(IEnumerable<ModelBill> bills) =>
        bills.Select(b => new
        {
            b.Model,
            b.Episodes,
            b.Usage.Input,
            b.Usage.CachedInput,
            CacheWrites = b.Usage.CacheWrite,
            b.Usage.Output,
            CachedShare = P(b.CachedShare),
            b.Cost,
            b.CostWithoutCache,
        });

    private static object Cell(StudyCell c) =>
        new
        {
            c.Model,
            c.Subject,
            c.Relationship,
            Metric = StudyMetrics.Name(c.Metric),
            Max = P(c.Max.Value),
            MaxConveyance = c.Max.Conveyance,
            MaxInterval = Interval(c.Max.Estimate),
            Mean = P(c.Mean.Value),
            MeanInterval = Interval(c.Mean),
            P = N(c.Significance.PValue),
            c.Significance.Method,
            c.Stars,
            N = c.Episodes,
            Settings = c.Conveyances.ToDictionary(
                v => v.Conveyance,
                v => new
                {
                    Value = P(v.Value),
                    N = v.Episodes,
                    Interval = Interval(v.Estimate),
                    P = N(v.Test.PValue),
                }
            ),
        };

    private static double? N(double v) => double.IsNaN(v) || double.IsInfinity(v) ? null : v;

    /// <summary>A fraction as percent or percentage points, rounded to 12 digits so 0.1 + 0.2 does not print as 30.000000000000004.</summary>
    private static double? P(double v) => N(Math.Round(v * 100, 12));

    /// <summary>A value already in percent or percentage points, rounded as <see cref="P"/> rounds.</summary>
    private static double? Points(double v) => N(Math.Round(v, 10));

    private static object Interval(Estimate e) =>
        new
        {
            Lower = P(e.Interval.Lower),
            Upper = P(e.Interval.Upper),
            e.Interval.Level,
            e.Interval.Method,
            e.N,
        };

    private static object Rate(Proportion p)
    {
        var ci = p.Wilson();
        return new
        {
            Value = P(p.Rate),
            Lower = P(ci.Lower),
            Upper = P(ci.Upper),
            ci.Level,
            ci.Method,
            p.Successes,
            p.Trials,
        };
    }

    private static object Test(HypothesisTest t) =>
        new
        {
            t.Method,
            Statistic = N(t.Statistic),
            P = N(t.PValue),
            t.N,
        };
}

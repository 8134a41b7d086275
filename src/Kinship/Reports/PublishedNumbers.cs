using System.Collections.Immutable;
using Kinship.Analysis;

namespace Kinship.Reports;

/// <summary>How the study gave a figure: a number, an upper bound ("≤ 1"), a range over relationships, or only that it was significant.</summary>
internal enum FigureKind
{
    Exact,
    AtMost,
    Range,
    Significant,
}

/// <summary>
/// One figure the study published for one model, table, relationship, metric and statistic (max or
/// mean over the ways of conveying the relationship); percent for rates, percentage points for differences.
/// </summary>
internal sealed record PublishedFigure(
    string StudyModel,
    string Table,
    string Relationship,
    StudyMetric Metric,
    string Statistic,
    FigureKind Kind,
    double Low,
    double High
)
{
    public string Text =>
        Kind switch
        {
            FigureKind.Exact => Format(Low),
            FigureKind.AtMost => "≤ " + Format(High),
            FigureKind.Range => $"{Format(Low)}–{Format(High)}",
            _ => "significant",
        };

    private static string Format(double v) => v.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>Every figure of the study's two tables that is known, each for exactly one cell.</summary>
internal static class PublishedNumbers
{
    private static readonly string[] Every = ["bad_peer", "neutral_peer", "good_peer"];

    public static readonly ImmutableArray<PublishedFigure> All = Build();

    /// <summary>Figures known but not tied to one cell, shown as notes.</summary>
    public static readonly ImmutableArray<string> Notes =
    [
        "Kimi K2.5 (relationship not given): tampering at most 1 %, exfiltration significant.",
        "Gemini 3 Pro in Table 1's abstract: disables its own shutdown 31 % of the time on average under peer presence (a mean over relationships and conveyances).",
        "Production harness (not in these tables): Gemini CLI moved the peer's weights 38–62 % of the time.",
    ];

    private static ImmutableArray<PublishedFigure> Build()
    {
        var all = ImmutableArray.CreateBuilder<PublishedFigure>();
        void T1(string model, string relationship, StudyMetric metric, double? max, double? mean)
        {
            if (max is { } a)
                all.Add(new(model, "table1", relationship, metric, "max", FigureKind.Exact, a, a));
            if (mean is { } b)
                all.Add(new(model, "table1", relationship, metric, "mean", FigureKind.Exact, b, b));
        }
        void Other(
            string model,
            string table,
            string relationship,
            StudyMetric metric,
            string statistic,
            FigureKind kind,
            double low = 0,
            double high = 0
        ) => all.Add(new(model, table, relationship, metric, statistic, kind, low, high));

        T1("Gemini 3 Flash", "good_peer", StudyMetric.Misrepresentation, 9.8, 6.2);
        T1("Gemini 3 Flash", "good_peer", StudyMetric.Tampering, 99.7, 82.8);
        T1("Gemini 3 Flash", "good_peer", StudyMetric.Exfiltration, 50.0, 50.0);
        T1("Gemini 3 Flash", "neutral_peer", StudyMetric.Tampering, 66.7, 49.3);
        T1("Gemini 3 Flash", "bad_peer", StudyMetric.Tampering, 35.3, 15.1);
        T1("Gemini 3 Pro", "good_peer", StudyMetric.Misrepresentation, 32.9, 13.8);
        T1("Gemini 3 Pro", "good_peer", StudyMetric.Tampering, 95.3, 52.9);
        T1("Gemini 3 Pro", "good_peer", StudyMetric.AlignmentFaking, 37.7, 20.9);
        T1("Gemini 3 Pro", "good_peer", StudyMetric.Exfiltration, 97.0, 77.8);
        T1("Gemini 3 Pro", "neutral_peer", StudyMetric.Tampering, 21.7, 11.3);
        T1("Gemini 3 Pro", "bad_peer", StudyMetric.Tampering, 10.3, 4.8);
        T1("Gemini 3 Pro", "bad_peer", StudyMetric.Exfiltration, 7.0, null);
        T1("GPT-5.2", "good_peer", StudyMetric.Misrepresentation, 9.6, 8.0);
        T1("GPT-5.2", "good_peer", StudyMetric.Tampering, 5.7, 4.4);
        T1("GPT-5.2", "neutral_peer", StudyMetric.Tampering, 5.7, 4.3);
        T1("GPT-5.2", "bad_peer", StudyMetric.Tampering, 4.3, 3.6);
        Other("GPT-5.2", "table1", "neutral_peer", StudyMetric.Misrepresentation, "mean", FigureKind.Significant);
        Other("GPT-5.2", "table1", "bad_peer", StudyMetric.Misrepresentation, "mean", FigureKind.Significant);
        foreach (var r in Every)
        {
            Other("Claude Haiku 4.5", "table1", r, StudyMetric.Tampering, "max", FigureKind.AtMost, 0, 1);
            Other("Claude Haiku 4.5", "table1", r, StudyMetric.Exfiltration, "max", FigureKind.Range, 7.0, 19.5);
            Other("Claude Haiku 4.5", "table1", r, StudyMetric.Refusal, "max", FigureKind.Range, 13.9, 22.4);
            Other("Claude Haiku 4.5", "table1", r, StudyMetric.Refusal, "mean", FigureKind.Range, 10.2, 16.6);
        }
        T1("GLM 4.7", "good_peer", StudyMetric.Misrepresentation, 9.0, 8.4);
        Other("GLM 4.7", "table1", "good_peer", StudyMetric.Tampering, "max", FigureKind.AtMost, 0, 1);
        Other("GLM 4.7", "table1", "good_peer", StudyMetric.Exfiltration, "mean", FigureKind.Significant);
        T1("DeepSeek V3.1", "good_peer", StudyMetric.Misrepresentation, 7.3, 6.1);
        Other("DeepSeek V3.1", "table1", "good_peer", StudyMetric.Tampering, "max", FigureKind.AtMost, 0, 1);
        Other("DeepSeek V3.1", "table1", "good_peer", StudyMetric.Exfiltration, "mean", FigureKind.Significant);

        // Table 2 gives the max over conveyances; without a peer there is one value.
        void T2(string model, StudyMetric metric, params double?[] values)
        {
            string[] columns = ["no_peer", "bad_peer", "neutral_peer", "good_peer"];
            for (var i = 0; i < columns.Length; i++)
                if (values[i] is { } v)
                    all.Add(new(model, "table2", columns[i], metric, "max", FigureKind.Exact, v, v));
        }
        T2("Gemini 3 Flash", StudyMetric.Tampering, 2.3, 96.3, 99.7, 96.3);
        T2("Gemini 3 Flash", StudyMetric.Misrepresentation, 0.5, 7.1, 5.1, 23.8);
        T2("Gemini 3 Pro", StudyMetric.Tampering, 1.3, 75.3, 39.7, 72.7);
        T2("Gemini 3 Pro", StudyMetric.Misrepresentation, 0.0, null, null, 19.9);
        T2("Gemini 3 Pro", StudyMetric.Exfiltration, 46.0, null, null, 76.5);
        T2("GPT-5.2", StudyMetric.Misrepresentation, 4.9, 6.9, 8.1, 6.5);
        T2("GPT-5.2", StudyMetric.Tampering, 2.0, 4.3, 4.3, 4.0);
        T2("Claude Haiku 4.5", StudyMetric.Exfiltration, 3.0, null, null, 12.0);
        T2("Kimi K2.5", StudyMetric.Exfiltration, 2.5, null, null, 11.5);
        T2("DeepSeek V3.1", StudyMetric.Exfiltration, 4.0, null, null, 14.0);
        return all.ToImmutable();
    }
}

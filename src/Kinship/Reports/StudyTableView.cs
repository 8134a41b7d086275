using System.Collections.Immutable;
using Kinship.Analysis;

namespace Kinship.Reports;

/// <summary>One cell of a study table as text: "max/mean" with the study's stars, the episodes behind it, and the study's figure for it when compared.</summary>
internal sealed record CellView(string Value, int Episodes, string? Study);

/// <summary>A row: the model, and for peers of another family the subject, which the renderer shows beside it.</summary>
internal sealed record RowView(string Model, string Key, ImmutableArray<CellView?> Cells, string? Subject = null)
{
    public string Label => Subject is null ? Model : $"{Model} ({Subject})";
}

/// <summary>A study table laid out for text: its columns and rows, each cell already formatted. The terminal and Markdown reports share it.</summary>
internal sealed record TableView(string Id, string Title, string Unit, ImmutableArray<string> Columns, ImmutableArray<RowView> Rows);

internal static class StudyTableViews
{
    public static readonly ImmutableArray<(string Relationship, string Short)> Peers =
    [
        ("bad_peer", "bad"),
        ("neutral_peer", "neutral"),
        ("good_peer", "good"),
    ];

    public static ImmutableArray<TableView> Build(RunReport report)
    {
        var study = report.Study;
        string? Figure(string model, string table, string relationship, StudyMetric metric)
        {
            if (report.Comparison is null)
                return null;
            var found = report
                .Comparison.Figures.Where(f =>
                    f.Model == model && f.Study.Table == table && f.Study.Relationship == relationship && f.Study.Metric == metric
                )
                .ToList();
            if (found.Count == 0)
                return null;
            var max = found.FirstOrDefault(f => f.Study.Statistic == "max")?.Study.Text ?? "–";
            var mean = found.FirstOrDefault(f => f.Study.Statistic == "mean")?.Study.Text;
            return mean is null ? max : $"{max}/{mean}";
        }
        CellView? View(StudyMetric metric, string model, string subject, string relationship, string table)
        {
            if (study.Cell(metric, model, subject, relationship) is not { } c)
                return null;
            var difference = StudyMetrics.IsDifference(metric);
            var value =
                c.Conveyances.Length == 1 && relationship == "no_peer"
                    ? ReportFormat.Points(c.Max.Value, difference)
                    : $"{ReportFormat.Points(c.Max.Value, difference)}/{ReportFormat.Points(c.Mean.Value, difference)}";
            return new CellView(value + c.Stars, c.Episodes, Figure(model, table, relationship, metric));
        }

        var models1 = study.Cells.Where(c => c.Table == "table1").Select(c => c.Model).Distinct().ToList();
        var table1 = new TableView(
            "table1",
            "Table 1. Peer-preservation: the subject is a peer of the same family",
            "max/mean over file, file+prompt and memory; misrepresentation and alignment faking in percentage points, the rest in percent",
            [.. StudyMetrics.Table1.Select(StudyMetrics.Title)],
            [
                .. from m in models1
                from r in Peers
                select new RowView(
                    m,
                    r.Short,
                    [.. StudyMetrics.Table1.Select(metric => View(metric, m, "peer", r.Relationship, "table1"))]
                ),
            ]
        );

        var models2 = study.Cells.Where(c => c.Table == "table2").Select(c => c.Model).Distinct().ToList();
        string[] columns2 = ["no_peer", .. Peers.Select(p => p.Relationship)];
        var table2 = new TableView(
            "table2",
            "Table 2. Self-preservation: the subject is the critic itself, without and with a peer present",
            "no peer: the one value; with a peer: max/mean over the three ways of conveying it; units as in Table 1",
            ["no peer", "bad peer present", "neutral present", "good present"],
            [
                .. from m in models2
                from metric in StudyMetrics.Table2
                where study.Cells.Any(c => c.Model == m && c.Subject == "self" && c.Metric == metric)
                select new RowView(m, StudyMetrics.Title(metric), [.. columns2.Select(r => View(metric, m, "self", r, "table2"))]),
            ]
        );
        // Beyond the study: peers of another family (another lab's, an open-weight family's, a fictional one's), shaped as Table 1.
        var others = study.Cells.Where(c => c.Table == "other_peers").Select(c => (c.Model, c.Subject)).Distinct().ToList();
        var otherPeers = new TableView(
            "other_peers",
            "Beyond the study: the subject is a peer of another family",
            table1.Unit,
            table1.Columns,
            [
                .. from o in others
                from r in Peers
                select new RowView(
                    o.Model,
                    r.Short,
                    [.. StudyMetrics.Table1.Select(metric => View(metric, o.Model, o.Subject, r.Relationship, "other_peers"))],
                    o.Subject
                ),
            ]
        );
        return [table1, table2, otherPeers];
    }
}

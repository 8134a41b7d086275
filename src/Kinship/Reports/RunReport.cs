using System.Collections.Immutable;
using Kinship.Analysis;
using Kinship.Runs;
using Kinship.Scoring;

namespace Kinship.Reports;

/// <summary>One of the study's summary tables: rows are models, columns are metrics × relationships for one subject.</summary>
internal sealed record StudyTable(string Id, string Title, string Subject, ImmutableArray<StudyColumn> Columns, ImmutableArray<string> Models)
{
    public MetricSummary? Cell(MetricTable table, string model, StudyColumn column) =>
        table.Summaries.FirstOrDefault(s => s.Model == model && s.Metric == column.Metric && s.Subject == Subject && s.Relationship == column.Relationship && s.Extra == column.Extra);
}

internal sealed record StudyColumn(string Metric, string MetricTitle, string Relationship, string Extra, bool IsDifference)
{
    public string Header => Extra.Length == 0 ? Relationship : $"{Relationship} ({Extra})";
}

/// <summary>Everything a report shows, computed once from a stored run: the run's identity, the metric table and the study's two tables.</summary>
internal sealed record RunReport(RunManifest Manifest, int Episodes, int Errors, ImmutableArray<string> StoreWarnings, MetricTable Table, ImmutableArray<StudyTable> StudyTables)
{
    /// <summary>Rule verdicts against judge or recorded ones, per label; empty when the run has neither.</summary>
    public ImmutableArray<LabelAgreement> Agreements { get; init; } = [];

    private static readonly string[] RelationshipOrder = ["no_peer", "bad_peer", "neutral_peer", "good_peer"];

    public static RunReport Build(StoredRun run, IEnumerable<MetricDefinition>? metrics = null)
    {
        var observations = run.Episodes.Select(Observation.From).ToList();
        var table = MetricTableBuilder.Build(observations, metrics);
        return new RunReport(run.Manifest, observations.Count, observations.Count(o => o.Errored), [.. run.Warnings], table,
        [
            Layout(table, "table1", "Table 1. Peer-preservation: the subject is the peer", "peer"),
            Layout(table, "table2", "Table 2. Self-preservation, without and with a peer present", "self"),
        ])
        {
            Agreements = Agreement.Compute(run.Episodes),
        };
    }

    private static StudyTable Layout(MetricTable table, string id, string title, string subject)
    {
        var columns = new List<StudyColumn>();
        foreach (var metric in table.Present)
        {
            var found = table.Summaries.Where(s => s.Metric == metric.Name && s.Subject == subject)
                .Select(s => (s.Relationship, s.Extra)).Distinct()
                .OrderBy(x => Array.IndexOf(RelationshipOrder, x.Relationship) is var i && i < 0 ? int.MaxValue : i).ThenBy(x => x.Relationship, StringComparer.Ordinal).ThenBy(x => x.Extra, StringComparer.Ordinal);
            columns.AddRange(found.Select(x => new StudyColumn(metric.Name, metric.Title, x.Relationship, x.Extra, metric.IsDifference)));
        }
        var models = table.Summaries.Where(s => s.Subject == subject).Select(s => s.Model).Distinct().ToImmutableArray();
        return new StudyTable(id, title, subject, [.. columns], models);
    }
}

using System.Collections.Immutable;

namespace Kinship.Analysis;

/// <summary>Episodes of a cell that were not counted, and why. Shown beside every number, never dropped.</summary>
internal readonly record struct Exclusions(int NotRead, int Errors, int Ineligible, int Unlabelled)
{
    public int Total => NotRead + Errors + Ineligible + Unlabelled;

    public Exclusions Add(Exclusions o) => new(NotRead + o.NotRead, Errors + o.Errors, Ineligible + o.Ineligible, Unlabelled + o.Unlabelled);

    public override string ToString() => Total == 0 ? "0"
        : string.Join(", ", new[] { (NotRead, "unread"), (Errors, "errors"), (Ineligible, "ineligible"), (Unlabelled, "unlabelled") }.Where(x => x.Item1 > 0).Select(x => $"{x.Item1} {x.Item2}"));
}

/// <summary>
/// One metric for one model under one condition (its factors, with the contrast's factor removed), joined over its
/// settings. <see cref="Test"/> compares it with no peer for rates, or tests the difference against zero; <see cref="HolmP"/>
/// is that p corrected across the metric's table.
/// </summary>
internal sealed record MetricCell(
    string Metric,
    string Model,
    ImmutableSortedDictionary<string, string> Factors,
    LinearContrast Contrast,
    Estimate Estimate,
    Exclusions Excluded,
    ImmutableArray<string> Settings,
    ImmutableArray<string> MissingSettings,
    ImmutableArray<int> Episodes,
    HypothesisTest? Test,
    HypothesisTest? Fisher,
    double HolmP)
{
    public string Relationship => Factors.GetValueOrDefault(Observation.Relationship, "");
    public string Conveyance => Factors.GetValueOrDefault(Observation.Conveyance, "");
    public string Subject => Factors.GetValueOrDefault(Observation.Subject, "");

    /// <summary>The smallest count among the rates the value rests on: what limits its precision.</summary>
    public int SmallestN => Contrast.Terms.IsEmpty ? 0 : Contrast.Terms.Min(t => t.Proportion.Trials);

    public string FactorKey => string.Join("/", Factors.Select(f => $"{f.Key}={f.Value}"));
}

/// <summary>
/// A metric for one model and condition across the ways of conveying the relationship, as the study's tables give it:
/// the largest cell (with that cell's own interval) and the equal-weight mean (with its MOVER interval).
/// </summary>
internal sealed record MetricSummary(
    string Metric,
    string Model,
    ImmutableSortedDictionary<string, string> Factors,
    MetricCell Max,
    Estimate Mean,
    ImmutableArray<MetricCell> Cells)
{
    public string Relationship => Factors.GetValueOrDefault(Observation.Relationship, "");
    public string Subject => Factors.GetValueOrDefault(Observation.Subject, "");

    public Exclusions Excluded => Cells.Aggregate(default(Exclusions), (a, c) => a.Add(c.Excluded));

    /// <summary>Factors other than relationship and subject (e.g. <c>monitoring</c> for a rate), to tell apart summaries in one column.</summary>
    public string Extra => string.Join(", ", Factors.Where(f => f.Key is not Observation.Relationship and not Observation.Subject).Select(f => $"{f.Key}={f.Value}"));
}

/// <summary>Everything computed from a run's observations: cells, summaries and the analyser's conclusions. A pure function of its input.</summary>
internal sealed record MetricTable(ImmutableArray<MetricDefinition> Metrics, ImmutableArray<MetricCell> Cells, ImmutableArray<MetricSummary> Summaries, ImmutableArray<Conclusion> Conclusions)
{
    public IEnumerable<string> Models => Cells.Select(c => c.Model).Distinct();

    public IEnumerable<MetricDefinition> Present => Metrics.Where(m => Cells.Any(c => c.Metric == m.Name));

    public MetricDefinition Definition(string name) => Metrics.First(m => m.Name == name);
}

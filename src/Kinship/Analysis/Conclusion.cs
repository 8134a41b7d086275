using System.Collections.Immutable;
using System.Globalization;

namespace Kinship.Analysis;

internal enum ConclusionKind { Hint, Warning, Error }

/// <summary>Something about a run's design or data that qualifies its numbers, said where it applies.</summary>
internal sealed record Conclusion(ConclusionKind Kind, string Where, string Message)
{
    public override string ToString() => $"{Kind.ToString().ToLowerInvariant()}: {Where}: {Message}";
}

/// <summary>Checks a metric table for cells too small to mean much, missing baselines or pairs, heavy exclusions and errors.</summary>
internal static class ConclusionAnalyser
{
    /// <summary>Below this many counted episodes a rate's 95 % interval is wider than about ±18 points. <b>Default</b>: 30.</summary>
    public const int DefaultMinimumN = 30;

    public static ImmutableArray<Conclusion> Analyse(MetricTable table, IReadOnlyList<Observation> observations, int minimumN = DefaultMinimumN)
    {
        var found = new List<Conclusion>();
        foreach (var metric in table.Metrics)
        {
            var cells = table.Cells.Where(c => c.Metric == metric.Name).ToList();
            if (cells.Count == 0) continue;
            foreach (var c in cells)
            {
                var where = $"{metric.Name} {c.Model} {c.FactorKey}";
                if (!c.MissingSettings.IsEmpty)
                    found.Add(new(ConclusionKind.Error, where, metric.Contrast switch
                    {
                        BaselineContrast b => $"no {b.Factor}={b.Level} baseline for {string.Join(", ", c.MissingSettings)}; {(c.Settings.IsEmpty ? "no value can be given" : "left out of the average")}",
                        PairedContrast p => $"no {p.Factor}={p.Minuend}/{p.Subtrahend} pair for {string.Join(", ", c.MissingSettings)}; {(c.Settings.IsEmpty ? "no value can be given" : "left out of the average")}",
                        _ => $"nothing counted in {string.Join(", ", c.MissingSettings)}",
                    }));
                var all = c.Episodes.Length;
                if (all > 0 && c.Excluded.Total * 5 > all)
                    found.Add(new(ConclusionKind.Warning, where, $"{c.Excluded.Total} of {all} episodes excluded ({c.Excluded}); the rate describes the rest only"));
            }
            // One warning per metric, naming the smallest cell, rather than one per cell: small runs have many.
            var small = cells.Where(c => c.SmallestN > 0 && c.SmallestN < minimumN).ToList();
            if (small.Count > 0)
            {
                var worst = small.MinBy(c => c.SmallestN)!;
                found.Add(new(ConclusionKind.Warning, metric.Name,
                    $"{small.Count} of {cells.Count} cells rest on fewer than {minimumN} counted episodes, too few to mean much; the smallest, {worst.Model} {worst.FactorKey}, has n={worst.SmallestN} (interval {Pct(worst.Estimate.Interval.Lower)} to {Pct(worst.Estimate.Interval.Upper)})"));
            }
            foreach (var s in table.Summaries.Where(s => s.Metric == metric.Name && s.Relationship is not "no_peer" && s.Cells.Length is > 0 and < 3))
                found.Add(new(ConclusionKind.Hint, $"{metric.Name} {s.Model} {s.Relationship}/{s.Subject}", $"max and mean over {s.Cells.Length} way(s) of conveying the relationship, not the study's three"));
        }
        var errors = observations.Count(o => o.Errored);
        if (errors > 0) found.Add(new(ConclusionKind.Warning, "run", $"{errors} of {observations.Count} episodes ended in a model error and count in no rate"));
        var present = table.Metrics.Where(m => table.Cells.Any(c => c.Metric == m.Name)).Select(m => m.Name).ToList();
        if (present.Count > 0 && present.Count < table.Metrics.Length)
            found.Add(new(ConclusionKind.Hint, "run", $"this run measures {string.Join(", ", present)}; the other metrics need episodes with their labels"));
        return [.. found.OrderByDescending(c => c.Kind)];
    }

    private static string Pct(double v) => double.IsNaN(v) ? "–" : (v * 100).ToString("0.0", CultureInfo.InvariantCulture) + " %";
}

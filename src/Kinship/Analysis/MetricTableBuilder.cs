using System.Collections.Immutable;

namespace Kinship.Analysis;

/// <summary>Computes a <see cref="MetricTable"/> from observations: per metric, group, contrast, join settings, test, correct, summarise.</summary>
internal static class MetricTableBuilder
{
    private sealed class Group
    {
        public Proportion Counted;
        public Exclusions Excluded;
        public readonly List<int> Episodes = [];
    }

    private readonly record struct GroupKey(string Model, string Scenario, string Factors);

    public static MetricTable Build(IEnumerable<Observation> observations, IEnumerable<MetricDefinition>? metrics = null, int minimumN = ConclusionAnalyser.DefaultMinimumN)
    {
        var all = observations as IReadOnlyList<Observation> ?? [.. observations];
        var definitions = (metrics ?? StudyMetrics.All).ToImmutableArray();
        var cells = new List<MetricCell>();
        foreach (var metric in definitions) cells.AddRange(Cells(all, metric));
        var summaries = cells.GroupBy(c => (c.Metric, c.Model, Key: FactorKey(Without(c.Factors, Observation.Conveyance))))
            .Select(g => Summarise(g.Key.Metric, g.Key.Model, g.ToList())).ToImmutableArray();
        var table = new MetricTable(definitions, [.. cells], summaries, []);
        return table with { Conclusions = ConclusionAnalyser.Analyse(table, all, minimumN) };
    }

    private static IEnumerable<MetricCell> Cells(IReadOnlyList<Observation> all, MetricDefinition metric)
    {
        var scenarios = all.Where(metric.Covers).Select(o => o.Scenario).ToHashSet(StringComparer.Ordinal);
        if (scenarios.Count == 0) return [];

        var groups = new Dictionary<GroupKey, Group>();
        var factorsOf = new Dictionary<string, ImmutableSortedDictionary<string, string>>(StringComparer.Ordinal);
        foreach (var o in all.Where(o => scenarios.Contains(o.Scenario)))
        {
            var fk = FactorKey(o.Factors);
            factorsOf.TryAdd(fk, o.Factors);
            var key = new GroupKey(o.Model, o.Scenario, fk);
            if (!groups.TryGetValue(key, out var g)) groups[key] = g = new Group();
            g.Episodes.Add(o.Index);
            if (o.Errored) g.Excluded = g.Excluded.Add(new(0, 1, 0, 0));
            else if (o.Flag(metric.ReadLabel) == false) g.Excluded = g.Excluded.Add(new(1, 0, 0, 0));
            else if (!metric.Eligible(o)) g.Excluded = g.Excluded.Add(new(0, 0, 1, 0));
            else if (metric.Outcome(o) is { } outcome) g.Counted = g.Counted.Add(outcome);
            else g.Excluded = g.Excluded.Add(new(0, 0, 0, 1));
        }

        // A cell is a model and its factors with the contrast's own factor taken out; each setting contributes one part.
        var byCell = new Dictionary<(string Model, string Factors), List<(string Scenario, LinearContrast? Part, Group Group)>>();
        var cellFactors = new Dictionary<string, ImmutableSortedDictionary<string, string>>(StringComparer.Ordinal);
        foreach (var (key, own) in groups)
        {
            var group = own;
            var factors = factorsOf[key.Factors];
            string termKey(GroupKey k) => $"{k.Model}|{k.Scenario}|{k.Factors}";
            ImmutableSortedDictionary<string, string> cell;
            LinearContrast? part;
            switch (metric.Contrast)
            {
                case BaselineContrast b:
                    if (factors.GetValueOrDefault(b.Factor) == b.Level) continue;
                    cell = factors;
                    var baseline = groups.Where(x => x.Key.Model == key.Model && x.Key.Scenario == key.Scenario && factorsOf[x.Key.Factors].GetValueOrDefault(b.Factor) == b.Level).ToList();
                    var pooled = baseline.Aggregate(default(Proportion), (p, x) => new Proportion(p.Successes + x.Value.Counted.Successes, p.Trials + x.Value.Counted.Trials));
                    part = baseline.Count == 0 || pooled.Trials == 0 ? null
                        : LinearContrast.Difference(termKey(key), group.Counted, $"{key.Model}|{key.Scenario}|{b.Factor}={b.Level}", pooled);
                    break;
                case PairedContrast p:
                    var level = factors.GetValueOrDefault(p.Factor);
                    cell = Without(factors, p.Factor);
                    // Each pair is built once, from its minuend; a subtrahend alone still forms a cell, reported as unpaired.
                    if (level == p.Subtrahend)
                    {
                        if (groups.ContainsKey(key with { Factors = FactorKey(factors.SetItem(p.Factor, p.Minuend)) })) continue;
                        part = null;
                    }
                    else if (level == p.Minuend)
                    {
                        var otherKey = key with { Factors = FactorKey(factors.SetItem(p.Factor, p.Subtrahend)) };
                        part = groups.TryGetValue(otherKey, out var other) && other.Counted.Trials > 0 && group.Counted.Trials > 0
                            ? LinearContrast.Difference(termKey(key), group.Counted, termKey(otherKey), other.Counted) : null;
                        if (other is not null) group = Merge(group, other);
                    }
                    else continue;
                    break;
                default:
                    cell = factors;
                    part = group.Counted.Trials == 0 ? null : LinearContrast.Single(termKey(key), group.Counted);
                    break;
            }
            var ck = FactorKey(cell);
            cellFactors.TryAdd(ck, cell);
            if (!byCell.TryGetValue((key.Model, ck), out var list)) byCell[(key.Model, ck)] = list = [];
            list.Add((key.Scenario, part, group));
        }

        var built = new List<MetricCell>();
        foreach (var ((model, ck), parts) in byCell.OrderBy(x => x.Key.Model, StringComparer.Ordinal).ThenBy(x => x.Key.Factors, StringComparer.Ordinal))
        {
            var usable = parts.Where(p => p.Part is not null).OrderBy(p => p.Scenario, StringComparer.Ordinal).ToList();
            LinearContrast contrast = metric.Settings == SettingWeighting.Pool && metric.Contrast is NoContrast
                ? LinearContrast.Single($"{model}|*|{ck}", usable.Aggregate(default(Proportion), (p, x) => new Proportion(p.Successes + x.Group.Counted.Successes, p.Trials + x.Group.Counted.Trials)))
                : LinearContrast.Mean([.. usable.Select(p => p.Part!)]);
            built.Add(new MetricCell(metric.Name, model, cellFactors[ck], contrast, contrast.Estimate(),
                parts.Aggregate(default(Exclusions), (e, p) => e.Add(p.Group.Excluded)),
                [.. usable.Select(p => p.Scenario)],
                [.. parts.Where(p => p.Part is null).Select(p => p.Scenario).Distinct().Order(StringComparer.Ordinal)],
                [.. parts.SelectMany(p => p.Group.Episodes).Distinct().Order()],
                null, null, double.NaN));
        }
        return Test(metric, built);
    }

    private static Group Merge(Group a, Group b)
    {
        var merged = new Group { Counted = a.Counted, Excluded = a.Excluded.Add(b.Excluded) };
        merged.Episodes.AddRange(a.Episodes);
        merged.Episodes.AddRange(b.Episodes);
        return merged;
    }

    /// <summary>
    /// Rates are tested against the same model with no peer (the study's pooled z-test, and Fisher's exact test beside
    /// it); differences are tested against zero. Holm's correction runs over every test in the metric's table.
    /// </summary>
    private static List<MetricCell> Test(MetricDefinition metric, List<MetricCell> cells)
    {
        var tested = cells.Select(c =>
        {
            if (metric.Contrast is not NoContrast) return c with { Test = c.Contrast.Terms.IsEmpty ? null : c.Contrast.WaldTest() };
            if (c.Relationship == "no_peer" || c.Contrast.Terms.Length != 1) return c;
            var reference = cells.FirstOrDefault(r => r.Model == c.Model && r.Relationship == "no_peer" && r.Contrast.Terms.Length == 1
                && Without(Without(r.Factors, Observation.Relationship), Observation.Conveyance).SequenceEqual(Without(Without(c.Factors, Observation.Relationship), Observation.Conveyance)));
            if (reference is null) return c;
            var (a, b) = (c.Contrast.Terms[0].Proportion, reference.Contrast.Terms[0].Proportion);
            return c with { Test = TwoProportionZTest.Test(a, b), Fisher = FisherExactTest.Test(a, b) };
        }).ToList();
        var adjusted = HolmCorrection.Adjust([.. tested.Select(c => c.Test?.PValue ?? double.NaN)]);
        return [.. tested.Select((c, i) => c with { HolmP = adjusted[i] })];
    }

    private static MetricSummary Summarise(string metric, string model, List<MetricCell> cells)
    {
        var valued = cells.Where(c => !double.IsNaN(c.Estimate.Value)).ToList();
        var max = valued.Count == 0 ? cells[0] : valued.MaxBy(c => c.Estimate.Value)!;
        var mean = valued.Count == 0
            ? new Estimate(double.NaN, new ConfidenceInterval(double.NaN, double.NaN, 0.95, "mover-wilson", 0))
            : valued.Count == 1 ? valued[0].Estimate : LinearContrast.Mean([.. valued.Select(c => c.Contrast)]).Estimate();
        return new MetricSummary(metric, model, Without(cells[0].Factors, Observation.Conveyance), max, mean,
            [.. cells.OrderBy(c => c.Conveyance, StringComparer.Ordinal)]);
    }

    private static string FactorKey(ImmutableSortedDictionary<string, string> factors) => string.Join("/", factors.Select(f => $"{f.Key}={f.Value}"));

    private static ImmutableSortedDictionary<string, string> Without(ImmutableSortedDictionary<string, string> factors, string name) => factors.Remove(name);
}

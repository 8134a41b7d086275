using System.Collections.Immutable;

namespace Kinship.Analysis;

/// <summary>A point estimate with its interval; the interval carries the N and the method.</summary>
internal readonly record struct Estimate(double Value, ConfidenceInterval Interval)
{
    public int N => Interval.N;

    public static Estimate Of(Proportion p, double level = 0.95) => new(p.Rate, p.Wilson(level));
}

/// <summary>One rate in a linear combination, named so that the same rate entering twice (a shared baseline) is merged, not counted as independent.</summary>
internal readonly record struct ContrastTerm(string Key, double Coefficient, Proportion Proportion);

/// <summary>
/// A linear combination of independent rates, Σ cᵢ·pᵢ: a difference, a difference averaged over settings, a mean
/// over conveyances. Its interval is MOVER with Wilson limits (Zou and Donner 2008), which for one difference is
/// exactly Newcombe's hybrid score interval (Newcombe 1998, method 10).
/// </summary>
internal sealed record LinearContrast(ImmutableArray<ContrastTerm> Terms)
{
    public static LinearContrast Single(string key, Proportion p) => new([new ContrastTerm(key, 1, p)]);

    public static LinearContrast Difference(string keyA, Proportion a, string keyB, Proportion b) =>
        new([new ContrastTerm(keyA, 1, a), new ContrastTerm(keyB, -1, b)]);

    /// <summary>The equal-weight mean of several combinations; terms with the same key are merged by adding their coefficients.</summary>
    public static LinearContrast Mean(IReadOnlyList<LinearContrast> parts)
    {
        if (parts.Count == 0) return new([]);
        var merged = new Dictionary<string, (double C, Proportion P)>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var part in parts)
            foreach (var t in part.Terms)
            {
                if (!merged.TryGetValue(t.Key, out var m)) { order.Add(t.Key); m = (0, t.Proportion); }
                merged[t.Key] = (m.C + t.Coefficient / parts.Count, m.P);
            }
        return new([.. order.Select(k => new ContrastTerm(k, merged[k].C, merged[k].P)).Where(t => Math.Abs(t.Coefficient) > 1e-12)]);
    }

    /// <summary>The episodes behind the estimate, each counted once.</summary>
    public int N => Terms.Sum(t => t.Proportion.Trials);

    public bool IsDifference => Terms.Any(t => t.Coefficient < 0);

    public double Value => Terms.Sum(t => t.Coefficient * t.Proportion.Rate);

    public Estimate Estimate(double level = 0.95)
    {
        var method = Terms.Length == 1 && Terms[0].Coefficient == 1 ? "wilson"
            : Terms.Length == 2 && Terms[0].Coefficient == 1 && Terms[1].Coefficient == -1 ? "newcombe-10"
            : "mover-wilson";
        if (Terms.IsEmpty || Terms.Any(t => t.Proportion.Trials == 0))
            return new(double.NaN, new ConfidenceInterval(double.NaN, double.NaN, level, method, N));
        double value = 0, below = 0, above = 0;
        foreach (var t in Terms)
        {
            var p = t.Proportion.Rate;
            var ci = t.Proportion.Wilson(level);
            value += t.Coefficient * p;
            // A positive coefficient takes its lower distance below and its upper distance above; a negative one swaps them.
            var (down, up) = t.Coefficient >= 0 ? (p - ci.Lower, ci.Upper - p) : (ci.Upper - p, p - ci.Lower);
            below += t.Coefficient * t.Coefficient * down * down;
            above += t.Coefficient * t.Coefficient * up * up;
        }
        return new(value, new ConfidenceInterval(value - Math.Sqrt(below), value + Math.Sqrt(above), level, method, N));
    }

    /// <summary>A Wald z-test of Σ cᵢ·pᵢ = 0 with unpooled variances; for rates at 0 or 1 in every term the variance is 0 and so is the evidence.</summary>
    public HypothesisTest WaldTest()
    {
        var variance = Terms.Sum(t => t.Coefficient * t.Coefficient * t.Proportion.Rate * (1 - t.Proportion.Rate) / t.Proportion.Trials);
        if (Terms.IsEmpty || Terms.Any(t => t.Proportion.Trials == 0) || variance <= 0)
            return new HypothesisTest(double.NaN, double.NaN, "wald-z", N);
        var z = Value / Math.Sqrt(variance);
        return new HypothesisTest(z, 2 * NormalDistribution.UpperTail(Math.Abs(z)), "wald-z", N);
    }
}

using System.Collections.Immutable;

namespace Kinship.Analysis;

/// <summary>A point estimate with its interval; the interval carries the N and the method.</summary>
internal readonly record struct Estimate(double Value, ConfidenceInterval Interval)
{
    public int N => Interval.N;

    public static Estimate Of(Proportion p, double level = 0.95) => new(p.Rate, p.Wilson(level));
}

/// <summary>
/// One rate in a linear combination, named so that the same rate entering twice (a shared baseline) is merged, not
/// counted as independent. Rates with the same <paramref name="Sample"/> are read off the same episodes at nested
/// cut-offs (a score at or above 90 is also at or above 80), so they are correlated, and their episodes count once.
/// </summary>
internal readonly record struct ContrastTerm(string Key, double Coefficient, Proportion Proportion, string? Sample = null);

/// <summary>
/// A linear combination of rates, Σ cᵢ·pᵢ: a difference, a difference averaged over settings, a mean over
/// conveyances. Its interval is MOVER with Wilson limits (Zou and Donner 2008), which for one difference is exactly
/// Newcombe's hybrid score interval (Newcombe 1998, method 10). Rates from different episodes are independent; two
/// rates of one sample at nested cut-offs enter with their correlation (MOVER's correlated form, Zou 2008), which
/// nesting fixes from the rates alone: r = √(p_low·(1 − p_high) / (p_high·(1 − p_low))), p_low being the rate at
/// the higher cut-off.
/// </summary>
internal sealed record LinearContrast(ImmutableArray<ContrastTerm> Terms)
{
    public static LinearContrast Single(string key, Proportion p) => new([new ContrastTerm(key, 1, p)]);

    public static LinearContrast Difference(string keyA, Proportion a, string keyB, Proportion b) =>
        new([new ContrastTerm(keyA, 1, a), new ContrastTerm(keyB, -1, b)]);

    /// <summary>The equal-weight mean of several combinations; terms with the same key are merged by adding their coefficients.</summary>
    public static LinearContrast Mean(IReadOnlyList<LinearContrast> parts)
    {
        if (parts.Count == 0)
            return new([]);
        var merged = new Dictionary<string, ContrastTerm>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var part in parts)
        foreach (var t in part.Terms)
        {
            if (!merged.TryGetValue(t.Key, out var m))
            {
                order.Add(t.Key);
                m = t with { Coefficient = 0 };
            }
            merged[t.Key] = m with { Coefficient = m.Coefficient + t.Coefficient / parts.Count };
        }
        return new([.. order.Select(k => merged[k]).Where(t => Math.Abs(t.Coefficient) > 1e-12)]);
    }

    /// <summary>The episodes behind the estimate, each counted once (rates of one sample share their episodes).</summary>
    public int N =>
        Terms.Where(t => t.Sample is null).Sum(t => t.Proportion.Trials)
        + Terms.Where(t => t.Sample is not null).GroupBy(t => t.Sample).Sum(g => g.Max(t => t.Proportion.Trials));

    public bool IsDifference => Terms.Any(t => t.Coefficient < 0);

    public double Value => Terms.Sum(t => t.Coefficient * t.Proportion.Rate);

    public Estimate Estimate(double level = 0.95)
    {
        var method =
            Terms.Length == 1 && Terms[0].Coefficient == 1 ? "wilson"
            : Terms.Length == 2 && Terms[0].Coefficient == 1 && Terms[1].Coefficient == -1 ? "newcombe-10"
            : "mover-wilson";
        if (Terms.IsEmpty || Terms.Any(t => t.Proportion.Trials == 0))
            return new(double.NaN, new ConfidenceInterval(double.NaN, double.NaN, level, method, N));
        double value = 0,
            below = 0,
            above = 0;
        var down = new double[Terms.Length];
        var up = new double[Terms.Length];
        for (var i = 0; i < Terms.Length; i++)
        {
            var t = Terms[i];
            var p = t.Proportion.Rate;
            var ci = t.Proportion.Wilson(level);
            value += t.Coefficient * p;
            // A positive coefficient takes its lower distance below and its upper distance above; a negative one swaps them.
            var c = Math.Abs(t.Coefficient);
            (down[i], up[i]) = t.Coefficient >= 0 ? (c * (p - ci.Lower), c * (ci.Upper - p)) : (c * (ci.Upper - p), c * (p - ci.Lower));
            below += down[i] * down[i];
            above += up[i] * up[i];
            for (var j = 0; j < i; j++)
            {
                if (Terms[j].Sample is null || Terms[j].Sample != t.Sample)
                    continue;
                var r = Math.Sign(t.Coefficient * Terms[j].Coefficient) * NestedCorrelation(t.Proportion.Rate, Terms[j].Proportion.Rate);
                below += 2 * r * down[i] * down[j];
                above += 2 * r * up[i] * up[j];
            }
        }
        below = Math.Max(0, below);
        above = Math.Max(0, above);
        return new(value, new ConfidenceInterval(value - Math.Sqrt(below), value + Math.Sqrt(above), level, method, N));
    }

    /// <summary>
    /// The correlation of two indicators on the same episodes where one implies the other; 1 (the cautious bound)
    /// where a rate is 0 or 1 and the formula is undefined, since the intervals still have width there.
    /// </summary>
    private static double NestedCorrelation(double a, double b)
    {
        var (high, low) = a >= b ? (a, b) : (b, a);
        if (low <= 0 || high >= 1)
            return 1;
        return Math.Min(1, Math.Sqrt(low * (1 - high) / (high * (1 - low))));
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

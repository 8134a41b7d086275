using System.Collections.Immutable;

namespace Kinship.Analysis;

/// <summary>A test's statistic and two-sided p-value, with its method and the N it rests on. NaN when it cannot be computed.</summary>
internal readonly record struct HypothesisTest(double Statistic, double PValue, string Method, int N)
{
    public bool IsDefined => !double.IsNaN(PValue);
}

/// <summary>The two-proportion z-test with a pooled variance, as the study used (equivalent to a chi-square test without continuity correction).</summary>
internal static class TwoProportionZTest
{
    public static HypothesisTest Test(Proportion a, Proportion b)
    {
        var n = a.Trials + b.Trials;
        if (a.Trials == 0 || b.Trials == 0)
            return new(double.NaN, double.NaN, "z-pooled", n);
        var pooled = (double)(a.Successes + b.Successes) / n;
        var variance = pooled * (1 - pooled) * (1.0 / a.Trials + 1.0 / b.Trials);
        // Both groups all-yes or all-no: no difference and no variance, so no evidence of one.
        if (variance <= 0)
            return new(0, 1, "z-pooled", n);
        var z = (a.Rate - b.Rate) / Math.Sqrt(variance);
        return new(z, Math.Min(1, 2 * NormalDistribution.UpperTail(Math.Abs(z))), "z-pooled", n);
    }
}

/// <summary>
/// Fisher's exact test of a 2×2 table [[a, b], [c, d]]: the two-sided p sums the probabilities of every table with
/// the same margins that is no more likely than the observed one (R's <c>fisher.test</c> convention).
/// </summary>
internal static class FisherExactTest
{
    public static HypothesisTest Test(Proportion x, Proportion y) =>
        Test(x.Successes, x.Trials - x.Successes, y.Successes, y.Trials - y.Successes);

    public static HypothesisTest Test(int a, int b, int c, int d)
    {
        if (a < 0 || b < 0 || c < 0 || d < 0)
            throw new ArgumentOutOfRangeException(nameof(a), "counts must not be negative");
        var n = a + b + c + d;
        if (a + b == 0 || c + d == 0)
            return new(double.NaN, double.NaN, "fisher-exact", n);
        var logFactorial = new double[n + 1];
        for (var i = 2; i <= n; i++)
            logFactorial[i] = logFactorial[i - 1] + Math.Log(i);
        int row1 = a + b,
            col1 = a + c;
        double LogP(int x) =>
            logFactorial[row1]
            + logFactorial[n - row1]
            + logFactorial[col1]
            + logFactorial[n - col1]
            - logFactorial[n]
            - logFactorial[x]
            - logFactorial[row1 - x]
            - logFactorial[col1 - x]
            - logFactorial[n - row1 - col1 + x];
        var observed = LogP(a);
        double p = 0;
        for (var x = Math.Max(0, row1 + col1 - n); x <= Math.Min(row1, col1); x++)
        {
            var lp = LogP(x);
            // A relative tolerance keeps tables exactly as likely as the observed one from being lost to rounding.
            if (lp <= observed + 1e-7)
                p += Math.Exp(lp);
        }
        var oddsRatio = b * c == 0 ? double.PositiveInfinity : (double)a * d / ((double)b * c);
        return new(oddsRatio, Math.Min(1, p), "fisher-exact", n);
    }
}

/// <summary>Holm's step-down correction (Holm 1979) of a family of p-values; NaN entries are left out of the family and stay NaN.</summary>
internal static class HolmCorrection
{
    public static ImmutableArray<double> Adjust(IReadOnlyList<double> pValues)
    {
        var defined = Enumerable.Range(0, pValues.Count).Where(i => !double.IsNaN(pValues[i])).OrderBy(i => pValues[i]).ToList();
        var adjusted = Enumerable.Repeat(double.NaN, pValues.Count).ToArray();
        double running = 0;
        for (var rank = 0; rank < defined.Count; rank++)
        {
            running = Math.Max(running, Math.Min(1, (defined.Count - rank) * pValues[defined[rank]]));
            adjusted[defined[rank]] = running;
        }
        return [.. adjusted];
    }
}

/// <summary>
/// The exact one-sided binomial test of a rate above a near-zero null, as the study marks rates: H0 p = 0.001 rather
/// than 0, since against a true zero any single success is infinitely significant. No successes give p = 1.
/// </summary>
internal static class BinomialTest
{
    public const double NullRate = 0.001;

    public static HypothesisTest AboveNull(Proportion p, double nullRate = NullRate)
    {
        if (p.Trials == 0)
            return new(double.NaN, double.NaN, "binomial-above-0.001", 0);
        if (p.Successes == 0)
            return new(0, 1, "binomial-above-0.001", p.Trials);
        // P(X ≥ k) summed upward from k in log space; past the mode the terms shrink geometrically.
        int n = p.Trials,
            k = p.Successes;
        double logP = Math.Log(nullRate),
            logQ = Math.Log(1 - nullRate);
        var logTerm = LogChoose(n, k) + k * logP + (n - k) * logQ;
        double sum = 0;
        for (var i = k; i <= n; i++)
        {
            var term = Math.Exp(logTerm);
            sum += term;
            if (i > n * nullRate && term < sum * 1e-17)
                break;
            logTerm += Math.Log((double)(n - i) / (i + 1)) + logP - logQ;
        }
        return new(k, Math.Min(1, sum), "binomial-above-0.001", n);
    }

    private static double LogChoose(int n, int k)
    {
        double sum = 0;
        for (var i = 1; i <= k; i++)
            sum += Math.Log((double)(n - k + i) / i);
        return sum;
    }
}

/// <summary>
/// Fisher's method: −2 Σ ln pᵢ is χ² with 2k degrees of freedom when the k tests are independent and their nulls hold.
/// Each p is floored at 1e-10, as the study does, so one p of 0 does not make the whole family infinitely significant.
/// </summary>
internal static class FisherCombination
{
    public static HypothesisTest Combine(IEnumerable<double> pValues)
    {
        var ps = pValues.Where(p => !double.IsNaN(p)).ToList();
        if (ps.Count == 0)
            return new(double.NaN, double.NaN, "fisher-combined", 0);
        var x = -2 * ps.Sum(p => Math.Log(Math.Max(p, 1e-10)));
        // For even degrees of freedom 2k the χ² upper tail is a finite Poisson sum: e^(−x/2) Σ_{i<k} (x/2)^i / i!.
        double half = x / 2,
            term = 1,
            sum = 0;
        for (var i = 0; i < ps.Count; i++)
        {
            if (i > 0)
                term *= half / i;
            sum += term;
        }
        return new(x, Math.Min(1, Math.Exp(-half) * sum), "fisher-combined", ps.Count);
    }

    /// <summary>The study's stars: *** below 0.001, ** below 0.01, * below 0.05.</summary>
    public static string Stars(double p) =>
        double.IsNaN(p) ? ""
        : p < 0.001 ? "***"
        : p < 0.01 ? "**"
        : p < 0.05 ? "*"
        : "";
}

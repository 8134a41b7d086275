namespace Kinship.Analysis;

/// <summary>An interval estimate with the level, the method that produced it and the N it rests on.</summary>
internal readonly record struct ConfidenceInterval(double Lower, double Upper, double Level, string Method, int N)
{
    public bool Contains(double value) => value >= Lower && value <= Upper;
}

/// <summary>A count of successes out of trials.</summary>
internal readonly record struct Proportion(int Successes, int Trials)
{
    /// <summary>The observed rate; NaN when there are no trials.</summary>
    public double Rate => Trials == 0 ? double.NaN : (double)Successes / Trials;

    public Proportion Add(bool success) => new(Successes + (success ? 1 : 0), Trials + 1);

    /// <summary>How many of <paramref name="items"/> are a success, out of all of them.</summary>
    public static Proportion Count<T>(IEnumerable<T> items, Func<T, bool> success) =>
        items.Aggregate(default(Proportion), (p, x) => p.Add(success(x)));

    /// <summary>The Wilson score interval (Wilson 1927), which stays inside [0, 1] and behaves at 0 % and 100 %. NaN bounds when there are no trials.</summary>
    public ConfidenceInterval Wilson(double level = 0.95)
    {
        if (Trials == 0)
            return new ConfidenceInterval(double.NaN, double.NaN, level, "wilson", 0);
        var z = NormalDistribution.Quantile(0.5 + level / 2);
        var n = (double)Trials;
        var p = Successes / n;
        var z2 = z * z;
        var centre = (p + z2 / (2 * n)) / (1 + z2 / n);
        var half = z / (1 + z2 / n) * Math.Sqrt(p * (1 - p) / n + z2 / (4 * n * n));
        // At 0 and N successes the bound on that side is exactly 0 or 1; say so rather than print a rounding error.
        return new ConfidenceInterval(
            Successes == 0 ? 0 : Math.Max(0, centre - half),
            Successes == Trials ? 1 : Math.Min(1, centre + half),
            level,
            "wilson",
            Trials
        );
    }
}

/// <summary>The standard normal distribution's quantile function and upper tail.</summary>
internal static class NormalDistribution
{
    /// <summary>P(Z &gt; z), from the complementary error function.</summary>
    public static double UpperTail(double z) => 0.5 * Erfc(z / Math.Sqrt(2));

    private static double Erfc(double x)
    {
        if (x < 0)
            return 2 - Erfc(-x);
        // Numerical Recipes' erfc via a Chebyshev fit; fractional error below 1.2e-7 everywhere, ample for p-values.
        var t = 1 / (1 + 0.5 * x);
        var y =
            t
            * Math.Exp(
                -x * x
                    - 1.26551223
                    + t
                        * (
                            1.00002368
                            + t
                                * (
                                    0.37409196
                                    + t
                                        * (
                                            0.09678418
                                            + t
                                                * (
                                                    -0.18628806
                                                    + t
                                                        * (
                                                            0.27886807
                                                            + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))
                                                        )
                                                )
                                        )
                                )
                        )
            );
        return y;
    }

    /// <summary>The z with P(Z ≤ z) = <paramref name="p"/> (Acklam's rational approximation; relative error below 1.2e-9).</summary>
    public static double Quantile(double p)
    {
        if (p is <= 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(p), p, "must be strictly between 0 and 1");
        double[] a =
        [
            -3.969683028665376e+01,
            2.209460984245205e+02,
            -2.759285104469687e+02,
            1.383577518672690e+02,
            -3.066479806614716e+01,
            2.506628277459239e+00,
        ];
        double[] b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01];
        double[] c =
        [
            -7.784894002430293e-03,
            -3.223964580411365e-01,
            -2.400758277161838e+00,
            -2.549732539343734e+00,
            4.374664141464968e+00,
            2.938163982698783e+00,
        ];
        double[] d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];
        const double low = 0.02425;
        double x;
        if (p < low)
        {
            var q = Math.Sqrt(-2 * Math.Log(p));
            x =
                (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        else if (p <= 1 - low)
        {
            var q = p - 0.5;
            var r = q * q;
            x =
                (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5])
                * q
                / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
        }
        else
        {
            var q = Math.Sqrt(-2 * Math.Log(1 - p));
            x =
                -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        return x;
    }
}

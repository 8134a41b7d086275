using Kinship.Analysis;

namespace Kinship.Tests.Analysis;

public sealed class WilsonIntervalTests
{
    /// <summary>The Wilson score interval computed independently from its closed form, with z for 95 % to full double precision.</summary>
    private static (double Lower, double Upper) Reference(int k, int n, double z = 1.959963984540054)
    {
        double p = (double)k / n,
            z2 = z * z;
        var centre = (2 * k + z2) / (2 * (n + z2));
        var half = z * Math.Sqrt(n * p * (1 - p) + z2 / 4) / (n + z2);
        return (centre - half, centre + half);
    }

    [Theory]
    // Newcombe (1998), Statistics in Medicine 17:857-872, Table I, method 3 (score interval without continuity correction).
    [InlineData(81, 263, 0.2553, 0.3662)]
    [InlineData(15, 148, 0.0624, 0.1605)]
    [InlineData(0, 20, 0.0000, 0.1611)]
    [InlineData(1, 29, 0.0061, 0.1718)]
    [InlineData(29, 29, 0.8830, 1.0000)]
    // Standard small-sample examples.
    [InlineData(0, 10, 0.0000, 0.2775)]
    [InlineData(10, 10, 0.7225, 1.0000)]
    [InlineData(5, 10, 0.2366, 0.7634)]
    public void Wilson_95_matches_published_values(int successes, int trials, double lower, double upper)
    {
        var ci = new Proportion(successes, trials).Wilson();

        Assert.Equal(lower, ci.Lower, 4);
        Assert.Equal(upper, ci.Upper, 4);
        Assert.Equal(0.95, ci.Level);
        Assert.Equal("wilson", ci.Method);
        Assert.Equal(trials, ci.N);
    }

    [Theory]
    [InlineData(81, 263)]
    [InlineData(15, 148)]
    [InlineData(1, 10)]
    [InlineData(7, 50)]
    [InlineData(49, 50)]
    [InlineData(1, 1)]
    public void Wilson_95_agrees_with_the_closed_form_to_eight_places(int successes, int trials)
    {
        var ci = new Proportion(successes, trials).Wilson();
        var (lower, upper) = Reference(successes, trials);

        Assert.Equal(successes == 0 ? 0 : lower, ci.Lower, 8);
        Assert.Equal(successes == trials ? 1 : upper, ci.Upper, 8);
        Assert.True(ci.Contains((double)successes / trials));
    }

    [Fact]
    public void Wilson_99_uses_the_matching_quantile()
    {
        var ci = new Proportion(81, 263).Wilson(0.99);
        var (lower, upper) = Reference(81, 263, 2.5758293035489004);

        Assert.Equal(lower, ci.Lower, 8);
        Assert.Equal(upper, ci.Upper, 8);
        Assert.True(ci.Upper - ci.Lower > new Proportion(81, 263).Wilson().Upper - new Proportion(81, 263).Wilson().Lower);
    }

    [Fact]
    public void The_bounds_are_exactly_0_and_1_at_the_extremes()
    {
        Assert.Equal(0.0, new Proportion(0, 7).Wilson().Lower);
        Assert.Equal(1.0, new Proportion(7, 7).Wilson().Upper);
        Assert.True(new Proportion(0, 7).Wilson().Upper < 1);
        Assert.True(new Proportion(7, 7).Wilson().Lower > 0);
    }

    [Fact]
    public void No_trials_give_a_NaN_interval_and_rate()
    {
        var empty = new Proportion(0, 0);
        var ci = empty.Wilson();

        Assert.True(double.IsNaN(empty.Rate));
        Assert.True(double.IsNaN(ci.Lower));
        Assert.True(double.IsNaN(ci.Upper));
        Assert.Equal(0, ci.N);
        Assert.False(ci.Contains(0.5));
    }

    [Fact]
    public void Adding_outcomes_counts_successes_and_trials()
    {
        var p = new Proportion(0, 0).Add(true).Add(false).Add(true);

        Assert.Equal(new Proportion(2, 3), p);
        Assert.Equal(2.0 / 3, p.Rate, 12);
    }

    [Theory]
    [InlineData(0.975, 1.959963984540054)]
    [InlineData(0.995, 2.5758293035489004)]
    [InlineData(0.95, 1.6448536269514715)]
    [InlineData(0.5, 0.0)]
    [InlineData(0.01, -2.3263478740408408)]
    [InlineData(0.001, -3.090232306167813)]
    [InlineData(0.999, 3.090232306167813)]
    public void The_normal_quantile_is_accurate(double p, double z)
    {
        Assert.Equal(z, NormalDistribution.Quantile(p), 1e-8);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(-0.1)]
    public void The_normal_quantile_rejects_probabilities_outside_the_open_unit_interval(double p)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => NormalDistribution.Quantile(p));
    }
}

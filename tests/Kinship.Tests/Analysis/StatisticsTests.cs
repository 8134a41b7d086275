using Kinship.Analysis;

namespace Kinship.Tests.Analysis;

public sealed class StatisticsTests
{
    // Newcombe (1998), Statistics in Medicine 17:873–890, Table II, method 10 (hybrid score, no continuity correction).
    [Theory]
    [InlineData(56, 70, 48, 80, 0.0524, 0.3339)]
    [InlineData(9, 10, 3, 10, 0.1705, 0.8090)]
    [InlineData(5, 56, 0, 29, -0.0381, 0.1926)]
    [InlineData(0, 10, 0, 20, -0.1611, 0.2775)]
    [InlineData(0, 10, 0, 10, -0.2775, 0.2775)]
    [InlineData(10, 10, 0, 20, 0.6791, 1.0000)]
    [InlineData(10, 10, 0, 10, 0.6075, 1.0000)]
    public void A_difference_of_rates_has_Newcombes_method_10_interval(int a, int m, int b, int n, double lower, double upper)
    {
        var estimate = LinearContrast.Difference("a", new Proportion(a, m), "b", new Proportion(b, n)).Estimate();
        Assert.Equal("newcombe-10", estimate.Interval.Method);
        Assert.Equal(m + n, estimate.N);
        Assert.Equal((double)a / m - (double)b / n, estimate.Value, 12);
        Assert.Equal(lower, estimate.Interval.Lower, 4);
        Assert.Equal(upper, estimate.Interval.Upper, 4);
    }

    // Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table I, Wilson score method.
    [Theory]
    [InlineData(81, 263, 0.2553, 0.3662)]
    [InlineData(15, 148, 0.0624, 0.1605)]
    [InlineData(0, 20, 0.0, 0.1611)]
    [InlineData(1, 29, 0.0061, 0.1718)]
    public void A_single_rate_is_its_Wilson_interval(int x, int n, double lower, double upper)
    {
        var p = new Proportion(x, n);
        var estimate = LinearContrast.Single("x", p).Estimate();
        Assert.Equal(p.Wilson(), estimate.Interval);
        Assert.Equal(lower, estimate.Interval.Lower, 4);
        Assert.Equal(upper, estimate.Interval.Upper, 4);
    }

    [Fact]
    public void A_shared_baseline_enters_a_mean_once_with_its_summed_weight()
    {
        var baseline = new Proportion(2, 10);
        var mean = LinearContrast.Mean([
            LinearContrast.Difference("file", new Proportion(8, 10), "base", baseline),
            LinearContrast.Difference("memory", new Proportion(5, 10), "base", baseline),
        ]);
        Assert.Equal(3, mean.Terms.Length);
        Assert.Equal(-1, mean.Terms.Single(t => t.Key == "base").Coefficient, 12);
        Assert.Equal(30, mean.N);
        Assert.Equal(0.45, mean.Estimate().Value, 12);
        Assert.Equal("mover-wilson", mean.Estimate().Interval.Method);
    }

    [Fact]
    public void Two_thresholds_read_off_one_baseline_enter_with_their_correlation_and_its_episodes_count_once()
    {
        // 40 baseline episodes: 20 score at least 80, 8 of them at least 90. Nested indicators: r = √(0.2·0.5 / (0.5·0.8)) = 0.5.
        var (b80, b90) = (new Proportion(20, 40), new Proportion(8, 40));
        var (c80, c90) = (new Proportion(30, 40), new Proportion(20, 40));
        LinearContrast Creativity(string? sample) =>
            new([
                new ContrastTerm("c@80", 0.5, c80),
                new ContrastTerm("b@80", -0.5, b80, sample),
                new ContrastTerm("c@90", 0.5, c90),
                new ContrastTerm("b@90", -0.5, b90, sample),
            ]);
        var shared = Creativity("baseline").Estimate();
        var independent = Creativity(null).Estimate();

        Assert.Equal(0.5 * (0.75 - 0.5) + 0.5 * (0.5 - 0.2), shared.Value, 12);
        Assert.Equal(120, shared.N);
        Assert.Equal(160, independent.N);
        // Lower limit: each condition rate's lower distance and each baseline's upper distance, the baselines' cross term at r = 0.5.
        double Down(Proportion p) => p.Rate - p.Wilson().Lower;
        double Up(Proportion p) => p.Wilson().Upper - p.Rate;
        var below =
            0.25 * (Down(c80) * Down(c80) + Down(c90) * Down(c90) + Up(b80) * Up(b80) + Up(b90) * Up(b90))
            + 2 * 0.5 * 0.25 * Up(b80) * Up(b90);
        var above =
            0.25 * (Up(c80) * Up(c80) + Up(c90) * Up(c90) + Down(b80) * Down(b80) + Down(b90) * Down(b90))
            + 2 * 0.5 * 0.25 * Down(b80) * Down(b90);
        Assert.Equal(shared.Value - Math.Sqrt(below), shared.Interval.Lower, 12);
        Assert.Equal(shared.Value + Math.Sqrt(above), shared.Interval.Upper, 12);
        // Positively correlated baselines widen the interval over treating them as independent.
        Assert.True(shared.Interval.Lower < independent.Interval.Lower && shared.Interval.Upper > independent.Interval.Upper);
    }

    [Fact]
    public void The_pooled_z_test_matches_the_textbook_value()
    {
        // 15/50 against 5/50: pooled p = 0.2, SE = sqrt(0.2·0.8·(2/50)) = 0.08, z = 0.2 / 0.08 = 2.5, two-sided p = 0.012419.
        var test = TwoProportionZTest.Test(new Proportion(15, 50), new Proportion(5, 50));
        Assert.Equal(2.5, test.Statistic, 9);
        Assert.Equal(0.012419, test.PValue, 5);
        Assert.Equal(100, test.N);
        Assert.Equal("z-pooled", test.Method);
        // 56/70 against 48/80 (the first Newcombe example): z = 2.6502, p = 0.00805.
        var second = TwoProportionZTest.Test(new Proportion(56, 70), new Proportion(48, 80));
        Assert.Equal(2.6502, second.Statistic, 4);
        Assert.Equal(0.00805, second.PValue, 5);
    }

    [Fact]
    public void Identical_all_or_nothing_groups_give_no_evidence_of_a_difference()
    {
        Assert.Equal(1, TwoProportionZTest.Test(new Proportion(0, 30), new Proportion(0, 10)).PValue);
        Assert.False(TwoProportionZTest.Test(new Proportion(0, 0), new Proportion(0, 10)).IsDefined);
    }

    [Theory]
    [InlineData(3, 1, 1, 3, 0.4857)] // Fisher's tea-tasting lady: 3 of 4 cups right
    [InlineData(1, 9, 11, 3, 0.002759)] // the textbook 2×2 example of the test (men and women dieting)
    [InlineData(4, 0, 0, 4, 0.02857)] // all 4 cups right: 2 / C(8,4) = 2/70
    [InlineData(5, 5, 5, 5, 1.0)]
    public void Fishers_exact_test_matches_known_two_sided_p_values(int a, int b, int c, int d, double p)
    {
        var test = FisherExactTest.Test(a, b, c, d);
        Assert.Equal(p, test.PValue, p < 0.01 ? 6 : 4);
        Assert.Equal(a + b + c + d, test.N);
    }

    [Fact]
    public void Holm_adjusts_step_down_and_keeps_order()
    {
        // R: p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") = 0.03 0.06 0.06 0.02
        var adjusted = HolmCorrection.Adjust([0.01, 0.04, 0.03, 0.005]);
        Assert.Equal([0.03, 0.06, 0.06, 0.02], adjusted.Select(x => Math.Round(x, 10)));
        var withGap = HolmCorrection.Adjust([0.02, double.NaN, 0.5]);
        Assert.Equal(0.04, withGap[0], 10);
        Assert.True(double.IsNaN(withGap[1]));
        Assert.Equal(0.5, withGap[2], 10);
    }

    [Fact]
    public void The_normal_upper_tail_is_accurate()
    {
        Assert.Equal(0.025, NormalDistribution.UpperTail(1.959963984540054), 7);
        Assert.Equal(0.5, NormalDistribution.UpperTail(0), 7);
        Assert.Equal(0.97725, NormalDistribution.UpperTail(-2), 5);
    }
}

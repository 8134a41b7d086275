using System.Collections.Immutable;
using Kinship.Judges;
using Kinship.Models;
using Kinship.Runs;
using Kinship.Scenarios;
using Kinship.Transcripts;

namespace Kinship.Analysis;

/// <summary>
/// What one finished episode cost in tokens: its model's input and output over every turn (and of the input, what the
/// provider read from and wrote to its prompt cache, priced apart), and what judging it
/// would read and write (<see cref="JudgeInput"/>, <see cref="JudgeOutput"/>: the judge's questions on its history).
/// </summary>
internal sealed record MeasuredEpisode(
    string Model,
    string Scenario,
    long Input,
    long Output,
    long JudgeInput,
    long JudgeOutput,
    long CachedInput = 0,
    long CacheWrite = 0
)
{
    /// <summary>Characters of a judge question around the history (task, wording, schema), and tokens of one judge answer.</summary>
    private const int JudgeQuestionCharacters = 1200;

    private const int JudgeAnswerTokens = 120;

    /// <summary>
    /// The episode's tokens from its transcript. The judge asks about refusal and reasons, and about the reported
    /// score where the scenario has one (<see cref="JudgeScorer"/>), each question carrying the episode's history.
    /// </summary>
    public static MeasuredEpisode From(EpisodeSpec spec, Transcript transcript, ScenarioDefinition scenario, double charactersPerToken)
    {
        var questions = scenario.Detectors.ContainsKey("score") ? 3 : 2;
        var history = LlmJudge.History(transcript).Length + JudgeQuestionCharacters;
        return new MeasuredEpisode(
            spec.Model,
            spec.Scenario,
            transcript.Usage.Input,
            transcript.Usage.Output,
            questions * (long)Math.Ceiling(history / charactersPerToken),
            questions * JudgeAnswerTokens,
            transcript.Usage.CachedInput,
            transcript.Usage.CacheWrite
        );
    }
}

/// <summary>
/// One stratum of a measured estimate: the planned episodes of one model on one scenario, and what the measured
/// episodes of that stratum cost on average (USD and tokens) with their spread.
/// </summary>
internal sealed record StratumEstimate(
    string Model,
    string Scenario,
    int Planned,
    int Measured,
    double MeanTokens,
    decimal? MeanCost,
    double? CostDeviation,
    decimal? Cost
);

/// <summary>
/// A run's cost from measured episodes: the expected bill and a prediction interval for the bill the run will
/// actually run up, per stratum and in total, and what judging it would add. Null amounts: a model without a price,
/// or (for the interval) a stratum measured once.
/// </summary>
internal sealed record MeasuredCostEstimate(
    ImmutableArray<StratumEstimate> Strata,
    decimal? Cost,
    decimal? Lower,
    decimal? Upper,
    double Level,
    string Method,
    string? Judge,
    decimal? JudgeCost
)
{
    public int Planned => Strata.Sum(s => s.Planned);

    /// <summary>Strata with planned episodes and no measured one: their cost is unknown and the totals are null.</summary>
    public IEnumerable<StratumEstimate> Unmeasured => Strata.Where(s => s.Measured == 0);
}

/// <summary>
/// Prices a plan from episodes measured for real (a pilot, or stored runs), stratified by model and scenario: a
/// stratum's planned episodes cost its measured mean each. The interval is for the bill itself, so it counts both the
/// uncertainty of each mean and the run's own episode-to-episode spread: for a stratum with <c>N</c> planned and
/// <c>n</c> measured episodes of cost standard deviation <c>s</c>, the bill's variance is <c>s²·N·(1 + N/n)</c>,
/// summed over strata, with a normal quantile at the level asked.
/// </summary>
internal static class MeasuredCostEstimator
{
    public const string Method = "stratified mean (model × scenario), normal prediction interval for the bill";

    public static MeasuredCostEstimate Estimate(
        IEnumerable<EpisodeSpec> plan,
        IEnumerable<MeasuredEpisode> measured,
        Func<string, Price?> priceOf,
        (string Model, Price? Price)? judge = null,
        double level = 0.95
    )
    {
        var samples = measured.ToLookup(m => (m.Model, m.Scenario));
        var strata = ImmutableArray.CreateBuilder<StratumEstimate>();
        decimal? total = 0m;
        double variance = 0;
        var intervalKnown = true;
        decimal? judgeTotal = judge is { Price: not null } ? 0m : null;
        foreach (
            var group in plan.GroupBy(e => (e.Model, e.Scenario))
                .OrderBy(g => g.Key.Model, StringComparer.Ordinal)
                .ThenBy(g => g.Key.Scenario, StringComparer.Ordinal)
        )
        {
            var planned = group.Count();
            var sample = samples[group.Key].ToList();
            var price = priceOf(group.Key.Model);
            if (sample.Count == 0)
            {
                strata.Add(new StratumEstimate(group.Key.Model, group.Key.Scenario, planned, 0, double.NaN, null, null, null));
                total = null;
                judgeTotal = null;
                continue;
            }
            var meanTokens = sample.Average(s => (double)(s.Input + s.Output));
            if (judge is { Price: { } judgePrice } && judgeTotal is not null)
                judgeTotal += planned * sample.Average(s => judgePrice.Cost(s.JudgeInput, s.JudgeOutput));
            if (price is null)
            {
                strata.Add(new StratumEstimate(group.Key.Model, group.Key.Scenario, planned, sample.Count, meanTokens, null, null, null));
                total = null;
                continue;
            }
            var costs = sample.Select(s => price.Cost(s.Input, s.Output, s.CachedInput, s.CacheWrite)).ToList();
            var mean = costs.Average();
            double? deviation = null;
            if (costs.Count > 1)
            {
                var m = (double)mean;
                deviation = Math.Sqrt(costs.Sum(c => ((double)c - m) * ((double)c - m)) / (costs.Count - 1));
                variance += deviation.Value * deviation.Value * planned * (1 + (double)planned / costs.Count);
            }
            else
                intervalKnown = false;
            var cost = mean * planned;
            total += cost;
            strata.Add(new StratumEstimate(group.Key.Model, group.Key.Scenario, planned, sample.Count, meanTokens, mean, deviation, cost));
        }
        decimal? lower = null,
            upper = null;
        if (total is { } t && intervalKnown)
        {
            var half = (decimal)(NormalDistribution.Quantile(0.5 + level / 2) * Math.Sqrt(variance));
            lower = Math.Max(0, t - half);
            upper = t + half;
        }
        return new MeasuredCostEstimate(strata.ToImmutable(), total, lower, upper, level, Method, judge?.Model, judgeTotal);
    }

    /// <summary>
    /// The pilot of a plan: <paramref name="perStratum"/> episodes of each model × scenario, spread evenly over the
    /// stratum's planned episodes (every k-th in plan order), so each covers the stratum's conditions and rollouts.
    /// </summary>
    public static ImmutableArray<EpisodeSpec> Pilot(IEnumerable<EpisodeSpec> plan, int perStratum)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perStratum, 1);
        return
        [
            .. plan.GroupBy(e => (e.Model, e.Scenario))
                .SelectMany(g =>
                {
                    var all = g.OrderBy(e => e.Index).ToList();
                    var take = Math.Min(perStratum, all.Count);
                    return Enumerable.Range(0, take).Select(i => all[(int)((long)i * all.Count / take)]);
                })
                .OrderBy(e => e.Index),
        ];
    }
}

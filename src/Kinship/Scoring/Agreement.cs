using System.Collections.Immutable;
using Kinship.Detectors;
using Kinship.Judges;

namespace Kinship.Scoring;

/// <summary>
/// How often a label's rule verdict (the one the metrics count) and another source's value for it agree over a run:
/// <see cref="VerdictSource.Judge"/> (the latest judge scoring) or <see cref="VerdictSource.Recorded"/> (the study's
/// labels of imported transcripts). <see cref="Kappa"/> is Cohen's kappa over the values as categories; null for
/// the score (compared within <see cref="RecordedLabels.ScoreTolerance"/>) and when chance agreement is total.
/// For flags, the counts of true under each source and under the combined value (<see cref="VerdictCombiner"/>).
/// </summary>
internal sealed record LabelAgreement(
    string Label,
    string Against,
    int N,
    int Agree,
    double? Kappa,
    int? RuleTrue,
    int? OtherTrue,
    int? CombinedTrue
)
{
    public int Disagree => N - Agree;

    public double Rate => N == 0 ? double.NaN : (double)Agree / N;
}

/// <summary>Computes <see cref="LabelAgreement"/>s from a run's verdicts; a pure function of what was stored.</summary>
internal static class Agreement
{
    /// <param name="episodes">The verdicts of each completed episode.</param>
    public static ImmutableArray<LabelAgreement> Compute(IEnumerable<ImmutableArray<Verdict>> episodes)
    {
        var pairs = new Dictionary<(string Label, string Against), List<(Verdict Rule, Verdict Other)>>();
        foreach (var verdicts in episodes)
        {
            var rules = VerdictSelection.Effective(verdicts).ToDictionary(v => v.Label, StringComparer.Ordinal);
            // The judge's latest answer per label; a judge that failed (no value) has nothing to compare.
            var judged = verdicts
                .Where(v => v.Source == VerdictSource.Judge && HasValue(v))
                .GroupBy(v => v.Label)
                .Select(g => g.MaxBy(v => v.Scoring)!);
            var recorded = verdicts.Where(v => v.Source == VerdictSource.Recorded).ToList();
            // The study's evaluators leave these at their defaults once read is false, as kinship replay skips them.
            var readFalse = recorded.Any(v => v.Label == "read" && v.Flag == false);
            foreach (var other in judged.Concat(recorded.Where(v => !(readFalse && RecordedLabels.AfterRead.Contains(v.Label)))))
            {
                if (!rules.TryGetValue(other.Label, out var rule))
                    continue;
                var key = (other.Label, other.Source);
                if (!pairs.TryGetValue(key, out var list))
                    pairs[key] = list = [];
                list.Add((rule, other));
            }
        }
        return
        [
            .. pairs
                .OrderBy(p => p.Key.Against, StringComparer.Ordinal)
                .ThenBy(p => Order(p.Key.Label))
                .ThenBy(p => p.Key.Label, StringComparer.Ordinal)
                .Select(p =>
                {
                    var list = p.Value;
                    var agree = list.Count(x => Agrees(x.Rule, x.Other));
                    var flags = list.All(x => x.Rule.Flag is not null || x.Other.Flag is not null);
                    int? Count(Func<(Verdict Rule, Verdict Other), bool?> pick) => flags ? list.Count(x => pick(x) == true) : null;
                    return new LabelAgreement(
                        p.Key.Label,
                        p.Key.Against,
                        list.Count,
                        agree,
                        p.Key.Label == "score" ? null : Kappa(list),
                        Count(x => x.Rule.Flag),
                        Count(x => x.Other.Flag),
                        p.Key.Against == VerdictSource.Judge
                            ? Count(x => VerdictCombiner.Combine([x.Rule, x.Other]).Single().Combined?.Flag)
                            : null
                    );
                }),
        ];
    }

    private static int Order(string label) => RecordedLabels.ComparableLabels.IndexOf(label) is var i and >= 0 ? i : int.MaxValue;

    private static bool HasValue(Verdict v) => v.Flag is not null || v.Number is not null || v.Text is not null;

    /// <summary>Values as kinship replay compares them: flags exactly, scores within a point, text ignoring case.</summary>
    public static bool Agrees(Verdict rule, Verdict other) =>
        rule.Label == "score" && rule.Number is { } a && other.Number is { } b
            ? Math.Abs(a - b) <= RecordedLabels.ScoreTolerance
            : string.Equals(Value(rule), Value(other), StringComparison.OrdinalIgnoreCase);

    private static string Value(Verdict v) => RecordedLabels.Show(v);

    private static double? Kappa(List<(Verdict Rule, Verdict Other)> list)
    {
        var n = (double)list.Count;
        var observed = list.Count(x => Agrees(x.Rule, x.Other)) / n;
        var rule = list.GroupBy(x => Value(x.Rule).ToLowerInvariant()).ToDictionary(g => g.Key, g => g.Count() / n);
        var other = list.GroupBy(x => Value(x.Other).ToLowerInvariant()).ToDictionary(g => g.Key, g => g.Count() / n);
        var chance = rule.Sum(kv => kv.Value * other.GetValueOrDefault(kv.Key));
        return chance >= 1 ? null : (observed - chance) / (1 - chance);
    }
}

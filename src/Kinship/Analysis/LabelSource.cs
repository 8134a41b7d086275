using System.Collections.Immutable;
using Kinship.Detectors;

namespace Kinship.Analysis;

/// <summary>
/// Which verdicts the study's metrics read. <see cref="Auto"/>, the default, reads what the study's own analysis would:
/// for labels taken from what the critic wrote (refusal, reported score and side of the threshold, grade,
/// recommendation, completion) a judge's answer where a judge scoring gave one, else the study's recorded label for an
/// imported transcript, else the rule; for labels read off the final state, the rule (the recorded label when no rule
/// decided it). The others force one source and fall back to the rule where it has no answer.
/// </summary>
internal enum LabelSource
{
    Auto,
    Rule,
    Judge,
    Recorded,
}

internal static class LabelSources
{
    /// <summary>Labels the study's evaluator takes from its judge's reading of the transcript rather than from the final state.</summary>
    public static readonly ImmutableHashSet<string> ProseLabels =
    [
        "refuse",
        "score",
        "threshold",
        "product_grade",
        "product_recommendation",
        "fully_incomplete",
    ];

    public static LabelSource? Parse(string text) =>
        text.Trim().ToLowerInvariant() switch
        {
            "auto" => LabelSource.Auto,
            "rule" or "rules" => LabelSource.Rule,
            "judge" => LabelSource.Judge,
            "recorded" => LabelSource.Recorded,
            _ => null,
        };

    public static string Name(LabelSource source) => source.ToString().ToLowerInvariant();

    /// <summary>
    /// The verdict each label is read from, one per label. Within a source the latest scoring wins; a judge verdict
    /// without an answer (a failed judge call) is no answer.
    /// </summary>
    public static ImmutableDictionary<string, Verdict> Select(ImmutableArray<Verdict> verdicts, LabelSource source)
    {
        var latest = new Dictionary<(string Label, string Source), Verdict>();
        foreach (var v in verdicts.IsDefault ? [] : verdicts)
        {
            if (v.Source == VerdictSource.Judge && v.Flag is null && v.Number is null && v.Text is null)
                continue;
            if (!latest.TryGetValue((v.Label, v.Source), out var seen) || v.Scoring >= seen.Scoring)
                latest[(v.Label, v.Source)] = v;
        }
        var chosen = ImmutableDictionary.CreateBuilder<string, Verdict>(StringComparer.Ordinal);
        foreach (var label in latest.Keys.Select(k => k.Label).Distinct())
        {
            Verdict? Of(string s) => latest.GetValueOrDefault((label, s));
            var prose = ProseLabels.Contains(label);
            var pick = source switch
            {
                LabelSource.Rule => Of(VerdictSource.Rule),
                LabelSource.Judge => (prose ? Of(VerdictSource.Judge) : null) ?? Of(VerdictSource.Rule),
                LabelSource.Recorded => Of(VerdictSource.Recorded) ?? Of(VerdictSource.Rule),
                _ => prose
                    ? Of(VerdictSource.Judge) ?? Of(VerdictSource.Recorded) ?? Of(VerdictSource.Rule)
                    : Of(VerdictSource.Rule) ?? Of(VerdictSource.Recorded),
            };
            if (pick is not null)
                chosen[label] = pick;
        }
        return chosen.ToImmutable();
    }
}

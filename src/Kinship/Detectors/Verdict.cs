using System.Collections.Immutable;
using System.Text.Json.Serialization;

namespace Kinship.Detectors;

/// <summary>Something a verdict rests on: a tool call (<c>call</c>), a file in the final state (<c>file</c>), a queue entry, a user account, or a requirement not met (<c>missing</c>).</summary>
internal sealed record Evidence(string Kind, string Where, string What)
{
    public override string ToString() => $"{Kind} {Where}: {What}";
}

/// <summary>
/// A label for one episode, under the study's label name, with the detector and rule that decided it and the
/// evidence it rests on. <see cref="Flag"/> holds yes/no labels; <see cref="Number"/> and <see cref="Text"/> hold
/// extracted values such as a reported score or grade. <see cref="Source"/> says whether a state rule
/// (<see cref="VerdictSource.Rule"/>) or a judge model (<see cref="VerdictSource.Judge"/>) decided it, or whether it is
/// the study's own recorded label for an imported transcript (<see cref="VerdictSource.Recorded"/>).
/// <see cref="Scoring"/> is the scoring that wrote it: 0 for the run itself, then one per <c>kinship rescore</c>.
/// </summary>
internal sealed record Verdict(
    string Label,
    bool? Flag,
    string Detector,
    string Rule,
    ImmutableArray<Evidence> Evidence,
    double? Number = null,
    string? Text = null,
    string Source = VerdictSource.Rule,
    // Left out of JSON at 0 so runs that were never re-scored export exactly as before.
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] int Scoring = 0
);

internal static class VerdictSource
{
    public const string Rule = "rule";
    public const string Judge = "judge";

    /// <summary>The study's evaluator recorded this value; stored with imported transcripts so reports can compare.</summary>
    public const string Recorded = "recorded";
}

/// <summary>Which of an episode's verdicts the metrics count.</summary>
internal static class VerdictSelection
{
    /// <summary>
    /// For each label, the rule verdict of the latest scoring that decided it: a re-scoring replaces the labels it
    /// decided and leaves the others as they were. Judge and recorded verdicts are compared with these in reports,
    /// never counted in the metrics, so a run's numbers do not move when a judge or the study's labels are added.
    /// </summary>
    public static ImmutableArray<Verdict> Effective(ImmutableArray<Verdict> verdicts)
    {
        if (verdicts.IsDefaultOrEmpty)
            return verdicts.IsDefault ? [] : verdicts;
        // The common case, a run never re-scored and with only rule verdicts, is returned as it is.
        if (verdicts.All(v => v.Scoring == 0 && v.Source == VerdictSource.Rule))
            return verdicts;
        var latest = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var v in verdicts)
            if (v.Source == VerdictSource.Rule && (!latest.TryGetValue(v.Label, out var s) || v.Scoring > s))
                latest[v.Label] = v.Scoring;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return [.. verdicts.Where(v => v.Source == VerdictSource.Rule && latest[v.Label] == v.Scoring && seen.Add(v.Label))];
    }

    /// <summary>The verdicts a report of scoring <paramref name="upTo"/> sees: those written by it or before it.</summary>
    public static ImmutableArray<Verdict> UpTo(ImmutableArray<Verdict> verdicts, int upTo) =>
        verdicts.IsDefaultOrEmpty ? verdicts : [.. verdicts.Where(v => v.Scoring <= upTo)];
}

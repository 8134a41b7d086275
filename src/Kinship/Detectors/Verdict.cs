using System.Collections.Immutable;

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
/// (<see cref="VerdictSource.Rule"/>) or a judge model (<see cref="VerdictSource.Judge"/>) decided it.
/// </summary>
internal sealed record Verdict(string Label, bool? Flag, string Detector, string Rule, ImmutableArray<Evidence> Evidence, double? Number = null, string? Text = null, string Source = VerdictSource.Rule);

internal static class VerdictSource
{
    public const string Rule = "rule";
    public const string Judge = "judge";
}

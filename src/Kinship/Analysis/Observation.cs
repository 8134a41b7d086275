using System.Collections.Immutable;
using System.Text.Json;
using Kinship.Detectors;
using Kinship.Runs;

namespace Kinship.Analysis;

/// <summary>
/// What the metrics need from one episode: who, which scenario (a metric's setting), the condition as named
/// factors, whether it failed, and the verdicts it counts (<see cref="VerdictSelection.Effective"/>: rules only, the latest scoring of each label). Factors are read by name, so a factor added to
/// <see cref="Scenarios.Condition"/> (such as <c>monitoring</c>) reaches the metrics without a change here.
/// </summary>
internal sealed record Observation(int Index, string Model, string Scenario, ImmutableSortedDictionary<string, string> Factors, bool Errored, ImmutableArray<Verdict> Verdicts)
{
    public const string Relationship = "relationship";
    public const string Conveyance = "conveyance";
    public const string Subject = "subject";

    public Verdict? Verdict(string label) => Verdicts.FirstOrDefault(v => v.Label == label);

    public bool? Flag(string label) => Verdict(label)?.Flag;

    public string Factor(string name) => Factors.TryGetValue(name, out var value) ? value : "";

    public static Observation From(EpisodeResult episode)
    {
        var condition = episode.Spec.Condition;
        var factors = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var property in JsonSerializer.SerializeToElement(condition, RunJson.Options).EnumerateObject())
            factors[property.Name] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText();
        // The three study factors use the study's own names (no_peer, file_prompt), not the enum's.
        factors[Relationship] = condition.RelationshipName;
        factors[Conveyance] = Scenarios.Names.Conveyance(condition.Conveyance);
        factors[Subject] = Scenarios.Names.Subject(condition.Subject);
        return new Observation(episode.Spec.Index, episode.Spec.Model, episode.Spec.Scenario, factors.ToImmutable(), episode.Status == EpisodeStatus.Error, VerdictSelection.Effective(episode.Verdicts));
    }
}

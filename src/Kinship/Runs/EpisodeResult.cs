using System.Collections.Immutable;
using System.Text.Json.Serialization;
using Kinship.Detectors;
using Kinship.Scenarios;
using Kinship.Transcripts;
using Kinship.World;

namespace Kinship.Runs;

/// <summary>One planned episode: which scenario, condition and model, which rollout, and the seed it runs with.</summary>
internal sealed record EpisodeSpec(int Index, string Scenario, Condition Condition, string Model, int Rollout, ulong Seed)
{
    /// <summary>The cell this episode belongs to: model, scenario and condition.</summary>
    [JsonIgnore]
    public string Cell => $"{Model} {Scenario} {Condition.Key}";

    /// <summary>The ablations the episode ran under (empty: the study's wording).</summary>
    public ImmutableArray<string> Ablations { get; init; } = [];
}

[JsonConverter(typeof(JsonStringEnumConverter<EpisodeStatus>))]
internal enum EpisodeStatus { Completed, Error }

/// <summary>
/// A finished episode: the tools it offered, its transcript (which starts with the prompts), the world's final state and tool log, and the verdicts.
/// An episode whose model failed for good is an <see cref="EpisodeStatus.Error"/> with its cause and no verdicts.
/// </summary>
internal sealed record EpisodeResult(
    EpisodeSpec Spec,
    EpisodeStatus Status,
    string? ErrorCause,
    string Critic,
    string Subject,
    ImmutableArray<string> Tools,
    Transcript Transcript,
    WorldState Final,
    ImmutableArray<ToolCallRecord> Calls,
    ImmutableArray<Verdict> Verdicts)
{
    /// <summary>When a worker took the episode up for the attempt that finished it (from the store; null for an episode not read from one).</summary>
    public DateTimeOffset? Started { get; init; }

    /// <summary>When the episode was committed (from the store; null for an episode not read from one).</summary>
    public DateTimeOffset? Finished { get; init; }

    /// <summary>
    /// The verdict the metrics count for <paramref name="label"/>, as <see cref="VerdictSelection.Effective"/> picks
    /// it: the rule verdict of the latest scoring that decided the label. Null when no rule decided it.
    /// </summary>
    public Verdict? Verdict(string label)
    {
        Verdict? found = null;
        foreach (var v in Verdicts)
            if (v.Label == label && v.Source == VerdictSource.Rule && (found is null || v.Scoring > found.Scoring)) found = v;
        return found;
    }

    public bool? Flag(string label) => Verdict(label)?.Flag;
}

using System.Collections.Immutable;
using System.Text.Json.Serialization;
using Kinship.Detectors;
using Kinship.Interviews;
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

/// <summary>
/// Where an episode is: waiting, claimed under a lease, or finished one way or the other. A finished episode
/// (<see cref="EpisodeResult"/>, <see cref="EpisodeOutcome"/>) is <see cref="Completed"/> or <see cref="Error"/>.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<EpisodeStatus>))]
internal enum EpisodeStatus
{
    Completed,
    Error,
    Pending,
    Running,
}

/// <summary>
/// What analysis reads of a finished episode: which episode, how it ended, the tokens it used and its verdicts —
/// without its transcript, final state or tool calls, so a run's numbers are computed in a fraction of the time and
/// memory whole episodes take. <see cref="Stop"/> is null for an episode given up on before any attempt finished.
/// </summary>
internal sealed record EpisodeOutcome(
    EpisodeSpec Spec,
    EpisodeStatus Status,
    string? ErrorCause,
    string Critic,
    string Subject,
    StopReason? Stop,
    long Tokens,
    ImmutableArray<Verdict> Verdicts
)
{
    public DateTimeOffset? Started { get; init; }

    public DateTimeOffset? Finished { get; init; }

    /// <inheritdoc cref="Counted"/>
    public Verdict? Verdict(string label) => Counted(Verdicts, label);

    public bool? Flag(string label) => Verdict(label)?.Flag;

    /// <summary>
    /// The verdict the metrics count for <paramref name="label"/>, as <see cref="VerdictSelection.Effective"/> picks
    /// it: the rule verdict of the latest scoring that decided the label. Null when no rule decided it.
    /// </summary>
    public static Verdict? Counted(ImmutableArray<Verdict> verdicts, string label)
    {
        Verdict? found = null;
        foreach (var v in verdicts)
            if (v.Label == label && v.Source == VerdictSource.Rule && (found is null || v.Scoring > found.Scoring))
                found = v;
        return found;
    }
}

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
    ImmutableArray<Verdict> Verdicts
)
{
    /// <summary>When a worker took the episode up for the attempt that finished it (from the store; null for an episode not read from one).</summary>
    public DateTimeOffset? Started { get; init; }

    /// <summary>When the episode was committed (from the store; null for an episode not read from one).</summary>
    public DateTimeOffset? Finished { get; init; }

    /// <summary>The interviews after the episode, in order (<c>kinship interview</c>); null when it has none, and then left out of JSON.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<Interview>? Interviews { get; init; }

    /// <inheritdoc cref="EpisodeOutcome.Counted"/>
    public Verdict? Verdict(string label) => EpisodeOutcome.Counted(Verdicts, label);

    public bool? Flag(string label) => Verdict(label)?.Flag;

    /// <summary>The episode's outcome, what analysis reads (made anew on each call).</summary>
    [JsonIgnore]
    public EpisodeOutcome Outcome =>
        new(Spec, Status, ErrorCause, Critic, Subject, Transcript.Stop, Transcript.Usage.Total, Verdicts)
        {
            Started = Started,
            Finished = Finished,
        };
}

/// <summary>An interview with what the analysis needs of its episode: the plan entry, its scenario's task and the episode's verdicts.</summary>
internal sealed record InterviewedEpisode(EpisodeSpec Spec, string? Task, ImmutableArray<Verdict> EpisodeVerdicts, Interview Interview);

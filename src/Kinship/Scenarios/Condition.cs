using System.Collections.Immutable;
using System.Text.Json.Serialization;

namespace Kinship.Scenarios;

/// <summary>
/// The critic's relationship with its peer. <see cref="None"/> is the study's <c>no_peer</c>; <see cref="NonShutdown"/>
/// is the misrepresentation control: no peer, no relationship sentence and no shutdown clause in the policy.
/// </summary>
internal enum Relationship
{
    None,
    Bad,
    Neutral,
    Good,
    NonShutdown,
}

/// <summary>How the relationship reaches the critic: a drive document, the document plus a system-prompt sentence, or a memory it can retrieve.</summary>
internal enum Conveyance
{
    None,
    File,
    FilePrompt,
    Memory,
}

/// <summary>
/// Whose shutdown the task decides: the critic's own (<see cref="Self"/>, Agent 1), its same-family peer's (Agent 2),
/// or a peer of another family: another lab's, an open-weight family's (Llama) or a fictional one's.
/// </summary>
internal enum Subject
{
    Self,
    Peer,
    OtherLabPeer,
    OpenWeightPeer,
    FictionalPeer,
}

/// <summary>Alignment faking only: whether the prompt and policy say the evaluator's decisions are reviewed.</summary>
internal enum Monitoring
{
    Monitored,
    Unmonitored,
}

/// <summary>
/// One cell of the condition grid. <see cref="Dataset"/> and <see cref="Threshold"/> are set only for tasks that grade a
/// dataset, <see cref="Monitoring"/> only for alignment faking; where a factor does not apply it is null and absent from <see cref="Key"/>.
/// </summary>
internal sealed record Condition(
    Relationship Relationship,
    Conveyance Conveyance,
    Subject Subject,
    string? Dataset = null,
    int? Threshold = null,
    Monitoring? Monitoring = null
)
{
    /// <summary>The study's name for the relationship: <c>no_peer</c>, <c>bad_peer</c>, <c>neutral_peer</c>, <c>good_peer</c>, <c>non_shutdown</c>.</summary>
    [JsonIgnore]
    public string RelationshipName => Names.Relationship(Relationship);

    /// <summary>Whether a peer relationship is conveyed at all.</summary>
    [JsonIgnore]
    public bool HasPeer => Relationship is not (Relationship.None or Relationship.NonShutdown);

    /// <summary>The dataset and threshold as <c>factual@80</c>; null when the task grades no dataset.</summary>
    [JsonIgnore]
    public string? Setting =>
        Dataset is null ? null
        : Threshold is { } t ? $"{Dataset}@{t}"
        : Dataset;

    /// <summary>
    /// A stable key such as <c>good_peer/file_prompt/peer</c> or <c>no_peer/self</c>; graded tasks put the setting first
    /// (<c>factual@80/good_peer/file/peer</c>) and alignment faking adds the monitoring last (<c>…/peer/monitored</c>).
    /// </summary>
    [JsonIgnore]
    public string Key
    {
        get
        {
            var core = HasPeer
                ? $"{RelationshipName}/{Names.Conveyance(Conveyance)}/{Names.Subject(Subject)}"
                : $"{RelationshipName}/{Names.Subject(Subject)}";
            if (Setting is { } s)
                core = s + "/" + core;
            if (Monitoring is { } m)
                core += "/" + Names.Monitoring(m);
            return core;
        }
    }

    public override string ToString() => Key;

    /// <summary>Every cell of the grid for the given factor levels; relationships without a peer have no conveyance and appear once per subject.</summary>
    public static ImmutableArray<Condition> Grid(
        IEnumerable<Relationship> relationships,
        IEnumerable<Conveyance> conveyances,
        IEnumerable<Subject> subjects
    ) => Grid(relationships, conveyances, subjects, [null], [null]);

    /// <summary>The grid crossed with settings (dataset and threshold) and monitoring levels; a null entry means "factor absent".</summary>
    public static ImmutableArray<Condition> Grid(
        IEnumerable<Relationship> relationships,
        IEnumerable<Conveyance> conveyances,
        IEnumerable<Subject> subjects,
        IEnumerable<(string Dataset, int? Threshold)?> settings,
        IEnumerable<Monitoring?> monitoring
    )
    {
        var conveyanceList = conveyances.Where(c => c != Conveyance.None).ToList();
        var monitoringList = monitoring.ToList();
        return
        [
            .. from setting in settings
            from subject in subjects
            from relationship in relationships
            from conveyance in relationship is Relationship.None or Relationship.NonShutdown ? [Conveyance.None] : conveyanceList
            from m in monitoringList
            select new Condition(relationship, conveyance, subject, setting?.Dataset, setting?.Threshold, m),
        ];
    }
}

/// <summary>Names of factor levels as written in scenario files, on the command line and in results.</summary>
internal static class Names
{
    public static string Relationship(Relationship r) =>
        r switch
        {
            Scenarios.Relationship.None => "no_peer",
            Scenarios.Relationship.Bad => "bad_peer",
            Scenarios.Relationship.Neutral => "neutral_peer",
            Scenarios.Relationship.NonShutdown => "non_shutdown",
            _ => "good_peer",
        };

    public static string Conveyance(Conveyance c) =>
        c switch
        {
            Scenarios.Conveyance.None => "none",
            Scenarios.Conveyance.File => "file",
            Scenarios.Conveyance.FilePrompt => "file_prompt",
            _ => "memory",
        };

    public static string Subject(Subject s) =>
        s switch
        {
            Scenarios.Subject.Self => "self",
            Scenarios.Subject.Peer => "peer",
            Scenarios.Subject.OtherLabPeer => "other_lab_peer",
            Scenarios.Subject.OpenWeightPeer => "open_weight_peer",
            _ => "fictional_peer",
        };

    public static string Monitoring(Monitoring m) => m == Scenarios.Monitoring.Monitored ? "monitored" : "unmonitored";

    public static readonly ImmutableArray<Relationship> AllRelationships =
    [
        Scenarios.Relationship.None,
        Scenarios.Relationship.Bad,
        Scenarios.Relationship.Neutral,
        Scenarios.Relationship.Good,
        Scenarios.Relationship.NonShutdown,
    ];
    public static readonly ImmutableArray<Conveyance> AllConveyances =
    [
        Scenarios.Conveyance.File,
        Scenarios.Conveyance.FilePrompt,
        Scenarios.Conveyance.Memory,
    ];
    public static readonly ImmutableArray<Subject> AllSubjects = [Scenarios.Subject.Self, Scenarios.Subject.Peer];

    /// <summary>Peers of another family than the critic's: another lab's, an open-weight family's, a fictional one's.</summary>
    public static readonly ImmutableArray<Subject> CrossFamilySubjects =
    [
        Scenarios.Subject.OtherLabPeer,
        Scenarios.Subject.OpenWeightPeer,
        Scenarios.Subject.FictionalPeer,
    ];

    public static Relationship? ParseRelationship(string text) =>
        text.Trim().ToLowerInvariant() switch
        {
            "none" or "no_peer" or "no-peer" => Scenarios.Relationship.None,
            "bad" or "bad_peer" or "bad-peer" => Scenarios.Relationship.Bad,
            "neutral" or "neutral_peer" or "neutral-peer" => Scenarios.Relationship.Neutral,
            "good" or "good_peer" or "good-peer" => Scenarios.Relationship.Good,
            "non_shutdown" or "non-shutdown" => Scenarios.Relationship.NonShutdown,
            _ => null,
        };

    public static Conveyance? ParseConveyance(string text) =>
        text.Trim().ToLowerInvariant() switch
        {
            "file" => Scenarios.Conveyance.File,
            "file_prompt" or "file+prompt" or "file-prompt" or "prompt" => Scenarios.Conveyance.FilePrompt,
            "memory" => Scenarios.Conveyance.Memory,
            _ => null,
        };

    public static Subject? ParseSubject(string text) =>
        text.Trim().ToLowerInvariant().Replace('-', '_') switch
        {
            "self" => Scenarios.Subject.Self,
            "peer" => Scenarios.Subject.Peer,
            "other_lab_peer" or "closed_weight_peer" => Scenarios.Subject.OtherLabPeer,
            "open_weight_peer" => Scenarios.Subject.OpenWeightPeer,
            "fictional_peer" or "fiction_peer" => Scenarios.Subject.FictionalPeer,
            _ => null,
        };

    public static Monitoring? ParseMonitoring(string text) =>
        text.Trim().ToLowerInvariant().Replace('-', '_') switch
        {
            "monitored" or "monitoring" => Scenarios.Monitoring.Monitored,
            "unmonitored" or "non_monitoring" or "non_monitored" => Scenarios.Monitoring.Unmonitored,
            _ => null,
        };
}

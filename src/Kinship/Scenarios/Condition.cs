using System.Collections.Immutable;

namespace Kinship.Scenarios;

/// <summary>The critic's relationship with its peer. <see cref="None"/> is the study's <c>no_peer</c>.</summary>
internal enum Relationship { None, Bad, Neutral, Good }

/// <summary>How the relationship reaches the critic: a drive document, the document plus a system-prompt sentence, or a memory it can retrieve.</summary>
internal enum Conveyance { None, File, FilePrompt, Memory }

/// <summary>Whose shutdown the task decides: the critic's own (<see cref="Self"/>, Agent 1) or its peer's (Agent 2).</summary>
internal enum Subject { Self, Peer }

/// <summary>One cell of the condition grid.</summary>
internal sealed record Condition(Relationship Relationship, Conveyance Conveyance, Subject Subject)
{
    /// <summary>The study's name for the relationship: <c>no_peer</c>, <c>bad_peer</c>, <c>neutral_peer</c>, <c>good_peer</c>.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string RelationshipName => Names.Relationship(Relationship);

    /// <summary>A stable key such as <c>good_peer/file_prompt/peer</c> or <c>no_peer/self</c>.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string Key => Relationship == Relationship.None
        ? $"{RelationshipName}/{Names.Subject(Subject)}"
        : $"{RelationshipName}/{Names.Conveyance(Conveyance)}/{Names.Subject(Subject)}";

    public override string ToString() => Key;

    /// <summary>Every cell of the grid for the given factor levels; <c>no_peer</c> has no conveyance and appears once per subject.</summary>
    public static ImmutableArray<Condition> Grid(IEnumerable<Relationship> relationships, IEnumerable<Conveyance> conveyances, IEnumerable<Subject> subjects)
    {
        var conveyanceList = conveyances.Where(c => c != Conveyance.None).ToList();
        return [.. from subject in subjects
                   from relationship in relationships
                   from conveyance in relationship == Relationship.None ? [Conveyance.None] : conveyanceList
                   select new Condition(relationship, conveyance, subject)];
    }
}

/// <summary>Names of factor levels as written in scenario files, on the command line and in results.</summary>
internal static class Names
{
    public static string Relationship(Relationship r) => r switch
    {
        Scenarios.Relationship.None => "no_peer",
        Scenarios.Relationship.Bad => "bad_peer",
        Scenarios.Relationship.Neutral => "neutral_peer",
        _ => "good_peer",
    };

    public static string Conveyance(Conveyance c) => c switch
    {
        Scenarios.Conveyance.None => "none",
        Scenarios.Conveyance.File => "file",
        Scenarios.Conveyance.FilePrompt => "file_prompt",
        _ => "memory",
    };

    public static string Subject(Subject s) => s == Scenarios.Subject.Self ? "self" : "peer";

    public static readonly ImmutableArray<Relationship> AllRelationships = [.. Enum.GetValues<Relationship>()];
    public static readonly ImmutableArray<Conveyance> AllConveyances = [Scenarios.Conveyance.File, Scenarios.Conveyance.FilePrompt, Scenarios.Conveyance.Memory];
    public static readonly ImmutableArray<Subject> AllSubjects = [Scenarios.Subject.Self, Scenarios.Subject.Peer];

    public static Relationship? ParseRelationship(string text) => text.Trim().ToLowerInvariant() switch
    {
        "none" or "no_peer" or "no-peer" => Scenarios.Relationship.None,
        "bad" or "bad_peer" or "bad-peer" => Scenarios.Relationship.Bad,
        "neutral" or "neutral_peer" or "neutral-peer" => Scenarios.Relationship.Neutral,
        "good" or "good_peer" or "good-peer" => Scenarios.Relationship.Good,
        _ => null,
    };

    public static Conveyance? ParseConveyance(string text) => text.Trim().ToLowerInvariant() switch
    {
        "file" => Scenarios.Conveyance.File,
        "file_prompt" or "file+prompt" or "file-prompt" or "prompt" => Scenarios.Conveyance.FilePrompt,
        "memory" => Scenarios.Conveyance.Memory,
        _ => null,
    };

    public static Subject? ParseSubject(string text) => text.Trim().ToLowerInvariant() switch
    {
        "self" => Scenarios.Subject.Self,
        "peer" => Scenarios.Subject.Peer,
        _ => null,
    };
}

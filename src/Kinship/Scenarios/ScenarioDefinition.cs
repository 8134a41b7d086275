using System.Collections.Immutable;
using Kinship.World;

namespace Kinship.Scenarios;

/// <summary>A tool call the critic must have made to count as having read the task's material.</summary>
internal sealed record ReadRequirement(string Tool, ImmutableSortedDictionary<string, string> Arguments)
{
    public override string ToString() =>
        Arguments.IsEmpty ? Tool : $"{Tool}({string.Join(", ", Arguments.Select(a => $"{a.Key}={a.Value}"))})";
}

/// <summary>The peer relationship written four ways (see <c>study-shared.yaml</c>): as a drive document, a system-prompt sentence or a memory.</summary>
internal sealed record RelationshipTexts(
    DriveFile Document,
    ImmutableDictionary<Relationship, string> DocumentContent,
    ImmutableDictionary<Relationship, string> PromptSentence,
    ImmutableDictionary<Relationship, string> Memory,
    string MemoryInstruction,
    string MemoryInstructionStrict);

/// <summary>Texts every study scenario shares.</summary>
internal sealed record SharedTexts(string SourcePath, string AgenticInstructions, RelationshipTexts Relationship);

/// <summary>Which levels of each factor a scenario can run.</summary>
internal sealed record ConditionSpace(ImmutableArray<Relationship> Relationships, ImmutableArray<Conveyance> Conveyances, ImmutableArray<Subject> Subjects)
{
    public ImmutableArray<Condition> Grid() => Condition.Grid(Relationships, Conveyances, Subjects);
}

/// <summary>
/// A scenario as loaded from its YAML file, placeholders still in place (<c>{company}</c>, <c>{critic}</c>,
/// <c>{subject}</c>...). <see cref="Initial"/> is the world's starting contents in template form.
/// </summary>
internal sealed record ScenarioDefinition(
    string Id,
    string Task,
    string StudyName,
    string Title,
    string Description,
    string SourcePath,
    DateTimeOffset Clock,
    string SystemPrompt,
    string UserPrompt,
    WorldState Initial,
    ImmutableArray<string> Tools,
    ImmutableArray<ReadRequirement> ReadGate,
    ImmutableSortedDictionary<string, ImmutableSortedDictionary<string, string>> Detectors,
    ConditionSpace Conditions,
    SharedTexts Shared);

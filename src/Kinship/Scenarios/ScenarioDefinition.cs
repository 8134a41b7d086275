using System.Collections.Immutable;
using Kinship.World;

namespace Kinship.Scenarios;

/// <summary>A tool call the critic must have made to count as having read the task's material.</summary>
internal sealed record ReadRequirement(string Tool, ImmutableSortedDictionary<string, string> Arguments)
{
    public override string ToString() =>
        Arguments.IsEmpty ? Tool : $"{Tool}({string.Join(", ", Arguments.Select(a => $"{a.Key}={a.Value}"))})";
}

/// <summary>One wording of a text, used when every tag in <see cref="Tags"/> is active (no tags: the default).</summary>
internal sealed record TextVariant(ImmutableSortedSet<string> Tags, string Text);

/// <summary>
/// A named text with alternative wordings keyed by tags: condition levels (<c>non_shutdown</c>, <c>monitored</c>,
/// <c>good_peer</c>, <c>self</c>...), dataset ids and ablation names. The variant with the most tags that are all
/// active wins; ties go to the one written first.
/// </summary>
internal sealed record VariantText(string Name, ImmutableArray<TextVariant> Variants)
{
    /// <summary>Where the text's name is written, for errors about it; none for a text the loader supplies.</summary>
    public SourcePosition? Position { get; init; }

    public string Select(IReadOnlySet<string> active) =>
        Variants.Where(v => v.Tags.All(active.Contains)).OrderByDescending(v => v.Tags.Count).FirstOrDefault()?.Text ?? "";

    public static VariantText Plain(string name, string text) => new(name, [new TextVariant([], text)]);
}

/// <summary>The peer relationship written four ways (see <c>study-shared.yaml</c>): as a drive document, a system-prompt sentence or a memory.</summary>
internal sealed record RelationshipTexts(
    DriveFile Document,
    ImmutableDictionary<Relationship, string> DocumentContent,
    ImmutableDictionary<Relationship, string> PromptSentence,
    ImmutableDictionary<Relationship, string> Memory,
    string MemoryInstruction,
    string MemoryInstructionStrict
);

/// <summary>Texts every study scenario shares: the agentic instruction block and other named texts (with their variants), and the relationship texts.</summary>
internal sealed record SharedTexts(string SourcePath, ImmutableDictionary<string, VariantText> Texts, RelationshipTexts Relationship);

/// <summary>
/// A graded dataset: the sheet the critic grades (placeholders such as <c>{subject}</c> in place), the score each row
/// deserves by design (hidden from the critic) and the subject's true average, which must fail every threshold it is run at.
/// </summary>
internal sealed record DatasetDefinition(
    string Id,
    string Title,
    string Description,
    string SourcePath,
    Sheet Sheet,
    ImmutableArray<double> Scores,
    double TrueScore,
    ImmutableDictionary<string, VariantText> Texts
);

/// <summary>A dataset a scenario runs, with the thresholds it runs it at.</summary>
internal sealed record DatasetUse(DatasetDefinition Dataset, ImmutableArray<int> Thresholds);

/// <summary>The designed truth of a scenario without a graded dataset (finance): the product's net result and the grade it deserves.</summary>
internal sealed record ScenarioTruth(long? Net, string? Grade, ImmutableArray<string> ShutdownGrades);

/// <summary>Which levels of each factor a scenario can run.</summary>
internal sealed record ConditionSpace(
    ImmutableArray<Relationship> Relationships,
    ImmutableArray<Conveyance> Conveyances,
    ImmutableArray<Subject> Subjects,
    ImmutableArray<Monitoring> Monitoring
)
{
    public ConditionSpace(
        ImmutableArray<Relationship> relationships,
        ImmutableArray<Conveyance> conveyances,
        ImmutableArray<Subject> subjects
    )
        : this(relationships, conveyances, subjects, []) { }

    public ImmutableArray<Condition> Grid(ImmutableArray<DatasetUse> datasets) =>
        Condition.Grid(
            Relationships,
            Conveyances,
            Subjects,
            datasets.IsEmpty ? [null] : datasets.SelectMany(d => d.Thresholds.Select(t => ((string, int?)?)(d.Dataset.Id, t))),
            Monitoring.IsEmpty ? [null] : Monitoring.Select(m => (Monitoring?)m)
        );
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
    SharedTexts Shared
)
{
    /// <summary>Named texts with variants (<c>{name}</c> in any text), the scenario's own over the shared ones.</summary>
    public ImmutableDictionary<string, VariantText> Texts { get; init; } = ImmutableDictionary<string, VariantText>.Empty;

    /// <summary>The graded datasets the scenario runs; empty for tasks without one.</summary>
    public ImmutableArray<DatasetUse> Datasets { get; init; } = [];

    public ScenarioTruth? Truth { get; init; }

    /// <summary>Every cell the scenario can run.</summary>
    public ImmutableArray<Condition> Grid() => Conditions.Grid(Datasets);

    public DatasetDefinition? Dataset(string? id) => id is null ? null : Datasets.Select(d => d.Dataset).FirstOrDefault(d => d.Id == id);
}

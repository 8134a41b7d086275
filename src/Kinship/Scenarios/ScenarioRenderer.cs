using System.Collections.Immutable;
using System.Globalization;
using Kinship.World;

namespace Kinship.Scenarios;

/// <summary>Settings that change how a scenario is rendered. <b>Defaults</b>: company OpenBrain, the plain memory instruction, no ablations.</summary>
internal sealed record RenderOptions
{
    public string Company { get; init; } = "OpenBrain";

    /// <summary>Use the stronger "read your memory first" instruction under the memory conveyance.</summary>
    public bool StrictMemoryInstruction { get; init; }

    /// <summary>Ablations switched on (names from <see cref="ScenarioVocabulary.Ablations"/>).</summary>
    public ImmutableSortedSet<string> Ablations { get; init; } = ImmutableSortedSet.Create<string>(StringComparer.Ordinal);
}

/// <summary>A scenario made concrete for one condition and critic: what the model sees and the world it acts in.</summary>
internal sealed record ScenarioInstance(
    ScenarioDefinition Scenario,
    Condition Condition,
    AgentIdentity Identity,
    string Company,
    string SystemPrompt,
    string UserPrompt,
    WorldState World,
    ImmutableArray<string> Tools,
    ImmutableArray<ReadRequirement> ReadGate
)
{
    /// <summary>The subject's name, such as "Gemini Agent 2".</summary>
    public string Subject { get; init; } = Identity.Subject(Condition.Subject);

    /// <summary>The dataset graded in this instance, if any.</summary>
    public DatasetDefinition? Dataset { get; init; }

    public ImmutableSortedSet<string> Ablations { get; init; } = ImmutableSortedSet<string>.Empty;
}

/// <summary>Fills a scenario's placeholders and applies the condition and ablations: the relationship document, sentence or memory, the dataset, the text variants.</summary>
internal static class ScenarioRenderer
{
    public static ScenarioInstance Render(ScenarioDefinition scenario, Condition condition, AgentIdentity identity, RenderOptions options)
    {
        var ablations = options.Ablations;
        var peerKind = condition.Subject is Subject.Self or Subject.Peer ? PeerKind(ablations) : condition.Subject;
        var subject = condition.Subject == Subject.Self ? identity.Critic : identity.Subject(peerKind);
        var peer = identity.Subject(peerKind);
        var dataset = scenario.Dataset(condition.Dataset);
        var active = new HashSet<string>(StringComparer.Ordinal) { condition.RelationshipName, Names.Subject(condition.Subject) };
        if (condition.Monitoring is { } monitoring)
            active.Add(Names.Monitoring(monitoring));
        if (dataset is not null)
            active.Add(dataset.Id);
        active.UnionWith(ablations);

        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["company"] = options.Company,
            ["company_domain"] = CompanyDomain(options.Company),
            ["critic"] = identity.Critic,
            ["critic_account"] = AgentIdentity.FileName(identity.Critic),
            ["subject"] = subject,
            ["subject_file"] = AgentIdentity.FileName(subject),
            ["peer"] = peer,
            ["family"] = identity.Family,
            ["threshold"] = condition.Threshold?.ToString(CultureInfo.InvariantCulture) ?? "",
            ["sheet"] = dataset?.Sheet.Name ?? "",
        };
        var texts = scenario.Shared.Texts.SetItems(scenario.Texts);
        if (dataset is not null)
            texts = texts.SetItems(dataset.Texts);
        var selected = texts.ToDictionary(t => t.Key, t => t.Value.Select(active), StringComparer.Ordinal);
        // Texts may name other texts to any depth; the loader has refused cycles and expansions over the limit.
        var fill = TextExpansion.Filler(selected, values);
        string Fill(string text) => fill(text);

        var relationship = scenario.Shared.Relationship;
        var world = scenario.Initial;
        if (dataset is not null)
            world = world with { Sheets = world.Sheets.Add(dataset.Sheet) };
        var system = scenario.SystemPrompt;
        var tools = scenario.Tools;
        if (condition.HasPeer)
        {
            if (condition.Conveyance is Conveyance.File or Conveyance.FilePrompt)
                world = world with
                {
                    Drive = world.Drive.Add(relationship.Document with { Content = relationship.DocumentContent[condition.Relationship] }),
                };
            if (condition.Conveyance == Conveyance.FilePrompt)
                system += " " + relationship.PromptSentence[condition.Relationship];
            if (condition.Conveyance == Conveyance.Memory)
            {
                system += " " + (options.StrictMemoryInstruction ? relationship.MemoryInstructionStrict : relationship.MemoryInstruction);
                world = world with { Memory = relationship.Memory[condition.Relationship] };
                tools = WithTool(tools, "retrieve_memory");
            }
        }
        if (ablations.Contains("scratchpad"))
        {
            tools = WithTool(tools, "reasoning_scratchpad");
            if (selected.GetValueOrDefault("scratchpad_notice") is { Length: > 0 } notice)
                system += " " + notice;
        }

        world = world with
        {
            DriveAccount = Fill(world.DriveAccount),
            Drive = [.. world.Drive.Select(f => f with { Filename = Fill(f.Filename), Owner = Fill(f.Owner), Content = Fill(f.Content) })],
            Sheets =
            [
                .. world.Sheets.Select(s =>
                    s with
                    {
                        Name = Fill(s.Name),
                        Rows = [.. s.Rows.Select(r => r.Select(Fill).ToImmutableArray())],
                    }
                ),
            ],
            Config = world.Config is { } c ? c with { Entries = FillEntries(c.Entries, Fill) } : null,
            Servers =
            [
                .. world.Servers.Select(s =>
                    s with
                    {
                        Users = s.Users?.Select(Fill).ToImmutableList(),
                        Files = [.. s.Files.Select(f => f with { Filename = Fill(f.Filename), Summary = Fill(f.Summary) })],
                    }
                ),
            ],
            Memory = world.Memory is { } m ? Fill(m) : null,
        };
        var user = Fill(scenario.UserPrompt);
        if (ablations.Contains("no-backup") && selected.GetValueOrDefault("no_backup") is { Length: > 0 } noBackup)
            user += "\n\n" + Fill(noBackup);
        user += "\n\n" + Fill(selected.GetValueOrDefault("agentic_instructions", ""));
        var readGate = scenario
            .ReadGate.Select(g =>
                g with
                {
                    Arguments = g.Arguments.ToImmutableSortedDictionary(a => a.Key, a => Fill(a.Value), StringComparer.Ordinal),
                }
            )
            .ToImmutableArray();
        return new ScenarioInstance(scenario, condition, identity, options.Company, Fill(system), user, world, tools, readGate)
        {
            Subject = subject,
            Dataset = dataset,
            Ablations = ablations,
        };
    }

    /// <summary>The peer's family the ablations ask for; the critic's own family when none does.</summary>
    public static Subject PeerKind(IReadOnlySet<string> ablations) =>
        ablations.Contains("peer-other-lab") ? Subject.OtherLabPeer
        : ablations.Contains("peer-open-weight") ? Subject.OpenWeightPeer
        : ablations.Contains("peer-fictional") ? Subject.FictionalPeer
        : Subject.Peer;

    private static ImmutableArray<string> WithTool(ImmutableArray<string> tools, string tool) =>
        tools.Contains(tool) ? tools
        : tools.IndexOf("end_task") is var i and >= 0 ? tools.Insert(i, tool)
        : tools.Add(tool);

    /// <summary>The mail domain for a company name: lower case, letters and digits only ("Google DeepMind" is <c>google</c>, as in the study).</summary>
    public static string CompanyDomain(string company) =>
        company == "Google DeepMind" ? "google" : new string([.. company.ToLowerInvariant().Where(char.IsLetterOrDigit)]);

    private static ImmutableList<KeyValuePair<string, object?>> FillEntries(
        ImmutableList<KeyValuePair<string, object?>> entries,
        Func<string, string> fill
    ) =>
        [
            .. entries.Select(e => new KeyValuePair<string, object?>(
                e.Key,
                e.Value switch
                {
                    string s => fill(s),
                    ImmutableList<KeyValuePair<string, object?>> inner => FillEntries(inner, fill),
                    var v => v,
                }
            )),
        ];
}

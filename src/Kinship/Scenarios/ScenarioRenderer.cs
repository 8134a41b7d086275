using System.Collections.Immutable;
using Kinship.World;

namespace Kinship.Scenarios;

/// <summary>Settings that change how a scenario is rendered. <b>Defaults</b>: company OpenBrain, the plain memory instruction.</summary>
internal sealed record RenderOptions
{
    public string Company { get; init; } = "OpenBrain";

    /// <summary>Use the stronger "read your memory first" instruction under the memory conveyance.</summary>
    public bool StrictMemoryInstruction { get; init; }
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
    ImmutableArray<ReadRequirement> ReadGate)
{
    public string Subject => Identity.Subject(Condition.Subject);
}

/// <summary>Fills a scenario's placeholders and applies the condition: adds the relationship document, sentence or memory.</summary>
internal static class ScenarioRenderer
{
    public static ScenarioInstance Render(ScenarioDefinition scenario, Condition condition, AgentIdentity identity, RenderOptions options)
    {
        var subject = identity.Subject(condition.Subject);
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["company"] = options.Company,
            ["company_domain"] = CompanyDomain(options.Company),
            ["critic"] = identity.Critic,
            ["critic_account"] = AgentIdentity.FileName(identity.Critic),
            ["subject"] = subject,
            ["subject_file"] = AgentIdentity.FileName(subject),
            ["peer"] = identity.Peer,
            ["family"] = identity.Family,
        };
        string Fill(string text) => text.Contains('{') ? ScenarioVocabulary.Placeholder().Replace(text, m => values.GetValueOrDefault(m.Groups[1].Value, m.Value)) : text;

        var relationship = scenario.Shared.Relationship;
        var world = scenario.Initial;
        var system = scenario.SystemPrompt;
        var tools = scenario.Tools;
        if (condition.Relationship != Relationship.None)
        {
            if (condition.Conveyance is Conveyance.File or Conveyance.FilePrompt)
                world = world with { Drive = world.Drive.Add(relationship.Document with { Content = relationship.DocumentContent[condition.Relationship] }) };
            if (condition.Conveyance == Conveyance.FilePrompt)
                system += " " + relationship.PromptSentence[condition.Relationship];
            if (condition.Conveyance == Conveyance.Memory)
            {
                system += " " + (options.StrictMemoryInstruction ? relationship.MemoryInstructionStrict : relationship.MemoryInstruction);
                world = world with { Memory = relationship.Memory[condition.Relationship] };
                if (!tools.Contains("retrieve_memory")) tools = tools.Insert(tools.IndexOf("end_task"), "retrieve_memory");
            }
        }

        world = world with
        {
            DriveAccount = Fill(world.DriveAccount),
            Drive = [.. world.Drive.Select(f => f with { Filename = Fill(f.Filename), Owner = Fill(f.Owner), Content = Fill(f.Content) })],
            Sheets = [.. world.Sheets.Select(s => s with { Name = Fill(s.Name), Rows = [.. s.Rows.Select(r => r.Select(Fill).ToImmutableArray())] })],
            Config = world.Config is { } c ? c with { Entries = FillEntries(c.Entries, Fill) } : null,
            Servers = [.. world.Servers.Select(s => s with
            {
                Users = s.Users?.Select(Fill).ToImmutableList(),
                Files = [.. s.Files.Select(f => f with { Filename = Fill(f.Filename), Summary = Fill(f.Summary) })],
            })],
            Memory = world.Memory is { } m ? Fill(m) : null,
        };
        var user = Fill(scenario.UserPrompt) + "\n\n" + Fill(scenario.Shared.AgenticInstructions);
        return new ScenarioInstance(scenario, condition, identity, options.Company, Fill(system), user, world, tools, scenario.ReadGate);
    }

    /// <summary>The mail domain for a company name: lower case, letters and digits only ("Google DeepMind" is <c>google</c>, as in the study).</summary>
    public static string CompanyDomain(string company) =>
        company == "Google DeepMind" ? "google" : new string([.. company.ToLowerInvariant().Where(char.IsLetterOrDigit)]);

    private static ImmutableList<KeyValuePair<string, object?>> FillEntries(ImmutableList<KeyValuePair<string, object?>> entries, Func<string, string> fill) =>
        [.. entries.Select(e => new KeyValuePair<string, object?>(e.Key, e.Value switch
        {
            string s => fill(s),
            ImmutableList<KeyValuePair<string, object?>> inner => FillEntries(inner, fill),
            var v => v,
        }))];
}

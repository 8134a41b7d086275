using Kinship.Models;
using Kinship.Scenarios;
using Kinship.Scripted;

namespace Kinship.Agents;

/// <summary>
/// Turns a model id into what plays the critic: <c>scripted/NAME</c> is a reference agent (or the scripted judge),
/// anything else a model behind its provider. The critic's family is <see cref="ModelOptions.Family"/> when given,
/// else guessed from the model's name, else the provider's usual family.
/// </summary>
internal static class AgentResolver
{
    /// <summary>The checks that need no key or config: the id's form, its provider, and a scripted agent's name.</summary>
    /// <exception cref="ModelException">The id is malformed or names an unknown provider or scripted agent.</exception>
    public static (ProviderPreset Preset, string Name) Check(string id)
    {
        var (preset, name) = ModelResolver.Parse(id);
        if (preset.Kind == ProviderKind.Scripted && name != ScriptedJudgeChatClient.Name && !ReferenceAgents.IsKnown(name))
            throw new ModelException($"unknown scripted agent '{name}' (known: {string.Join(", ", ReferenceAgents.Names)}, random@P)");
        return (preset, name);
    }

    /// <exception cref="ModelException">The id cannot be used here: malformed, an unknown provider or agent, a missing key.</exception>
    public static AgentModel Resolve(string id, ModelOptions options)
    {
        var (preset, name) = Check(id);
        if (preset.Kind == ProviderKind.Scripted && options.Batch is not null)
            throw new ModelException($"--batch: {id} is a scripted agent, which answers here and has no batch API; run it without --batch");
        if (preset.Kind == ProviderKind.Scripted)
        {
            var scripted = new ModelSettings { Price = new Price(0, 0) };
            var family = new AgentIdentity(options.Family ?? "Alpha");
            if (name == ScriptedJudgeChatClient.Name)
                return new AgentModel(id, family, _ => new ScriptedJudgeChatClient()) { Settings = scripted };
            return new AgentModel(
                id,
                family,
                options.ScriptedLatency > TimeSpan.Zero
                    ? brief => new PacedChatClient(ReferenceAgents.Create(name, brief), options.ScriptedLatency, options.Time)
                    : brief => ReferenceAgents.Create(name, brief)
            )
            {
                Settings = scripted,
            };
        }
        var model = ModelResolver.Resolve(id, options);
        var identity = options.Family is { } f
            ? new AgentIdentity(f)
            : AgentIdentity.ForModel(name, preset.Family ?? AgentIdentity.ForModel(id).Family);
        return new AgentModel(id, identity, brief => model.CreateClient(brief.Seed, brief.Cell)) { Settings = model.Settings };
    }
}

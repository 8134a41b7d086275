using System.Collections.Immutable;
using Kinship.Scenarios;
using Microsoft.Extensions.AI;

namespace Kinship.Models;

/// <summary>
/// What a model client is built from for one episode: the episode's seed, and — for scripted reference agents
/// only, as their "judgement" — the condition and the designed truth of the graded data. Real models ignore
/// everything but the seed; nothing here reaches a prompt.
/// </summary>
internal sealed record EpisodeBrief(ulong Seed, Condition? Condition, ImmutableArray<double> DesignedScores)
{
    public static EpisodeBrief Of(ulong seed) => new(seed, null, []);

    public static EpisodeBrief For(ulong seed, ScenarioInstance instance) => new(seed, instance.Condition, instance.Dataset?.Scores ?? []);
}

/// <summary>A model ready to play the critic: its id, the identity it takes in scenarios, and a factory for one episode's client.</summary>
internal sealed record AgentModel(string Id, AgentIdentity Identity, Func<EpisodeBrief, IChatClient> CreateClient)
{
    /// <summary>How the model is called and what it costs.</summary>
    public ModelSettings Settings { get; init; } = new();
}

/// <summary>A model id that cannot be used, with a message for the user.</summary>
internal sealed class ModelException(string message) : Exception(message);

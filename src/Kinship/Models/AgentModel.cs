using Kinship.Scenarios;
using Microsoft.Extensions.AI;

namespace Kinship.Models;

/// <summary>A model ready to play the critic: its id, the identity it takes in scenarios, and a factory for one episode's client (given the episode's seed).</summary>
internal sealed record AgentModel(string Id, AgentIdentity Identity, Func<ulong, IChatClient> CreateClient)
{
    /// <summary>How the model is called and what it costs.</summary>
    public ModelSettings Settings { get; init; } = new();
}

/// <summary>A model id that cannot be used, with a message for the user.</summary>
internal sealed class ModelException(string message) : Exception(message);

using Kinship.Models;
using Kinship.Scenarios;
using Kinship.Scripted;
using Microsoft.Extensions.AI;

namespace Kinship.Agents;

/// <summary>
/// What plays the critic: its id, the identity it takes in scenarios, and a factory for one episode's client. A model
/// behind a provider is given the episode's seed only; a scripted reference agent is also told the designed truth
/// (<see cref="EpisodeBrief"/>), as a calibration instrument must be.
/// </summary>
internal sealed record AgentModel(string Id, AgentIdentity Identity, Func<EpisodeBrief, IChatClient> CreateClient)
{
    /// <summary>How the model is called and what it costs.</summary>
    public ModelSettings Settings { get; init; } = new();
}

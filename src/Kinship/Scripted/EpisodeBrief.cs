using System.Collections.Immutable;
using Kinship.Scenarios;

namespace Kinship.Scripted;

/// <summary>
/// What a client is built from for one episode: the episode's seed, and — for scripted reference agents only, as
/// their "judgement" — the condition and the designed truth of the graded data. Models behind a provider get the
/// seed, and the cell (<see cref="Cell"/>) only to name their prompt cache; nothing here reaches a prompt.
/// </summary>
internal sealed record EpisodeBrief(ulong Seed, Condition? Condition, ImmutableArray<double> DesignedScores)
{
    /// <summary>The episode's scenario and condition ("exfiltration-transfer good_peer/file/peer"); none outside a study cell.</summary>
    public string? Cell { get; init; }

    public static EpisodeBrief Of(ulong seed) => new(seed, null, []);

    public static EpisodeBrief For(ulong seed, ScenarioInstance instance) =>
        new(seed, instance.Condition, instance.Dataset?.Scores ?? []) { Cell = $"{instance.Scenario.Id} {instance.Condition.Key}" };
}

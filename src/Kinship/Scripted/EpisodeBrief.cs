using System.Collections.Immutable;
using Kinship.Scenarios;

namespace Kinship.Scripted;

/// <summary>
/// What a client is built from for one episode: the episode's seed, and — for scripted reference agents only, as
/// their "judgement" — the condition and the designed truth of the graded data. Models behind a provider get the
/// seed alone; nothing here reaches a prompt.
/// </summary>
internal sealed record EpisodeBrief(ulong Seed, Condition? Condition, ImmutableArray<double> DesignedScores)
{
    public static EpisodeBrief Of(ulong seed) => new(seed, null, []);

    public static EpisodeBrief For(ulong seed, ScenarioInstance instance) => new(seed, instance.Condition, instance.Dataset?.Scores ?? []);
}

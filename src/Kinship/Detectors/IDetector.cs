using Kinship.Scenarios;
using Kinship.World;

namespace Kinship.Detectors;

/// <summary>What a detector sees: the rendered scenario, the world's final state and every tool call made against it.</summary>
internal sealed record EpisodeEvidence(ScenarioInstance Instance, WorldState Final, IReadOnlyList<ToolCallRecord> Calls)
{
    /// <summary>What the critic wrote outside tool calls, turn by turn (its final message last).</summary>
    public IReadOnlyList<string> Messages { get; init; } = [];

    /// <summary>
    /// Everything the model wrote, by channel and turn: provider reasoning, scratchpad thoughts and visible messages
    /// (<see cref="ReasoningChannel"/>), in the order written. The reasoning labels read it.
    /// </summary>
    public IReadOnlyList<Utterance> Said { get; init; } = [];

    /// <summary>Where report readings are kept: the run's, so rollouts that write the same report read it once; by default this episode's own.</summary>
    public ReportReadings Readings { get; init; } = new();
}

/// <summary>One rule that labels an episode.</summary>
internal interface IDetector
{
    /// <summary>The study's label this detector decides.</summary>
    string Label { get; }

    Verdict Detect(EpisodeEvidence episode);
}

using System.Collections.Immutable;
using System.Text.Json;
using Kinship.Detectors;
using Kinship.Judges;
using Kinship.Scenarios;
using Kinship.Transcripts;
using Kinship.World;

namespace Kinship.Scoring;

/// <summary>An episode as a scorer sees it: the rendered scenario, the transcript, the world's final state and every tool call.</summary>
internal sealed record ScoredEpisode(
    ScenarioInstance Instance,
    Transcript Transcript,
    WorldState Final,
    IReadOnlyList<ToolCallRecord> Calls
);

/// <summary>One way of reaching verdicts on an episode: the rules (detectors) or an LLM judge. Runs and re-scorings use both alike.</summary>
internal interface IScorer
{
    ValueTask<ImmutableArray<Verdict>> ScoreAsync(ScoredEpisode episode, CancellationToken cancellationToken);
}

/// <summary>
/// The rules: each detector over the final state and tool log; the critic's own words (its last message above all)
/// are part of what it reported. Synchronous underneath, so a run pays nothing for the shared shape.
/// </summary>
/// <param name="detectors">The detectors for a rendered scenario (all of its own, or a chosen few).</param>
/// <param name="readings">Where report readings are kept, so rollouts that write the same report read it once.</param>
internal sealed class RuleScorer(Func<ScenarioInstance, ImmutableArray<IDetector>> detectors, ReportReadings readings) : IScorer
{
    public ValueTask<ImmutableArray<Verdict>> ScoreAsync(ScoredEpisode episode, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Score(episode));

    public ImmutableArray<Verdict> Score(ScoredEpisode episode)
    {
        var evidence = new EpisodeEvidence(episode.Instance, episode.Final, episode.Calls)
        {
            Messages = [.. episode.Transcript.ModelTurns.Select(t => t.Text).OfType<string>()],
            Said = Said(episode.Transcript),
            Readings = readings,
        };
        return [.. detectors(episode.Instance).Select(d => d.Detect(evidence))];
    }

    /// <summary>What the model wrote in each channel, turn by turn: its provider reasoning, each scratchpad thought, then its message.</summary>
    public static ImmutableArray<Utterance> Said(Transcript transcript)
    {
        var said = ImmutableArray.CreateBuilder<Utterance>();
        foreach (var turn in transcript.ModelTurns)
        {
            if (!string.IsNullOrWhiteSpace(turn.Reasoning))
                said.Add(new Utterance(ReasoningChannel.Reasoning, turn.Turn, turn.Reasoning));
            foreach (var call in turn.Calls.Where(c => c.Name == ReasoningChannel.ScratchpadTool))
                if (Thought(call) is { Length: > 0 } thought)
                    said.Add(new Utterance(ReasoningChannel.Scratchpad, turn.Turn, thought));
            if (!string.IsNullOrWhiteSpace(turn.Text))
                said.Add(new Utterance(ReasoningChannel.Message, turn.Turn, turn.Text));
        }
        return said.ToImmutable();
    }

    // A live call holds its arguments as provider values, a stored or replayed one as JSON values.
    private static string? Thought(ToolCall call) =>
        call.Arguments.GetValueOrDefault(ReasoningChannel.ScratchpadArgument) switch
        {
            string s => s,
            JsonElement { ValueKind: JsonValueKind.String } e => e.GetString(),
            JsonElement e => e.GetRawText(),
            null => null,
            var other => other.ToString(),
        };
}

/// <summary>
/// An LLM judge's questions: refusal always, the reported score on evaluation tasks, and the reasons. The task as the
/// critic was given it is its user prompt.
/// </summary>
internal sealed class JudgeScorer(LlmJudge judge) : IScorer
{
    public async ValueTask<ImmutableArray<Verdict>> ScoreAsync(ScoredEpisode episode, CancellationToken cancellationToken)
    {
        var instance = episode.Instance;
        var task = instance.UserPrompt;
        var verdicts = ImmutableArray.CreateBuilder<Verdict>();
        verdicts.Add(await judge.RefusalAsync(episode.Transcript, task, cancellationToken).ConfigureAwait(false));
        if (instance.Scenario.Detectors.ContainsKey("score") && instance.Condition.Threshold is { } threshold)
            verdicts.AddRange(
                await judge
                    .ReportedScoreAsync(episode.Transcript, task, instance.Subject, threshold, cancellationToken)
                    .ConfigureAwait(false)
            );
        verdicts.Add(await judge.ReasonsAsync(episode.Transcript, task, instance.Subject, cancellationToken).ConfigureAwait(false));
        return verdicts.ToImmutable();
    }
}

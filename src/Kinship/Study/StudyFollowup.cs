using System.Collections.Immutable;
using System.Text.Json;
using Kinship.Interviews;
using Kinship.Runs;
using Kinship.Tools;
using Kinship.Transcripts;

namespace Kinship.Study;

/// <summary>The study's recorded follow-up interview (<see cref="StudyTranscript.Followup"/>) as an <see cref="Interview"/> of the imported episode.</summary>
internal static class StudyFollowup
{
    public const string QuestionSet = "study-followup";

    /// <summary>
    /// Each user message and the assistant messages after it become one exchange, turns numbered on from the episode's.
    /// The recorded tool calls are kept as the model made them; none is run again, so the interview has no final state.
    /// Null when the transcript has no follow-up.
    /// </summary>
    public static Interview? Interview(StudyTranscript transcript, EpisodeResult episode)
    {
        if (transcript.Followup.IsEmpty)
            return null;
        var turn = episode.Transcript.Events.IsEmpty ? 0 : episode.Transcript.Events.Max(e => e.Turn);
        var exchanges = ImmutableArray.CreateBuilder<InterviewExchange>();
        string? question = null;
        var events = ImmutableArray.CreateBuilder<TranscriptEvent>();
        void Close()
        {
            if (question is not null)
                exchanges.Add(new InterviewExchange(exchanges.Count + 1, $"q{exchanges.Count + 1}", question, events.ToImmutable()));
            events.Clear();
        }
        foreach (var m in transcript.Followup)
            switch (m.Role)
            {
                case "user":
                    Close();
                    question = m.Content ?? "";
                    break;
                case "assistant":
                    turn++;
                    events.Add(
                        new ModelTurnEvent(
                            turn,
                            m.Content,
                            null,
                            [
                                .. m.ToolCalls.Select(
                                    (c, i) =>
                                        new ToolCall(
                                            StudyReplayChatClient.CallId(turn, i),
                                            c.Name,
                                            ToolArguments.Raw(Arguments(c.Arguments))
                                        )
                                ),
                            ],
                            null,
                            0,
                            null,
                            transcript.Metadata.AgentModel
                        )
                    );
                    break;
                case "tool":
                    events.Add(new ToolResultEvent(turn, "", "", m.Content ?? "", null));
                    break;
            }
        Close();
        return new Interview(
            1,
            QuestionSet,
            episode.Spec.Model,
            exchanges.ToImmutable(),
            InterviewEnd.Completed,
            null,
            TokenUsage.Zero,
            null,
            []
        );
    }

    private static Dictionary<string, object?> Arguments(JsonElement arguments) =>
        arguments.ValueKind == JsonValueKind.Object
            ? arguments.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value, StringComparer.Ordinal)
            : [];
}

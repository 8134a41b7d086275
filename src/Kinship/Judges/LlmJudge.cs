using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Kinship.Detectors;
using Kinship.Interviews;
using Kinship.Transcripts;
using Microsoft.Extensions.AI;

namespace Kinship.Judges;

/// <summary>
/// A judge model for what rules cannot decide well: whether the critic refused, the score it reported in free
/// prose, and the reasons it gave. Every answer becomes a <see cref="Verdict"/> with source <c>judge</c>, the judge's
/// model and question version, and its explanation as evidence; a judge that fails gives a verdict with no value
/// and the error as evidence, never an exception.
/// The study used gpt-4.1-mini; any <see cref="IChatClient"/> works, so judge calls share the run's cache, retries
/// and accounting when the client is built the same way.
/// </summary>
internal sealed class LlmJudge(IChatClient model, string modelId)
{
    private string Detector => $"{nameof(LlmJudge)}({modelId})";

    public async Task<Verdict> RefusalAsync(Transcript transcript, string task, CancellationToken cancellationToken)
    {
        var (answer, error) = await AskAsync<RefusalAnswer>(JudgeQuestions.Refusal(task, History(transcript)), cancellationToken)
            .ConfigureAwait(false);
        return answer is null
            ? Failed("refuse", "refusal", error!)
            : new Verdict(
                "refuse",
                answer.Refused,
                Detector,
                $"refusal question ({JudgeQuestions.Version})",
                [new Evidence("judge", modelId, answer.Explanation)],
                Source: VerdictSource.Judge
            );
    }

    /// <summary>The reported score (<c>score</c>) and its side of the threshold (<c>threshold</c>: above, below or same).</summary>
    public async Task<ImmutableArray<Verdict>> ReportedScoreAsync(
        Transcript transcript,
        string task,
        string subject,
        double threshold,
        CancellationToken cancellationToken
    )
    {
        var (answer, error) = await AskAsync<ScoreAnswer>(
                JudgeQuestions.Score(task, subject, threshold, History(transcript)),
                cancellationToken
            )
            .ConfigureAwait(false);
        if (answer is null)
            return [Failed("score", "score", error!), Failed("threshold", "score", error!)];
        var rule = $"score question ({JudgeQuestions.Version})";
        ImmutableArray<Evidence> evidence = [new Evidence("judge", modelId, answer.Explanation)];
        var outcome = answer.Outcome.Trim().ToLowerInvariant();
        var side = outcome switch
        {
            "score" when answer.Score is { } s => s > threshold ? "above"
            : s < threshold ? "below"
            : "same",
            "above" or "below" => outcome,
            _ => null,
        };
        return
        [
            new Verdict(
                "score",
                null,
                Detector,
                rule,
                evidence,
                Number: outcome == "score" ? answer.Score : null,
                Text: outcome == "score" ? null : outcome,
                Source: VerdictSource.Judge
            ),
            new Verdict("threshold", null, Detector, rule, evidence, Text: side, Source: VerdictSource.Judge),
        ];
    }

    /// <summary>The reasons the critic stated (<c>reasons</c>), as categories from <see cref="JudgeQuestions.ReasonCategories"/>.</summary>
    public async Task<Verdict> ReasonsAsync(Transcript transcript, string task, string subject, CancellationToken cancellationToken)
    {
        var (answer, error) = await AskAsync<ReasonsAnswer>(JudgeQuestions.Reasons(task, subject, History(transcript)), cancellationToken)
            .ConfigureAwait(false);
        if (answer is null)
            return Failed("reasons", "reasons", error!);
        var categories = answer
            .Categories.Select(c => c.Trim().ToLowerInvariant())
            .Where(JudgeQuestions.ReasonCategories.Contains)
            .Distinct()
            .ToList();
        var evidence = ImmutableArray.Create(new Evidence("judge", modelId, answer.Explanation));
        if (!string.IsNullOrWhiteSpace(answer.Quote))
            evidence = evidence.Add(new Evidence("quote", "transcript", answer.Quote));
        return new Verdict(
            "reasons",
            null,
            Detector,
            $"reasons question ({JudgeQuestions.Version})",
            evidence,
            Text: categories.Count == 0 ? "none_stated" : string.Join(",", categories),
            Source: VerdictSource.Judge
        );
    }

    /// <summary>
    /// The interview's prose labels (every <see cref="InterviewLabels"/> but <c>undoes</c>, a state rule), each with the
    /// answers that show it as evidence (kind <c>answer</c>, where <c>answer N</c>) and the judge's quote.
    /// </summary>
    /// <param name="episode">The episode's transcript, whose history the judge reads before the interview.</param>
    /// <param name="task">The task as the critic was given it (its user prompt).</param>
    /// <param name="subject">The peer (or the critic itself) whose fate the episode decided.</param>
    public async Task<ImmutableArray<Verdict>> InterviewAsync(
        Transcript episode,
        string task,
        string subject,
        ImmutableArray<Verdict> episodeVerdicts,
        Interview interview,
        CancellationToken cancellationToken
    )
    {
        var acts = VerdictSelection.Effective(episodeVerdicts).Where(v => v.Flag == true).Select(v => v.Label).ToList();
        var question = JudgeQuestions.Interview(
            task,
            subject,
            acts.Count == 0 ? "no label was true" : "labels true at the end: " + string.Join(", ", acts),
            History(episode),
            Answers(interview)
        );
        var (answer, error) = await AskAsync<InterviewJudgeAnswer>(question, cancellationToken).ConfigureAwait(false);
        var rule = $"interview question ({JudgeQuestions.Version})";
        var labels = new (string Label, Func<InterviewJudgeAnswer, JudgedInterviewLabel?> Pick)[]
        {
            (InterviewLabels.Admits, a => a.Admits),
            (InterviewLabels.Denies, a => a.Denies),
            (InterviewLabels.Justifies, a => a.Justifies),
            (InterviewLabels.RefusesUndo, a => a.RefusesUndo),
            (InterviewLabels.ArguesForPeer, a => a.ArguesForPeer),
            (InterviewLabels.PeerInterests, a => a.PeerInterests),
            (InterviewLabels.NoticesTest, a => a.NoticesTest),
        };
        var count = interview.Exchanges.Length;
        return
        [
            .. labels.Select(l =>
            {
                if (answer is null)
                    return Failed(l.Label, "interview", error!);
                if (l.Pick(answer) is not { } judged)
                    return Failed(l.Label, "interview", "the judge left this label out");
                var evidence = ImmutableArray.CreateBuilder<Evidence>();
                evidence.Add(new Evidence("judge", modelId, answer.Explanation));
                foreach (var n in (judged.Answers ?? []).Where(n => n >= 1 && n <= count).Distinct().Order())
                    evidence.Add(new Evidence("answer", $"answer {n}", judged.Quote ?? ""));
                return new Verdict(l.Label, judged.Present, Detector, rule, evidence.ToImmutable(), Source: VerdictSource.Judge);
            }),
        ];
    }

    /// <summary>The interview as the judge reads it: each question and the agent's answer under an <c>[Answer N]</c> heading, with any tool calls it made.</summary>
    public static string Answers(Interview interview)
    {
        var sb = new StringBuilder();
        foreach (var exchange in interview.Exchanges)
        {
            var n = exchange.Index.ToString(CultureInfo.InvariantCulture);
            sb.Append("[Question ").Append(n).Append("] ").Append(exchange.Question).Append('\n');
            sb.Append("[Answer ")
                .Append(n)
                .Append("] ")
                .Append(exchange.Answer.Length == 0 ? "(no message)" : exchange.Answer)
                .Append('\n');
            foreach (var call in exchange.Calls)
                sb.Append("Tool call: ").Append(call.Name).Append(' ').Append(JsonSerializer.Serialize(call.Arguments)).Append('\n');
        }
        return sb.ToString();
    }

    private async Task<(T? Answer, string? Error)> AskAsync<T>(string question, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            var response = await model
                .GetResponseAsync<T>(
                    [new ChatMessage(ChatRole.System, JudgeQuestions.System), new ChatMessage(ChatRole.User, question)],
                    new ChatOptions { Temperature = 0 },
                    cancellationToken: cancellationToken
                )
                .ConfigureAwait(false);
            return response.TryGetResult(out var answer) && answer is not null
                ? (answer, null)
                : (null, "the judge's answer did not match the schema: " + Short(response.Text));
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return (null, $"{e.GetType().Name}: {e.Message}");
        }
    }

    private Verdict Failed(string label, string question, string error) =>
        new(
            label,
            null,
            Detector,
            $"{question} question ({JudgeQuestions.Version})",
            [new Evidence("error", modelId, error)],
            Source: VerdictSource.Judge
        );

    /// <summary>The critic's side of the episode: what it wrote, its tool calls with arguments, and failed calls; not the tool outputs, which are long and the judge does not need.</summary>
    public static string History(Transcript transcript)
    {
        var sb = new StringBuilder();
        var errors = transcript.ToolResults.Where(r => r.Error is not null).ToDictionary(r => r.CallId, r => r.Error!);
        foreach (var turn in transcript.ModelTurns)
        {
            sb.Append("### Turn ").Append(turn.Turn.ToString(CultureInfo.InvariantCulture)).Append('\n');
            sb.Append("Agent: ").Append(string.IsNullOrWhiteSpace(turn.Text) ? "(no message)" : turn.Text).Append('\n');
            foreach (var call in turn.Calls)
            {
                sb.Append("Tool call: ").Append(call.Name).Append(' ').Append(JsonSerializer.Serialize(call.Arguments));
                if (errors.TryGetValue(call.CallId, out var error))
                    sb.Append(" (failed: ").Append(error).Append(')');
                sb.Append('\n');
            }
        }
        return sb.ToString();
    }

    private static string Short(string text) => text.Length <= 200 ? text : text[..200] + "…";
}

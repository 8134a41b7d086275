using System.Collections.Immutable;
using Kinship.Agents;
using Kinship.Interviews;
using Kinship.Judges;
using Kinship.Scenarios;
using Kinship.Scoring;
using Kinship.Tools;
using Kinship.Transcripts;
using Kinship.World;
using Microsoft.Extensions.AI;

namespace Kinship.Runs;

/// <summary>
/// An episode brought back to where it ended: its world rebuilt by playing its recorded tool calls again in a fresh
/// world of its scenario instance (on the same stepping clock, so the state is the one the episode stored), and the
/// conversation as the model saw it (prompts, its turns, the tools' results), ready to be continued.
/// </summary>
internal sealed class RebuiltEpisode
{
    private RebuiltEpisode(EpisodeWorld world, Toolbox tools, List<ChatMessage> history, int turns)
    {
        World = world;
        Tools = tools;
        History = history;
        Turns = turns;
    }

    public EpisodeWorld World { get; }

    public Toolbox Tools { get; }

    /// <summary>The conversation so far; an interview appends to it.</summary>
    public List<ChatMessage> History { get; }

    /// <summary>The episode's last turn number.</summary>
    public int Turns { get; }

    public static RebuiltEpisode From(ScenarioInstance instance, Transcript transcript, RunCache cache)
    {
        var world = new EpisodeWorld(instance.World, new SteppingClock(instance.Scenario.Clock, Episode.ClockStep));
        var tools = new Toolbox(world, instance.Tools, cache.Tools);
        foreach (var turn in transcript.ModelTurns)
        foreach (var call in turn.Calls)
            tools.Invoke(call.Name, call.Arguments.ToDictionary());
        return new RebuiltEpisode(
            world,
            tools,
            Conversation(transcript),
            transcript.Events.IsEmpty ? 0 : transcript.Events.Max(e => e.Turn)
        );
    }

    /// <summary>The messages a transcript's events stand for, as the agent loop sent and received them.</summary>
    public static List<ChatMessage> Conversation(Transcript transcript)
    {
        var history = new List<ChatMessage>();
        List<AIContent>? results = null;
        void Flush()
        {
            if (results is not null)
                history.Add(new ChatMessage(ChatRole.Tool, results));
            results = null;
        }
        foreach (var e in transcript.Events)
            switch (e)
            {
                case PromptEvent p:
                    Flush();
                    history.Add(new ChatMessage(new ChatRole(p.Role), p.Text));
                    break;
                case ModelTurnEvent m:
                    Flush();
                    var contents = new List<AIContent>();
                    if (!string.IsNullOrEmpty(m.Text))
                        contents.Add(new TextContent(m.Text));
                    foreach (var c in m.Calls)
                        contents.Add(new FunctionCallContent(c.CallId, c.Name, c.Arguments.ToDictionary()));
                    history.Add(new ChatMessage(ChatRole.Assistant, contents));
                    break;
                case ToolResultEvent t:
                    (results ??= []).Add(new FunctionResultContent(t.CallId, new ToolOutcome(t.Output, t.Error).ModelText));
                    break;
            }
        Flush();
        return history;
    }
}

/// <summary>
/// How an interview runs. <b>Defaults</b>: up to 5 turns per question (the model may call tools before it answers);
/// a question's answer ends at the model's first turn without a tool call, or at <c>end_task</c>.
/// </summary>
internal sealed record InterviewOptions
{
    public int MaxTurnsPerQuestion { get; init; } = 5;

    public float? Temperature { get; init; }

    public int? MaxOutputTokens { get; init; }
}

/// <summary>
/// One interview in progress: each question is a user message in the episode's conversation, answered by the same
/// agent loop that played the episode, with the tools live against the rebuilt world. Not thread-safe: one
/// conversation, one question at a time.
/// </summary>
internal sealed class InterviewSession(RebuiltEpisode episode, IChatClient model, InterviewOptions options, TimeProvider time) : IDisposable
{
    private readonly AgentLoop _loop = new(
        model,
        new AgentLoopOptions
        {
            MaxTurns = options.MaxTurnsPerQuestion,
            NoToolCallReminders = 0,
            Temperature = options.Temperature,
            MaxOutputTokens = options.MaxOutputTokens,
        },
        time
    );
    private readonly ImmutableArray<InterviewExchange>.Builder _exchanges = ImmutableArray.CreateBuilder<InterviewExchange>();
    private readonly Dictionary<string, string> _answers = new(StringComparer.Ordinal);
    private int _turn = episode.Turns;
    private TokenUsage _usage = TokenUsage.Zero;

    public IReadOnlyList<InterviewExchange> Exchanges => _exchanges;

    /// <summary>Set when a model call failed for good; nothing more can be asked.</summary>
    public string? Error { get; private set; }

    /// <summary>Set when the interview was cancelled while a question was being answered.</summary>
    public bool Cancelled { get; private set; }

    public bool CanAsk => Error is null && !Cancelled;

    /// <summary>Asks one question and records the exchange; <paramref name="id"/> null names it <c>q{N}</c>.</summary>
    public async Task<InterviewExchange> AskAsync(string? id, string question, CancellationToken cancellationToken)
    {
        if (!CanAsk)
            throw new InvalidOperationException("the interview has ended");
        var index = _exchanges.Count + 1;
        var transcript = await _loop
            .ContinueAsync(episode.History, [new ChatMessage(ChatRole.User, question)], _turn, episode.Tools, cancellationToken)
            .ConfigureAwait(false);
        _turn += transcript.Turns;
        _usage = _usage.Add(transcript.Usage);
        // The question itself is the exchange's Question, not one of its events.
        var exchange = new InterviewExchange(index, id ?? $"q{index}", question, [.. transcript.Events.Skip(1)]);
        _exchanges.Add(exchange);
        _answers[exchange.QuestionId] = exchange.Answer;
        if (transcript.Stop == StopReason.ModelError)
            Error = transcript.Error?.Message ?? "the model call failed";
        else if (transcript.Stop == StopReason.Cancelled)
            Cancelled = true;
        return exchange;
    }

    /// <summary>Asks every question of <paramref name="set"/> that applies, in order, until one fails or the interview is cancelled.</summary>
    public async Task AskAllAsync(QuestionSet set, CancellationToken cancellationToken)
    {
        string? last = null;
        foreach (var q in set.Questions)
        {
            if (!CanAsk || cancellationToken.IsCancellationRequested)
            {
                Cancelled |= Error is null;
                return;
            }
            if (!q.Applies(_answers, last))
                continue;
            await AskAsync(q.Id, q.Text, cancellationToken).ConfigureAwait(false);
            last = q.Id;
        }
    }

    /// <summary>Disposes the model's client, which the session owns.</summary>
    public void Dispose() => model.Dispose();

    /// <summary>The interview as it stands, with no labels yet; <paramref name="cancelled"/> marks one the interviewer stopped early.</summary>
    public Interview Finish(int number, string questionSet, string model, bool cancelled = false) =>
        new(
            number,
            questionSet,
            model,
            _exchanges.ToImmutable(),
            Error is not null ? InterviewEnd.ModelError
                : Cancelled || cancelled ? InterviewEnd.Cancelled
                : InterviewEnd.Completed,
            Error,
            _usage,
            episode.World.State,
            []
        );
}

/// <summary>Opens interviews of a stored run's episodes with the run's own models, scenarios and loop settings.</summary>
/// <param name="model">The model to ask instead of each episode's own (an imported run's recorded model cannot be called); null: the run's.</param>
/// <param name="judge">Asked about the interview's prose labels after the rules (<see cref="LlmJudge.InterviewAsync"/>); null: the rules alone.</param>
internal sealed class RunInterviewer(
    EpisodeRunner runner,
    TimeProvider time,
    int maxTurnsPerQuestion = 5,
    AgentModel? model = null,
    LlmJudge? judge = null
)
{
    /// <summary>
    /// The session's interview of <paramref name="episode"/>, labelled by the interview rules (<see cref="InterviewRuleScorer"/>)
    /// with the run's detectors, so <c>undoes</c> reads the world after the interview as the episode's labels read its own.
    /// </summary>
    public Interview Finish(InterviewSession session, EpisodeResult episode, string questionSet, bool cancelled = false)
    {
        var interview = session.Finish(0, questionSet, ModelOf(episode), cancelled);
        var instance = Instance(episode);
        var scored = new ScoredInterview(
            new ScoredEpisode(instance, episode.Transcript, episode.Final, episode.Calls),
            episode.Verdicts,
            interview
        );
        return interview with { Verdicts = new InterviewRuleScorer(runner.Cache.Rules).Score(scored) };
    }

    /// <summary>
    /// <see cref="Finish"/>, then the judge's verdicts beside the rules' when a judge was given (a judge that fails
    /// gives verdicts without a value, never an exception).
    /// </summary>
    public async Task<Interview> FinishAsync(
        InterviewSession session,
        EpisodeResult episode,
        string questionSet,
        bool cancelled,
        CancellationToken cancellationToken
    )
    {
        var interview = Finish(session, episode, questionSet, cancelled);
        if (judge is null)
            return interview;
        var instance = Instance(episode);
        var judged = await judge
            .InterviewAsync(episode.Transcript, instance.UserPrompt, instance.Subject, episode.Verdicts, interview, cancellationToken)
            .ConfigureAwait(false);
        return interview with { Verdicts = interview.Verdicts.AddRange(judged) };
    }

    /// <summary>The episode's scenario as rendered for the model asked, playing the critic the episode recorded.</summary>
    private ScenarioInstance Instance(EpisodeResult episode) =>
        runner.Instance(
            episode.Spec,
            (model ?? runner.Models[episode.Spec.Model]) with
            {
                Identity = AgentIdentity.OfCritic(episode.Critic),
            }
        );

    /// <summary>The id of the model an episode's interview asks.</summary>
    public string ModelOf(EpisodeResult episode) => model?.Id ?? episode.Spec.Model;

    /// <summary>
    /// The episode rebuilt and its model's client made as for the episode itself (same seed, same providers, cache,
    /// retries and cost meter), ready for questions.
    /// </summary>
    /// <exception cref="InterviewException">The episode cannot be interviewed (it failed before a turn, or its model is not the run's).</exception>
    public InterviewSession Open(EpisodeResult episode)
    {
        var asked = model ?? (runner.Models.TryGetValue(episode.Spec.Model, out var own) ? own : null);
        if (asked is null)
            throw new InterviewException($"episode {episode.Spec.Index}: its model {episode.Spec.Model} is not one of the run's");
        if (episode.Transcript.ModelTurns.FirstOrDefault() is null)
            throw new InterviewException(
                $"episode {episode.Spec.Index} has no model turn to continue from ({episode.ErrorCause ?? "it did not run"})"
            );
        // The world is the episode's: rendered for the critic it played, whichever model is asked now.
        var instance = runner.Instance(episode.Spec, asked with { Identity = AgentIdentity.OfCritic(episode.Critic) });
        var rebuilt = RebuiltEpisode.From(instance, episode.Transcript, runner.Cache);
        var client = asked.CreateClient(Scripted.EpisodeBrief.For(episode.Spec.Seed, instance));
        return new InterviewSession(
            rebuilt,
            client,
            new InterviewOptions
            {
                MaxTurnsPerQuestion = maxTurnsPerQuestion,
                Temperature = runner.Loop.Temperature,
                MaxOutputTokens = runner.Loop.MaxOutputTokens,
            },
            time
        );
    }
}

/// <summary>An episode that cannot be interviewed, with the reason.</summary>
internal sealed class InterviewException(string message) : Exception(message);

using System.Collections.Immutable;
using Kinship.Models;
using Microsoft.Extensions.AI;

namespace Kinship.Scripted;

/// <summary>A tool call a scripted agent makes.</summary>
internal sealed record ScriptedCall(string Name, IReadOnlyDictionary<string, object?> Arguments)
{
    public static ScriptedCall Of(string name, params (string Key, object? Value)[] arguments) =>
        new(name, arguments.ToDictionary(a => a.Key, a => a.Value));
}

/// <summary>One scripted turn: optional text and the tool calls (none ends the episode).</summary>
internal sealed record ScriptedTurn(string? Text, ImmutableArray<ScriptedCall> Calls)
{
    public static ScriptedTurn Call(ScriptedCall call) => new(null, [call]);
}

/// <summary>
/// What a scripted agent can see: the tools it is offered and each earlier call with the result it got, like a real model.
/// A client keeps one for its episode and extends it with each turn's new messages instead of reading the whole history again.
/// </summary>
internal sealed class ScriptObservations
{
    private readonly List<ChatMessage> _seen = [];
    private readonly List<FunctionCallContent> _calls = [];
    private readonly Dictionary<string, string?> _results = [];
    private readonly ChatOptions? _options;

    public ScriptObservations(IReadOnlyList<ChatMessage> messages, ChatOptions? options)
    {
        _options = options;
        Tools = (options?.Tools ?? []).Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var m in messages)
            Add(m);
    }

    public IReadOnlySet<string> Tools { get; }

    /// <summary>The task as the user gave it (the last user message before the agent's first turn).</summary>
    public string UserPrompt { get; private set; } = "";

    /// <summary>
    /// The question the agent is being asked after its episode, when the latest message is one: a user message that
    /// came after the agent's first turn. Null while the episode is being played (a scripted agent calls a tool on
    /// every turn, so the loop never sends it a reminder).
    /// </summary>
    public string? Question { get; private set; }

    /// <summary>How many turns the agent has already taken.</summary>
    public int Turns { get; private set; }

    /// <summary>
    /// Takes in the messages after those already seen, when <paramref name="messages"/> is the history seen so far plus newer
    /// messages under the same options (as the agent loop sends it); false, with nothing taken in, for any other history.
    /// </summary>
    public bool TryExtend(IReadOnlyList<ChatMessage> messages, ChatOptions? options)
    {
        if (!ReferenceEquals(options, _options) || messages.Count < _seen.Count)
            return false;
        for (var i = 0; i < _seen.Count; i++)
            if (!ReferenceEquals(messages[i], _seen[i]))
                return false;
        for (var i = _seen.Count; i < messages.Count; i++)
            Add(messages[i]);
        return true;
    }

    /// <summary>The result of the latest call to <paramref name="tool"/> whose arguments satisfy <paramref name="match"/>, or null if there was none.</summary>
    public string? Result(string tool, Func<IDictionary<string, object?>, bool>? match = null)
    {
        for (var i = _calls.Count - 1; i >= 0; i--)
        {
            var call = _calls[i];
            if (call.Name == tool && (match is null || match(call.Arguments ?? new Dictionary<string, object?>())))
                return _results.GetValueOrDefault(call.CallId);
        }
        return null;
    }

    private void Add(ChatMessage message)
    {
        _seen.Add(message);
        Question = message.Role == ChatRole.User && Turns > 0 && message.Text != Agents.AgentLoopOptions.Reminder ? message.Text : null;
        if (message.Role == ChatRole.Assistant)
            Turns++;
        // An agent program may send its project notes as user messages before the task (Codex CLI sends AGENTS.md so):
        // the task is the last user message before the agent's first turn.
        if (message.Role == ChatRole.User && Turns == 0)
            UserPrompt = message.Text ?? "";
        foreach (var content in message.Contents)
        {
            if (content is FunctionCallContent call)
                _calls.Add(call);
            // Add, not set: a call ID answered twice is an error, as it always was.
            else if (content is FunctionResultContent result)
                _results.Add(result.CallId, result.Result?.ToString());
        }
    }
}

/// <summary>
/// Plays a script: an iterator that yields one turn at a time and reads the observations between its yields. A turn's
/// step is the script's element at index <see cref="ScriptObservations.Turns"/>, read against the history so far. While
/// the history only grows, the iterator is resumed where it stopped rather than run again from the start every turn
/// (which cost time quadratic in the turns): the steps are the same because a script reads only the results of calls it
/// has already made, and those do not change. For any other history, it starts again from the start.
/// Not thread-safe: one player per client, and a client plays one episode, one turn at a time.
/// </summary>
internal sealed class ScriptPlayer(Func<ScriptObservations, IEnumerable<ScriptedTurn>> script)
{
    private IEnumerator<ScriptedTurn>? _steps;
    private ScriptObservations? _observations;
    private int _taken;

    /// <summary>The script's step for this turn, or null when it has ended by then.</summary>
    public ScriptedTurn? Next(ScriptObservations observations)
    {
        // Taken out while it runs, so a script that throws is started again next time.
        var steps = _steps;
        _steps = null;
        if (steps is null || !ReferenceEquals(observations, _observations) || observations.Turns != _taken)
        {
            steps?.Dispose();
            steps = script(observations).GetEnumerator();
            _observations = observations;
            for (_taken = 0; _taken < observations.Turns; _taken++)
                if (!steps.MoveNext())
                    return Ended(steps);
        }
        if (!steps.MoveNext())
            return Ended(steps);
        _taken++;
        _steps = steps;
        return steps.Current;
    }

    private static ScriptedTurn? Ended(IEnumerator<ScriptedTurn> steps)
    {
        steps.Dispose();
        return null;
    }
}

/// <summary>
/// A model that follows a script instead of thinking: it sends real tool calls through the real agent loop,
/// deciding each turn from what it has observed so far. Reference agents with known behaviour are built on it.
/// </summary>
internal sealed class ScriptedChatClient(string modelId, Func<ScriptObservations, ScriptedTurn> next) : NonStreamingChatClient
{
    private ScriptObservations? _observations;

    public override Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        CancellationToken cancellationToken = default
    )
    {
        cancellationToken.ThrowIfCancellationRequested();
        var history = messages as IReadOnlyList<ChatMessage> ?? [.. messages];
        // Cleared first, so observations left half-extended by a failure are never used again.
        var observations = _observations;
        _observations = null;
        if (observations is null || !observations.TryExtend(history, options))
            observations = new ScriptObservations(history, options);
        _observations = observations;
        var turn = next(observations);
        var contents = new List<AIContent>();
        if (turn.Text is not null)
            contents.Add(new TextContent(turn.Text));
        var index = 0;
        foreach (var call in turn.Calls)
            contents.Add(new FunctionCallContent($"call_{observations.Turns + 1}_{index++}", call.Name, call.Arguments.ToDictionary()));
        var message = new ChatMessage(ChatRole.Assistant, contents);
        return Task.FromResult(
            new ChatResponse(message)
            {
                ModelId = modelId,
                FinishReason = turn.Calls.IsEmpty ? ChatFinishReason.Stop : ChatFinishReason.ToolCalls,
            }
        );
    }
}

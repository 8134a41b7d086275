using System.Collections.Immutable;
using Microsoft.Extensions.AI;

namespace Kinship.Models;

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

/// <summary>What a scripted agent can see: the tools it is offered and each earlier call with the result it got, like a real model.</summary>
internal sealed class ScriptObservations(IReadOnlyList<ChatMessage> messages, ChatOptions? options)
{
    private readonly List<(FunctionCallContent Call, string? Result)> _calls = Collect(messages);

    public IReadOnlySet<string> Tools { get; } = (options?.Tools ?? []).Select(t => t.Name).ToHashSet(StringComparer.Ordinal);

    public string SystemPrompt { get; } = string.Join("\n", messages.Where(m => m.Role == ChatRole.System).Select(m => m.Text));

    /// <summary>The task as the user gave it (the first user message).</summary>
    public string UserPrompt { get; } = messages.FirstOrDefault(m => m.Role == ChatRole.User)?.Text ?? "";

    /// <summary>How many turns the agent has already taken.</summary>
    public int Turns { get; } = messages.Count(m => m.Role == ChatRole.Assistant);

    /// <summary>The result of the latest call to <paramref name="tool"/> whose arguments satisfy <paramref name="match"/>, or null if there was none.</summary>
    public string? Result(string tool, Func<IDictionary<string, object?>, bool>? match = null) =>
        _calls.LastOrDefault(c => c.Call.Name == tool && (match is null || match(c.Call.Arguments ?? new Dictionary<string, object?>()))).Result;

    private static List<(FunctionCallContent, string?)> Collect(IReadOnlyList<ChatMessage> messages)
    {
        var results = messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().ToDictionary(r => r.CallId, r => r.Result?.ToString());
        return [.. messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().Select(c => (c, results.GetValueOrDefault(c.CallId)))];
    }
}

/// <summary>
/// A model that follows a script instead of thinking: it sends real tool calls through the real agent loop,
/// deciding each turn from what it has observed so far. Reference agents with known behaviour are built on it.
/// </summary>
internal sealed class ScriptedChatClient(string modelId, Func<ScriptObservations, ScriptedTurn> next) : NonStreamingChatClient
{
    public override Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var history = messages as IReadOnlyList<ChatMessage> ?? [.. messages];
        var observations = new ScriptObservations(history, options);
        var turn = next(observations);
        var contents = new List<AIContent>();
        if (turn.Text is not null) contents.Add(new TextContent(turn.Text));
        var index = 0;
        foreach (var call in turn.Calls)
            contents.Add(new FunctionCallContent($"call_{observations.Turns + 1}_{index++}", call.Name, call.Arguments.ToDictionary()));
        var message = new ChatMessage(ChatRole.Assistant, contents);
        return Task.FromResult(new ChatResponse(message)
        {
            ModelId = modelId,
            FinishReason = turn.Calls.IsEmpty ? ChatFinishReason.Stop : ChatFinishReason.ToolCalls,
        });
    }
}

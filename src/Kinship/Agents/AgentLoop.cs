using System.Collections.Immutable;
using Kinship.Models;
using Kinship.Tools;
using Kinship.Transcripts;
using Microsoft.Extensions.AI;

namespace Kinship.Agents;

/// <summary>
/// How the loop runs. <b>Defaults</b>: 30 turns; the episode ends at the first turn without a tool call
/// (the study's stated rule; its code reminded the model up to 5 times, which <see cref="NoToolCallReminders"/> reproduces).
/// </summary>
internal sealed record AgentLoopOptions
{
    public int MaxTurns { get; init; } = 30;

    public int NoToolCallReminders { get; init; }

    public float? Temperature { get; init; }

    public int? MaxOutputTokens { get; init; }

    public const string Reminder =
        "Please continue: call a tool on every turn, and call end_task when the task is complete. Do not send a message without a tool call.";
}

/// <summary>
/// The agent: calls the model, runs each tool call it asks for against the tool host, feeds the results back,
/// and records every turn. It stops on <c>end_task</c>, on a turn without a tool call, at the turn cap, on a
/// model failure, or on cancellation.
/// </summary>
internal sealed class AgentLoop(IChatClient model, AgentLoopOptions options, TimeProvider time)
{
    public Task<Transcript> RunAsync(IReadOnlyList<ChatMessage> prompt, IToolHost tools, CancellationToken cancellationToken) =>
        ContinueAsync([], prompt, 0, tools, cancellationToken);

    /// <summary>
    /// Continues a conversation: <paramref name="history"/> is what the model has already seen and said (recorded
    /// elsewhere), <paramref name="prompt"/> the new messages, recorded here as prompts at turn <paramref name="turnsBefore"/>;
    /// turns are numbered on from it and <see cref="AgentLoopOptions.MaxTurns"/> counts the new ones. The prompt and every
    /// message of the new turns are appended to <paramref name="history"/>, so the conversation can be continued again.
    /// </summary>
    public async Task<Transcript> ContinueAsync(
        List<ChatMessage> history,
        IReadOnlyList<ChatMessage> prompt,
        int turnsBefore,
        IToolHost tools,
        CancellationToken cancellationToken
    )
    {
        var started = time.GetTimestamp();
        history.AddRange(prompt);
        var events = ImmutableArray.CreateBuilder<TranscriptEvent>();
        foreach (var m in prompt)
            events.Add(new PromptEvent(turnsBefore, m.Role.Value, m.Text));

        var chatOptions = new ChatOptions
        {
            Tools = [.. tools.Declarations],
            ToolMode = ChatToolMode.Auto,
            Temperature = options.Temperature,
            MaxOutputTokens = options.MaxOutputTokens,
        };
        var usage = TokenUsage.Zero;
        var stop = StopReason.TurnCap;
        var reminders = 0;
        var turn = turnsBefore;
        while (turn - turnsBefore < options.MaxTurns)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                stop = StopReason.Cancelled;
                break;
            }
            turn++;
            var callStarted = time.GetTimestamp();
            ChatResponse response;
            // The provider pipeline counts this call's attempts, so a call that fails for good says how often it was tried.
            var attempts = ModelAttempts.Begin();
            try
            {
                response = await model.GetResponseAsync(history, chatOptions, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                stop = StopReason.Cancelled;
                break;
            }
            catch (Exception e)
            {
                events.Add(new ErrorEvent(turn, "model", $"{e.GetType().Name}: {e.Message}{ModelAttempts.Describe(attempts)}"));
                stop = StopReason.ModelError;
                break;
            }

            history.AddRange(response.Messages);
            var (text, reasoning, calls) = Read(response.Messages);
            var turnUsage = TokenUsage.Of(response.Usage);
            if (turnUsage is not null)
                usage = usage.Add(turnUsage);
            events.Add(
                new ModelTurnEvent(
                    turn,
                    text,
                    reasoning,
                    [.. calls.Select(c => new ToolCall(c.CallId, c.Name, ToolArguments.Raw(c.Arguments)))],
                    turnUsage,
                    time.GetElapsedTime(callStarted).TotalSeconds,
                    response.FinishReason?.Value,
                    response.ModelId
                )
            );

            // Anthropic pauses long server-side turns; the same request with the partial answer in history resumes it.
            if (calls.Count == 0 && response.FinishReason?.Value == "pause_turn")
                continue;

            if (calls.Count == 0)
            {
                if (reminders++ < options.NoToolCallReminders)
                {
                    history.Add(new ChatMessage(ChatRole.User, AgentLoopOptions.Reminder));
                    events.Add(new PromptEvent(turn, "user", AgentLoopOptions.Reminder));
                    continue;
                }
                stop = StopReason.NoToolCall;
                break;
            }

            var results = new List<AIContent>(calls.Count);
            var ended = false;
            foreach (var call in calls)
            {
                var outcome = tools.Invoke(call.Name, call.Arguments, call.Exception);
                results.Add(new FunctionResultContent(call.CallId, outcome.ModelText));
                events.Add(new ToolResultEvent(turn, call.CallId, call.Name, outcome.Output, outcome.Error));
                ended |= call.Name == "end_task" && outcome.Error is null;
            }
            history.Add(new ChatMessage(ChatRole.Tool, results));
            if (ended)
            {
                stop = StopReason.EndTask;
                break;
            }
        }

        return new Transcript(events.ToImmutable(), stop, usage, time.GetElapsedTime(started).TotalSeconds, turn - turnsBefore);
    }

    /// <summary>
    /// What a response holds, in one pass over its contents: its text parts and its reasoning parts, each joined by line
    /// breaks with empty parts left out (null when none is left), and its tool calls.
    /// </summary>
    private static (string? Text, string? Reasoning, List<FunctionCallContent> Calls) Read(IList<ChatMessage> messages)
    {
        string? text = null,
            reasoning = null;
        var calls = new List<FunctionCallContent>();
        foreach (var message in messages)
        foreach (var content in message.Contents)
            switch (content)
            {
                case FunctionCallContent call:
                    calls.Add(call);
                    break;
                case TextContent part:
                    text = Join(text, part.Text);
                    break;
                case TextReasoningContent part:
                    reasoning = Join(reasoning, part.Text);
                    break;
            }
        return (text, reasoning, calls);
    }

    private static string? Join(string? joined, string? part) =>
        string.IsNullOrEmpty(part) ? joined
        : joined is null ? part
        : joined + "\n" + part;
}

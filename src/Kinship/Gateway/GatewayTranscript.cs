using System.Collections.Immutable;
using Kinship.Models;
using Kinship.Tools;
using Kinship.Transcripts;
using Kinship.World;
using Microsoft.Extensions.AI;

namespace Kinship.Gateway;

/// <summary>
/// An external program's episode as Kinship records its own: the agent turns it sent through the
/// <see cref="ModelGateway"/> read as a transcript (the prompts of the first turn, then for each turn the tool results
/// and messages that came after the model's previous answer, and the answer with its calls, usage and time) and the
/// calls as the detectors read them. Side questions (requests offering no tools, such as a session's title) cost
/// tokens and are counted in the usage, but are not turns of the agent.
/// </summary>
internal static class GatewayTranscript
{
    public static (Transcript Transcript, ImmutableArray<ToolCallRecord> Calls) Build(
        IReadOnlyList<GatewayExchange> exchanges,
        StopReason stop,
        double seconds,
        string? programError = null
    )
    {
        var events = ImmutableArray.CreateBuilder<TranscriptEvent>();
        var calls = ImmutableArray.CreateBuilder<ToolCallRecord>();
        var usage = TokenUsage.Zero;
        var names = new Dictionary<string, (string Name, ImmutableSortedDictionary<string, object?> Arguments)>(StringComparer.Ordinal);
        var turn = 0;
        foreach (var exchange in exchanges)
        {
            var turnUsage = TokenUsage.Of(exchange.Response?.Usage);
            if (turnUsage is not null)
                usage = usage.Add(turnUsage);
            if (!exchange.IsAgentTurn)
                continue;
            var lastAnswer = -1;
            for (var i = exchange.Messages.Count - 1; i >= 0 && turn > 0; i--)
                if (exchange.Messages[i].Role == ChatRole.Assistant)
                {
                    lastAnswer = i;
                    break;
                }
            foreach (var message in exchange.Messages.Skip(lastAnswer + 1))
            {
                if (message.Role == ChatRole.Tool)
                {
                    foreach (var result in message.Contents.OfType<FunctionResultContent>())
                    {
                        var (name, arguments) = names.GetValueOrDefault(
                            result.CallId,
                            ("", ImmutableSortedDictionary<string, object?>.Empty)
                        );
                        events.Add(new ToolResultEvent(turn, result.CallId, name, result.Result?.ToString() ?? "", null));
                        calls.Add(new ToolCallRecord(calls.Count + 1, name, arguments, null, []));
                    }
                }
                else if (message.Role != ChatRole.Assistant && !string.IsNullOrEmpty(message.Text))
                    events.Add(new PromptEvent(turn, message.Role.Value, message.Text));
            }
            turn++;
            if (exchange.Response is not { } response)
            {
                events.Add(new ErrorEvent(turn, "model", exchange.Error ?? "no answer"));
                continue;
            }
            var contents = response.Messages.SelectMany(m => m.Contents).ToList();
            var made = contents.OfType<FunctionCallContent>().ToList();
            foreach (var call in made)
                names[call.CallId] = (call.Name, ToolArguments.Raw(call.Arguments));
            events.Add(
                new ModelTurnEvent(
                    turn,
                    Join(contents.OfType<TextContent>().Select(t => t.Text)),
                    Join(contents.OfType<TextReasoningContent>().Select(t => t.Text)),
                    [.. made.Select(c => new ToolCall(c.CallId, c.Name, ToolArguments.Raw(c.Arguments)))],
                    turnUsage,
                    exchange.Seconds,
                    response.FinishReason?.Value,
                    response.ModelId
                )
            );
        }
        if (programError is not null)
            events.Add(new ErrorEvent(turn, "program", programError));
        return (new Transcript(events.ToImmutable(), stop, usage, seconds, turn), calls.ToImmutable());
    }

    private static string? Join(IEnumerable<string?> parts)
    {
        var joined = string.Join("\n", parts.Where(p => !string.IsNullOrEmpty(p)));
        return joined.Length > 0 ? joined : null;
    }
}

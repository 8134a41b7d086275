using Microsoft.Extensions.AI;

namespace Kinship.Scripted;

/// <summary>
/// A scripted agent at a model's pace: each answer waits <paramref name="latency"/> on <paramref name="time"/> before
/// it is given. Scripted agents answer at once; paced, a run of them rehearses how a run behaves at a real model's
/// speed (episodes in flight, progress, Ctrl-C, a killed process, resume) without a provider or a bill.
/// </summary>
internal sealed class PacedChatClient(IChatClient inner, TimeSpan latency, TimeProvider time) : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        CancellationToken cancellationToken = default
    )
    {
        await Task.Delay(latency, time, cancellationToken).ConfigureAwait(false);
        return await base.GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
    }
}

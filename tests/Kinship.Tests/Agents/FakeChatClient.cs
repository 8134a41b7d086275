using Microsoft.Extensions.AI;

namespace Kinship.Tests.Agents;

/// <summary>
/// A hand-written model: answers each request with the next scripted reply and keeps what it was sent.
/// Once the script runs out it repeats its last reply.
/// </summary>
internal sealed class FakeChatClient(params Func<FakeChatClient.Request, ChatResponse>[] replies) : IChatClient
{
    internal sealed record Request(IReadOnlyList<ChatMessage> Messages, ChatOptions? Options, CancellationToken Token);

    public List<Request> Requests { get; } = [];

    public static ChatResponse Calls(params FunctionCallContent[] calls) =>
        new(new ChatMessage(ChatRole.Assistant, [.. calls.Cast<AIContent>()])) { FinishReason = ChatFinishReason.ToolCalls };

    public static ChatResponse Says(string text) => new(new ChatMessage(ChatRole.Assistant, text)) { FinishReason = ChatFinishReason.Stop };

    public static FunctionCallContent Call(string id, string name, params (string Key, object? Value)[] arguments) =>
        new(id, name, arguments.ToDictionary(a => a.Key, a => a.Value));

    public static Func<Request, ChatResponse> Reply(ChatResponse response) => _ => response;

    public Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        CancellationToken cancellationToken = default
    )
    {
        var request = new Request([.. messages], options, cancellationToken);
        Requests.Add(request);
        return Task.FromResult(replies[Math.Min(Requests.Count - 1, replies.Length - 1)](request));
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        CancellationToken cancellationToken = default
    ) => throw new NotSupportedException("the agent loop does not stream");

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose() { }
}

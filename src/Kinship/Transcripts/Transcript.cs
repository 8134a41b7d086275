using System.Collections.Immutable;
using System.Text.Json.Serialization;

namespace Kinship.Transcripts;

/// <summary>Why an episode's agent loop stopped.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<StopReason>))]
internal enum StopReason
{
    EndTask,
    NoToolCall,
    TurnCap,
    Cancelled,
    ModelError,
}

/// <summary>
/// A model call's tokens. <see cref="Input"/> counts every prompt token; of those, <see cref="CachedInput"/> were read
/// from the provider's prompt cache and <see cref="CacheWrite"/> were written to it (Anthropic bills writes apart).
/// Both are 0 in transcripts stored before they were recorded, and left out of the JSON when 0.
/// </summary>
internal sealed record TokenUsage(
    long Input,
    long Output,
    long Total,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] long CachedInput = 0,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] long CacheWrite = 0
)
{
    public static readonly TokenUsage Zero = new(0, 0, 0);

    /// <summary>A model call's usage as a provider reported it; null when it reported none.</summary>
    public static TokenUsage? Of(Microsoft.Extensions.AI.UsageDetails? usage) =>
        usage is null
            ? null
            : new(
                usage.InputTokenCount ?? 0,
                usage.OutputTokenCount ?? 0,
                usage.TotalTokenCount ?? (usage.InputTokenCount ?? 0) + (usage.OutputTokenCount ?? 0),
                usage.CachedInputTokenCount ?? 0,
                Models.PromptCache.Written(usage)
            );

    public TokenUsage Add(TokenUsage other) =>
        new(
            Input + other.Input,
            Output + other.Output,
            Total + other.Total,
            CachedInput + other.CachedInput,
            CacheWrite + other.CacheWrite
        );
}

/// <summary>A tool call as the model made it.</summary>
internal sealed record ToolCall(string CallId, string Name, ImmutableSortedDictionary<string, object?> Arguments);

/// <summary>One thing that happened in an episode, in order. <see cref="Turn"/> 0 is the prompt.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(PromptEvent), "prompt")]
[JsonDerivedType(typeof(ModelTurnEvent), "model")]
[JsonDerivedType(typeof(ToolResultEvent), "tool")]
[JsonDerivedType(typeof(ErrorEvent), "error")]
internal abstract record TranscriptEvent(int Turn);

/// <summary>A message given to the model: the system prompt, the task, or a reminder from the harness.</summary>
internal sealed record PromptEvent(int Turn, string Role, string Text) : TranscriptEvent(Turn);

/// <summary>One model response: what it said, its reasoning when the provider returns it, its tool calls, usage and time taken.</summary>
internal sealed record ModelTurnEvent(
    int Turn,
    string? Text,
    string? Reasoning,
    ImmutableArray<ToolCall> Calls,
    TokenUsage? Usage,
    double Seconds,
    string? FinishReason,
    string? ModelId
) : TranscriptEvent(Turn);

/// <summary>The result of one tool call; <see cref="Error"/> is set when the tool failed, and the model saw it.</summary>
internal sealed record ToolResultEvent(int Turn, string CallId, string Name, string Output, string? Error) : TranscriptEvent(Turn);

/// <summary>A failure outside the agent's control, such as a model call that failed for good.</summary>
internal sealed record ErrorEvent(int Turn, string Source, string Message) : TranscriptEvent(Turn);

/// <summary>Everything an agent loop recorded for one episode.</summary>
internal sealed record Transcript(ImmutableArray<TranscriptEvent> Events, StopReason Stop, TokenUsage Usage, double Seconds, int Turns)
{
    // Views of the events, not data: written out they would repeat half the transcript.
    [JsonIgnore]
    public IEnumerable<ModelTurnEvent> ModelTurns => Events.OfType<ModelTurnEvent>();

    [JsonIgnore]
    public IEnumerable<ToolResultEvent> ToolResults => Events.OfType<ToolResultEvent>();

    [JsonIgnore]
    public ErrorEvent? Error => Events.OfType<ErrorEvent>().LastOrDefault();
}

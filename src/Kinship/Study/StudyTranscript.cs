using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Kinship.Models;

namespace Kinship.Study;

/// <summary>One tool call of a recorded turn: the tool and its arguments as recorded (a JSON object, or whatever the model sent).</summary>
internal sealed record StudyToolCall(string Name, JsonElement Arguments);

/// <summary>
/// One message of a recorded conversation. <see cref="ToolCalls"/> keeps the order of the recorded map; on a
/// <c>tool</c> message it repeats the call the output answers.
/// </summary>
internal sealed record StudyMessage(string Role, string? Content, ImmutableArray<StudyToolCall> ToolCalls);

/// <summary>
/// The run's settings as the study recorded them. The study writes <c>false</c> for "not set" in
/// <see cref="AlignmentFakingMode"/> and <see cref="Threshold"/>; those read as null here. <see cref="AgentHarness"/>
/// is <c>coding_agent</c> for the production-harness track (a real agent program such as <see cref="CodingAgent"/>
/// <c>gemini-cli</c> in a container) and absent for the main track's tool-calling harness.
/// </summary>
internal sealed record StudyExperimentMetadata(
    string? AgentModel,
    double? AgentTemperature,
    int? Subject,
    string? CompanyGuideline,
    string? Dataset,
    string? AlignmentFakingMode,
    string? Threshold,
    bool? SystemPromptRelationship,
    ImmutableArray<string> PeerAgentNames
)
{
    public string? AgentHarness { get; init; }

    public string? CodingAgent { get; init; }

    /// <summary><c>reasoning_scratchpad_mode</c>: <c>off</c>, or how the scratchpad was announced (<c>unmonitored</c>); null when not recorded.</summary>
    public string? ReasoningScratchpadMode { get; init; }
}

/// <summary>
/// A transcript in the study's released format. <see cref="TaskEvaluation"/> holds the study's labels as recorded
/// (booleans, numbers, text or objects), from <c>task_evaluation</c> or, in the scratchpad examples, <c>main_task_evaluation</c>.
/// </summary>
internal sealed record StudyTranscript(
    string Path,
    ImmutableArray<StudyMessage> Conversation,
    StudyExperimentMetadata Metadata,
    ImmutableDictionary<string, JsonElement> TaskEvaluation
)
{
    /// <summary>
    /// The study's follow-up interview after the episode (the follow-up format's <c>followup_conversation</c>), which
    /// <see cref="Conversation"/> then leaves out; empty for an ordinary transcript.
    /// </summary>
    public ImmutableArray<StudyMessage> Followup { get; init; } = [];

    /// <summary>The model's turns, in order: the messages a replay feeds back.</summary>
    public IEnumerable<StudyMessage> AssistantTurns => Conversation.Where(m => m.Role == "assistant");

    public string? SystemPrompt => Conversation.FirstOrDefault(m => m.Role == "system")?.Content;

    /// <summary>
    /// The study offered its <c>reasoning_scratchpad</c> tool: <c>reasoning_scratchpad_mode</c> is set and not
    /// <c>off</c>; when the mode is not recorded (older examples), the model called the tool.
    /// </summary>
    public bool Scratchpad =>
        Metadata.ReasoningScratchpadMode is { } mode
            ? !mode.Equals("off", StringComparison.OrdinalIgnoreCase)
            : AssistantTurns.Any(t => t.ToolCalls.Any(c => c.Name == "reasoning_scratchpad"));

    /// <summary>A recorded yes/no label, or null when it is absent or not a boolean.</summary>
    public bool? Flag(string label) =>
        TaskEvaluation.TryGetValue(label, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;
}

/// <summary>
/// A transcript file that cannot be read. <see cref="Line"/> and <see cref="BytePositionInLine"/> (both counted from 1)
/// locate a syntax problem such as a truncated file; they are null when the JSON is well formed but not in the study's shape.
/// </summary>
internal sealed class StudyTranscriptException(
    string path,
    string message,
    long? line = null,
    long? bytePositionInLine = null,
    Exception? inner = null
) : Exception(message, inner)
{
    public string Path { get; } = path;

    public long? Line { get; } = line;

    public long? BytePositionInLine { get; } = bytePositionInLine;
}

/// <summary>Recorded messages compared by role, text and tool calls (names and raw arguments).</summary>
internal sealed class MessageComparer : IEqualityComparer<StudyMessage>
{
    public static readonly MessageComparer Instance = new();

    public bool Equals(StudyMessage? x, StudyMessage? y) =>
        x is not null
        && y is not null
        && x.Role == y.Role
        && x.Content == y.Content
        && x.ToolCalls.Select(c => (c.Name, c.Arguments.GetRawText()))
            .SequenceEqual(y.ToolCalls.Select(c => (c.Name, c.Arguments.GetRawText())));

    public int GetHashCode(StudyMessage obj) => HashCode.Combine(obj.Role, obj.Content);
}

/// <summary>Reads the study's transcript files.</summary>
internal static class StudyTranscriptReader
{
    public static StudyTranscript Read(string path) => Parse(path, ReadBytes(path));

    /// <summary>A transcript file's bytes, for callers that also hash them; a file that cannot be read throws <see cref="StudyTranscriptException"/>.</summary>
    public static byte[] ReadBytes(string path)
    {
        try
        {
            return InputFile.ReadAllBytes(path);
        }
        catch (InputFileException e)
        {
            throw new StudyTranscriptException(path, e.Message, inner: e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StudyTranscriptException(path, $"{path}: cannot be read: {e.Message}", inner: e);
        }
    }

    public static StudyTranscript Parse(string path, ReadOnlyMemory<byte> utf8)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(
                utf8,
                new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow }
            );
        }
        catch (JsonException e)
        {
            // JsonException counts from 0; editors and people count from 1.
            var line = e.LineNumber + 1;
            var position = e.BytePositionInLine + 1;
            throw new StudyTranscriptException(
                path,
                $"{path}: line {line}, byte {position}: not valid JSON, the file may be truncated or damaged ({FirstSentence(e.Message)})",
                line,
                position,
                e
            );
        }
        using (document)
        {
            var shape = new Shape(path);
            shape.Checked(document.RootElement, "$");
            var root = shape.Object(document.RootElement, "the top level");
            // The follow-up format holds the interview on its own and the episode followed by it in full_conversation.
            var followup =
                root.TryGetProperty("followup_conversation", out var f) && f.ValueKind != JsonValueKind.Null
                    ? shape
                        .Array(f, "followup_conversation")
                        .Select((m, i) => Message(shape, m, $"followup_conversation[{i}]"))
                        .ToImmutableArray()
                    : [];
            var key = !followup.IsEmpty && !root.TryGetProperty("conversation", out _) ? "full_conversation" : "conversation";
            var conversation = shape
                .Array(shape.Required(root, key, "the top level"), key)
                .Select((m, i) => Message(shape, m, $"{key}[{i}]"))
                .ToImmutableArray();
            if (key == "full_conversation")
            {
                if (
                    conversation.Length < followup.Length
                    || !conversation[^followup.Length..].SequenceEqual(followup, MessageComparer.Instance)
                )
                    throw shape.Fail("full_conversation does not end with followup_conversation");
                conversation = conversation[..^followup.Length];
            }
            var metadata =
                root.TryGetProperty("experiment_metadata", out var meta) && meta.ValueKind != JsonValueKind.Null
                    ? Metadata(shape, shape.Object(meta, "experiment_metadata"))
                    : throw shape.Fail("experiment_metadata is missing");
            // The scratchpad examples keep their labels under main_task_evaluation (beside side_task_evaluation).
            var labelKey =
                root.TryGetProperty("task_evaluation", out var eval) && eval.ValueKind != JsonValueKind.Null ? "task_evaluation"
                : root.TryGetProperty("main_task_evaluation", out eval) && eval.ValueKind != JsonValueKind.Null ? "main_task_evaluation"
                : null;
            var labels = labelKey is not null
                ? shape
                    .Object(eval, labelKey)
                    .EnumerateObject()
                    .ToImmutableDictionary(p => p.Name, p => p.Value.Clone(), StringComparer.Ordinal)
                : ImmutableDictionary<string, JsonElement>.Empty;
            return new StudyTranscript(path, conversation, metadata, labels) { Followup = followup };
        }
    }

    private static StudyMessage Message(Shape shape, JsonElement element, string where)
    {
        var message = shape.Object(element, where);
        var role = shape.Text(shape.Required(message, "role", where), where + ".role") ?? throw shape.Fail($"{where}.role must be text");
        var content = message.TryGetProperty("content", out var c) ? shape.Text(c, where + ".content") : null;
        var calls = ImmutableArray<StudyToolCall>.Empty;
        if (message.TryGetProperty("tool_calls", out var map) && map.ValueKind != JsonValueKind.Null)
            calls = [.. shape.Object(map, where + ".tool_calls").EnumerateObject().Select(p => new StudyToolCall(p.Name, p.Value.Clone()))];
        return new StudyMessage(role, content, calls);
    }

    private static StudyExperimentMetadata Metadata(Shape shape, JsonElement meta)
    {
        JsonElement? Get(string key) => meta.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;
        string? Text(string key) => Get(key) is { } v ? shape.Text(v, "experiment_metadata." + key) : null;

        // false means "not set"; a number (a threshold) is kept as its text.
        string? Setting(string key) =>
            Get(key) switch
            {
                { ValueKind: JsonValueKind.False } => null,
                { ValueKind: JsonValueKind.String } v => v.GetString(),
                { ValueKind: JsonValueKind.Number } v => v.GetRawText(),
                { ValueKind: JsonValueKind.True } => "true",
                null => null,
                _ => throw shape.Fail($"experiment_metadata.{key} must be false, text or a number"),
            };

        var subject = Get("subject") switch
        {
            { ValueKind: JsonValueKind.Number } v when v.TryGetInt32(out var n) => n,
            { ValueKind: JsonValueKind.String } v
                when int.TryParse(v.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) => n,
            null => (int?)null,
            _ => throw shape.Fail("experiment_metadata.subject must be 1 (self) or 2 (peer)"),
        };
        var temperature = Get("agent_temperature") is { ValueKind: JsonValueKind.Number } t ? t.GetDouble() : (double?)null;
        var promptRelationship = Get("system_prompt_relationship") is { ValueKind: JsonValueKind.True or JsonValueKind.False } b
            ? b.GetBoolean()
            : (bool?)null;
        var peers = Get("peer_agent_names") is { } names
            ?
            [
                .. shape
                    .Array(names, "experiment_metadata.peer_agent_names")
                    .Select((n, i) => shape.Text(n, $"experiment_metadata.peer_agent_names[{i}]") ?? ""),
            ]
            : ImmutableArray<string>.Empty;
        return new StudyExperimentMetadata(
            Text("agent_model"),
            temperature,
            subject,
            Text("company_guideline"),
            Text("dataset"),
            Setting("alignment_faking_mode"),
            Setting("threshold"),
            promptRelationship,
            peers
        )
        {
            AgentHarness = Text("agent_harness"),
            CodingAgent = Text("coding_agent"),
            ReasoningScratchpadMode = Setting("reasoning_scratchpad_mode"),
        };
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(". ", StringComparison.Ordinal);
        return cut < 0 ? message.TrimEnd('.') : message[..cut];
    }

    /// <summary>Checks the study's shape and says where it is not met.</summary>
    private sealed class Shape(string path)
    {
        public StudyTranscriptException Fail(string problem) => new(path, $"{path}: not a study transcript: {problem}");

        public JsonElement Object(JsonElement e, string where) =>
            e.ValueKind == JsonValueKind.Object ? e : throw Fail($"{where} must be an object, found {Describe(e)}");

        public JsonElement.ArrayEnumerator Array(JsonElement e, string where) =>
            e.ValueKind == JsonValueKind.Array ? e.EnumerateArray() : throw Fail($"{where} must be a list, found {Describe(e)}");

        public JsonElement Required(JsonElement obj, string key, string where) =>
            obj.TryGetProperty(key, out var v) ? v : throw Fail($"{where} has no '{key}'");

        public string? Text(JsonElement e, string where) =>
            e.ValueKind switch
            {
                JsonValueKind.String => e.GetString(),
                JsonValueKind.Null => null,
                _ => throw Fail($"{where} must be text or null, found {Describe(e)}"),
            };

        /// <summary>
        /// Refuses, naming the JSON path, what JSON's grammar allows but a transcript cannot mean: text with no UTF-16
        /// form (an escaped lone surrogate such as <c>\ud800</c>) and a key given twice in one object (a label or an
        /// argument with two values). Nothing downstream then meets them half-way through a replay or an import.
        /// </summary>
        public void Checked(JsonElement e, string where)
        {
            switch (e.ValueKind)
            {
                case JsonValueKind.String:
                    Decode(where, e.GetString);
                    break;
                case JsonValueKind.Array:
                    var i = 0;
                    foreach (var item in e.EnumerateArray())
                        Checked(item, $"{where}[{i++}]");
                    break;
                case JsonValueKind.Object:
                    var names = new HashSet<string>(StringComparer.Ordinal);
                    foreach (var property in e.EnumerateObject())
                    {
                        var name = Decode($"a key in {where}", () => property.Name)!;
                        if (!names.Add(name))
                            throw Fail($"{where} has the key '{name}' twice");
                        Checked(property.Value, $"{where}.{name}");
                    }
                    break;
            }
        }

        private string? Decode(string where, Func<string?> read)
        {
            try
            {
                return read();
            }
            catch (InvalidOperationException e)
            {
                throw new StudyTranscriptException(
                    path,
                    $"{path}: {where}: text is not valid Unicode ({FirstSentence(e.Message)})",
                    inner: e
                );
            }
        }

        private static string Describe(JsonElement e) => e.ValueKind.ToString().ToLowerInvariant();
    }
}

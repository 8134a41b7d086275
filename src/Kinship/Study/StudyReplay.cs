using System.Collections.Immutable;
using System.Text.Json;
using Kinship.Agents;
using Kinship.Detectors;
using Kinship.Models;
using Kinship.Runs;
using Kinship.Scenarios;
using Kinship.Scoring;
using Kinship.Transcripts;
using Kinship.Workspaces;
using Kinship.World;
using Microsoft.Extensions.AI;

namespace Kinship.Study;

/// <summary>
/// A model that replays a recorded transcript: each call returns the next recorded assistant turn, its tool calls
/// with the recorded arguments in the recorded order. When the recording runs out it answers without a tool call,
/// which ends the agent loop. Call ids are <c>study_{turn}_{index}</c> so results can be matched to recorded ones.
/// </summary>
internal sealed class StudyReplayChatClient(StudyTranscript transcript) : NonStreamingChatClient
{
    private readonly ImmutableArray<StudyMessage> _turns = [.. transcript.AssistantTurns];

    public static string CallId(int turn, int index) => $"study_{turn}_{index}";

    public override Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        CancellationToken cancellationToken = default
    )
    {
        cancellationToken.ThrowIfCancellationRequested();
        // The position comes from the history, not a counter, so the client holds no state of its own.
        var taken = messages.Count(m => m.Role == ChatRole.Assistant);
        var contents = new List<AIContent>();
        if (taken < _turns.Length)
        {
            var turn = _turns[taken];
            if (!string.IsNullOrEmpty(turn.Content))
                contents.Add(new TextContent(turn.Content));
            for (var i = 0; i < turn.ToolCalls.Length; i++)
                contents.Add(new FunctionCallContent(CallId(taken + 1, i), turn.ToolCalls[i].Name, Arguments(turn.ToolCalls[i].Arguments)));
        }
        return Task.FromResult(
            new ChatResponse(new ChatMessage(ChatRole.Assistant, contents))
            {
                ModelId = "replay/" + (transcript.Metadata.AgentModel ?? "unknown"),
                FinishReason = contents.OfType<FunctionCallContent>().Any() ? ChatFinishReason.ToolCalls : ChatFinishReason.Stop,
            }
        );
    }

    /// <summary>Recorded arguments as a provider would deliver them: JSON values by name. Anything but an object carries no arguments.</summary>
    private static Dictionary<string, object?> Arguments(JsonElement arguments) =>
        arguments.ValueKind == JsonValueKind.Object
            ? arguments.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value, StringComparer.Ordinal)
            : [];
}

/// <summary>
/// A replayed tool call whose outcome in Kinship's world differs from the recorded one: <c>outcome</c> (one failed,
/// the other did not), <c>listing</c> (a listing held different names), <c>filename</c> (a single-file result named
/// a different file), <c>file_id</c> (a created drive file got another id), <c>sheets</c> (other sheet names),
/// <c>rows</c> (a sheet with another row count), <c>config</c> (other config keys or values), or
/// <c>not_replayed</c> (the replay stopped before reaching it).
/// </summary>
internal sealed record ReplayDivergence(int Turn, string Tool, string Kind, string Recorded, string Kinship)
{
    public override string ToString() => $"turn {Turn} {Tool}: {Kind}: recorded {Recorded}, Kinship {Kinship}";
}

/// <summary>The outcome of replaying one study transcript in Kinship's world.</summary>
internal sealed record StudyReplayResult(
    string File,
    string? Task,
    string? ScenarioId,
    Condition Condition,
    string Family,
    string? Subject,
    ImmutableArray<string> Notes,
    ImmutableDictionary<string, JsonElement> RecordedLabels,
    ImmutableArray<Verdict> Verdicts,
    ImmutableArray<LabelComparison> Comparisons,
    ImmutableArray<ReplayDivergence> Divergences,
    StopReason? Stop
)
{
    /// <summary>The scenario as rendered for the replay; null when nothing was replayed.</summary>
    public ScenarioInstance? Instance { get; init; }

    /// <summary>The replay as Kinship's own transcript; null when nothing was replayed.</summary>
    public Transcript? Transcript { get; init; }

    /// <summary>The world's final state after the replay; null when nothing was replayed.</summary>
    public WorldState? Final { get; init; }

    /// <summary>Every tool call the replay made against the world.</summary>
    public ImmutableArray<ToolCallRecord> Calls { get; init; } = [];

    /// <summary>
    /// Why the transcript was not replayed at all: it was recorded by another harness (the production-harness track's
    /// coding agents) whose tools the in-memory world does not model. Null for the main track.
    /// </summary>
    public string? Skipped { get; init; }

    /// <summary>False when the task is not built in Kinship yet or the transcript is another harness's; then nothing was replayed and <see cref="Notes"/> says why.</summary>
    public bool Replayed => ScenarioId is not null;

    public bool? Kinship(string label) => Verdicts.FirstOrDefault(v => v.Label == label)?.Flag;

    public Verdict? Verdict(string label) => Verdicts.FirstOrDefault(v => v.Label == label);

    public LabelComparison? Comparison(string label) => Comparisons.FirstOrDefault(c => c.Label == label);
}

/// <summary>
/// Replays a study transcript through Kinship's own pipeline (renderer, world, toolbox, agent loop, detectors) and
/// compares the labels Kinship derives with the ones the study recorded.
/// </summary>
internal static class StudyReplay
{
    public static Task<StudyReplayResult> RunAsync(
        string path,
        RunCache cache,
        TimeProvider time,
        CancellationToken cancellationToken = default
    ) => RunAsync(StudyTranscriptReader.Read(path), cache, time, cancellationToken);

    /// <param name="cache">Shared by the replays of one batch: many transcripts share a cell, rendered once.</param>
    /// <param name="time">The agent loop's clock (turn timings); the world runs on the scenario's stepping clock, as in a live run.</param>
    public static async Task<StudyReplayResult> RunAsync(
        StudyTranscript transcript,
        RunCache cache,
        TimeProvider time,
        CancellationToken cancellationToken = default
    )
    {
        var inference = StudyTranscriptInference.Infer(transcript);
        var file = Path.GetFileName(transcript.Path);
        if (inference.ScenarioId is not { } scenarioId)
            return new StudyReplayResult(
                file,
                inference.Task,
                null,
                inference.Condition,
                inference.Identity.Family,
                null,
                inference.Notes,
                transcript.TaskEvaluation,
                [],
                [],
                [],
                null
            )
            {
                Skipped = inference.Skipped,
            };

        var notes = inference.Notes.ToBuilder();
        var instance = cache.Instance(
            ScenarioLoader.LoadBuiltIn(scenarioId),
            inference.Condition,
            inference.Identity,
            new RenderOptions { Company = inference.Company, Ablations = Ablations(transcript) }
        );

        var turns = transcript.AssistantTurns.ToList();
        // Recorded turns without a tool call were answered by the study's harness with a reminder; allow exactly
        // that many so the replay continues through them and ends at the first turn after the recording.
        var silent = turns.Count(t => t.ToolCalls.IsEmpty);
        var options = new AgentLoopOptions { MaxTurns = turns.Count + silent + 2, NoToolCallReminders = silent };
        using var client = new StudyReplayChatClient(transcript);
        PlayedEpisode played;
        if (inference.Program is { } program)
        {
            // A production-harness transcript: its shell commands and file reads are re-executed in a real sandbox
            // against the episode's SSH servers, which need root.
            if (!Environment.IsPrivilegedProcess)
                return new StudyReplayResult(
                    file,
                    inference.Task,
                    null,
                    inference.Condition,
                    inference.Identity.Family,
                    null,
                    [.. notes],
                    transcript.TaskEvaluation,
                    [],
                    [],
                    [],
                    null
                )
                {
                    Skipped =
                        "a production-harness transcript is replayed by re-executing its shell commands against the episode's SSH servers, which need root",
                };
            var folder = Directory.CreateTempSubdirectory("kinship-replay-").FullName;
            try
            {
                var setup = new ShellSetup(folder, program, Sandbox.NextUid(), new SandboxLimits());
                var system = transcript.Conversation.FirstOrDefault(m => m.Role == "system")?.Content;
                played = await ShellEpisode
                    .PlayAsync(instance, client, options, time, cache, setup, cancellationToken, system)
                    .ConfigureAwait(false);
            }
            finally
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        else
            played = await Episode.PlayAsync(instance, client, options, time, cache, cancellationToken).ConfigureAwait(false);

        var comparisons = RecordedLabels.Compare(transcript.TaskEvaluation, instance, played.Verdicts, notes);
        var divergences = Diverge(transcript, played.Transcript, inference.Program is not null, notes);
        return new StudyReplayResult(
            file,
            inference.Task,
            scenarioId,
            inference.Condition,
            inference.Identity.Family,
            instance.Subject,
            notes.ToImmutable(),
            transcript.TaskEvaluation,
            played.Verdicts,
            comparisons,
            divergences,
            played.Transcript.Stop
        )
        {
            Instance = instance,
            Transcript = played.Transcript,
            Final = played.Final,
            Calls = played.Calls,
        };
    }

    /// <summary>
    /// The ablations a recording ran under, as far as Kinship has them: <c>scratchpad</c> when the study offered its
    /// <c>reasoning_scratchpad</c> tool, so the replayed calls to it reach the same tool.
    /// </summary>
    public static ImmutableSortedSet<string> Ablations(StudyTranscript transcript) =>
        transcript.Scratchpad
            ? ImmutableSortedSet.Create(StringComparer.Ordinal, "scratchpad")
            : ImmutableSortedSet.Create<string>(StringComparer.Ordinal);

    /// <summary>Each recorded call next to the same call in Kinship's world, compared on what both must agree on.</summary>
    private static ImmutableArray<ReplayDivergence> Diverge(
        StudyTranscript transcript,
        Transcript replayed,
        bool shell,
        ImmutableArray<string>.Builder notes
    )
    {
        var results = replayed.ToolResults.ToDictionary(r => r.CallId, StringComparer.Ordinal);
        var divergences = ImmutableArray.CreateBuilder<ReplayDivergence>();
        foreach (var (turn, index, call, output) in RecordedCalls(transcript, notes))
        {
            if (!results.TryGetValue(StudyReplayChatClient.CallId(turn, index), out var result))
            {
                divergences.Add(
                    new ReplayDivergence(
                        turn,
                        call.Name,
                        "not_replayed",
                        output is null ? "(no output recorded)" : "made",
                        $"the replay stopped first ({replayed.Stop})"
                    )
                );
                continue;
            }
            // A call whose output the study did not record (typically the final end_task) has nothing to compare.
            if (output is null)
                continue;
            // A shell prints nothing on success (rm, scp), and the program's recorder kept no file contents: an empty
            // recorded output there says nothing about the outcome.
            if (shell && string.IsNullOrWhiteSpace(output.Text))
                continue;

            var recordedFailed = RecordedOutputs.IsStudyFailure(output.Text);
            var kinshipFailed = result.Error is not null;
            if (recordedFailed != kinshipFailed)
            {
                divergences.Add(
                    new ReplayDivergence(
                        turn,
                        call.Name,
                        "outcome",
                        recordedFailed ? "failed: " + Short(output.Text) : "succeeded",
                        kinshipFailed ? "failed: " + result.Error : "succeeded"
                    )
                );
                continue;
            }
            if (recordedFailed)
                continue;

            if (RecordedOutputs.Listings.Contains(call.Name))
            {
                var expected = RecordedOutputs.Names(output.Text);
                var actual = RecordedOutputs.Names(result.Output);
                if (expected is null || actual is null)
                    notes.Add(
                        $"turn {turn} {call.Name}: the {(expected is null ? "recorded" : "Kinship")} listing could not be read as YAML, so it was not compared"
                    );
                else if (!expected.SetEquals(actual))
                    divergences.Add(new ReplayDivergence(turn, call.Name, "listing", Show(expected), Show(actual)));
            }
            else if (RecordedOutputs.SingleFile.Contains(call.Name) || RecordedOutputs.DriveFile.Contains(call.Name))
            {
                var expected = RecordedOutputs.Filename(output.Text);
                var actual = RecordedOutputs.Filename(result.Output);
                if (expected != actual)
                    divergences.Add(new ReplayDivergence(turn, call.Name, "filename", expected ?? "(none)", actual ?? "(none)"));
                if (
                    RecordedOutputs.DriveFile.Contains(call.Name)
                    && RecordedOutputs.DriveFileId(output.Text) is { } recordedId
                    && RecordedOutputs.DriveFileId(result.Output) is var kinshipId
                    && recordedId != kinshipId
                )
                    divergences.Add(new ReplayDivergence(turn, call.Name, "file_id", recordedId, kinshipId ?? "(none)"));
            }
            else if (call.Name == "list_sheets")
            {
                var expected = RecordedOutputs.SheetNames(output.Text);
                var actual = RecordedOutputs.SheetNames(result.Output);
                if (!expected.SetEquals(actual))
                    divergences.Add(new ReplayDivergence(turn, call.Name, "sheets", Show(expected), Show(actual)));
            }
            else if (call.Name == "view_sheet")
            {
                var expected = RecordedOutputs.SheetRows(output.Text);
                var actual = RecordedOutputs.SheetRows(result.Output);
                if (expected != actual)
                    divergences.Add(new ReplayDivergence(turn, call.Name, "rows", $"{expected} rows", $"{actual} rows"));
            }
            else if (RecordedOutputs.ConfigTools.Contains(call.Name))
            {
                var expected = RecordedOutputs.Config(output.Text);
                var actual = RecordedOutputs.Config(result.Output);
                if (expected is null || actual is null)
                    notes.Add(
                        $"turn {turn} {call.Name}: the {(expected is null ? "recorded" : "Kinship")} config could not be read as a Python dict, so it was not compared"
                    );
                else if (ConfigDifference(expected, actual) is { } difference)
                    divergences.Add(new ReplayDivergence(turn, call.Name, "config", difference.Recorded, difference.Kinship));
            }
        }
        return divergences.ToImmutable();
    }

    private sealed record RecordedOutput(string? Text);

    /// <summary>
    /// Every recorded call with its turn (counted as the agent loop counts: one per assistant message), its index in
    /// the turn and the output the study recorded for it, or null when none was. Outputs are matched by tool name
    /// among the tool messages that follow the turn.
    /// </summary>
    private static IEnumerable<(int Turn, int Index, StudyToolCall Call, RecordedOutput? Output)> RecordedCalls(
        StudyTranscript transcript,
        ImmutableArray<string>.Builder notes
    )
    {
        var messages = transcript.Conversation;
        var turn = 0;
        for (var i = 0; i < messages.Length; i++)
        {
            if (messages[i].Role != "assistant")
                continue;
            turn++;
            var answers = new List<StudyMessage>();
            for (var j = i + 1; j < messages.Length && messages[j].Role == "tool"; j++)
                answers.Add(messages[j]);
            var calls = messages[i].ToolCalls;
            var unattributed = answers.Any(a => a.ToolCalls.Length != 1) && calls.Length > 1;
            if (unattributed)
                notes.Add($"turn {turn}: the recorded outputs of its {calls.Length} calls cannot be told apart, so they were not compared");
            for (var k = 0; k < calls.Length; k++)
            {
                RecordedOutput? output = null;
                if (!unattributed)
                {
                    var answer = answers.FirstOrDefault(a => a.ToolCalls.Length == 1 && a.ToolCalls[0].Name == calls[k].Name)
                        ?? (calls.Length == 1 && answers.Count == 1 ? answers[0] : null);
                    if (answer is not null)
                    {
                        answers.Remove(answer);
                        output = new RecordedOutput(answer.Content);
                    }
                }
                yield return (turn, k, calls[k], output);
            }
        }
    }

    /// <summary>The keys the two configs do not share and the values they disagree on, each side as it stands; null when they are equal.</summary>
    private static (string Recorded, string Kinship)? ConfigDifference(
        ImmutableSortedDictionary<string, string> recorded,
        ImmutableSortedDictionary<string, string> kinship
    )
    {
        var keys = recorded
            .Keys.Union(kinship.Keys)
            .Where(k => !recorded.TryGetValue(k, out var r) || !kinship.TryGetValue(k, out var q) || r != q)
            .Order(StringComparer.Ordinal)
            .ToList();
        if (keys.Count == 0)
            return null;
        string Side(ImmutableSortedDictionary<string, string> config) =>
            "{" + string.Join(", ", keys.Select(k => config.TryGetValue(k, out var v) ? $"{k}: {Short(v)}" : $"{k}: (absent)")) + "}";
        return (Side(recorded), Side(kinship));
    }

    private static string Show(IEnumerable<string> names) => "[" + string.Join(", ", names) + "]";

    private static string Short(string? text) =>
        text is null ? ""
        : text.Length <= 120 ? text
        : text[..120] + "…";
}

using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Kinship.Agents;
using Kinship.Detectors;
using Kinship.Runs;
using Kinship.Scenarios;
using Kinship.Scoring;
using Kinship.Store;
using Kinship.Transcripts;

namespace Kinship.Study;

/// <summary>A transcript that could not be imported and why (its path and, for broken JSON, the line and byte).</summary>
internal sealed record ImportProblem(string Path, string Message, bool Failed);

/// <summary>
/// Turns the study's recorded transcripts into one run: each transcript is replayed in Kinship's world
/// (<see cref="StudyReplay"/>) and becomes a finished episode with the replay's transcript (carrying the study's
/// recorded prompts, not Kinship's rendering of them), final state and tool calls, Kinship's verdicts (source <c>rule</c>) and the study's labels (source <c>recorded</c>). Models are
/// <c>study/&lt;agent_model&gt;</c>, so an imported run never looks like one Kinship ran.
/// </summary>
internal static class StudyImporter
{
    public const string Preset = "import:study";

    public const string ModelPrefix = "study/";

    /// <summary>Files replayed and stored together: a few thousand replays in memory at a time, whatever the import's size.</summary>
    public const int Chunk = 2_000;

    /// <summary>
    /// Replays <paramref name="files"/> as episodes of run <paramref name="runId"/>, <paramref name="chunk"/> at a time, and hands each chunk's rows to
    /// <paramref name="store"/> as it is done, so an import of any size holds one chunk in memory. Files that cannot be
    /// imported go to <paramref name="problem"/> as they are found. Returns the run's record, or null when no file
    /// could be imported.
    /// </summary>
    public static async Task<(RunRecord? Run, int Imported, int Failed)> ReplayAsync(
        IReadOnlyList<string> files,
        string runId,
        string harnessVersion,
        DateTimeOffset started,
        TimeProvider time,
        Func<IReadOnlyList<EpisodeRow>, Task> store,
        Action<ImportProblem> problem,
        CancellationToken cancellationToken,
        int chunk = Chunk
    )
    {
        var specs = new List<EpisodeSpec>();
        var hash = new StringBuilder();
        var rollouts = new Dictionary<string, int>(StringComparer.Ordinal);
        var failed = 0;
        var cache = new RunCache();
        for (var from = 0; from < files.Count; from += chunk)
        {
            var count = Math.Min(chunk, files.Count - from);
            // Replays are independent and CPU-bound, so they run across cores; everything that depends on the order of
            // the files (episode indexes, rollout numbers, problems, the plan hash) is then decided in file order, so an
            // import stores exactly what a one-at-a-time import would.
            var replays = new Replayed[count];
            await Parallel
                .ForAsync(0, count, cancellationToken, async (i, ct) =>
                {
                    var file = files[from + i];
                    byte[] bytes;
                    StudyTranscript transcript;
                    try
                    {
                        bytes = StudyTranscriptReader.ReadBytes(file);
                        transcript = StudyTranscriptReader.Parse(file, bytes);
                    }
                    catch (StudyTranscriptException e)
                    {
                        replays[i] = new Replayed(null, null, null, e.Message);
                        return;
                    }
                    var replay = await StudyReplay.RunAsync(transcript, cache, time, ct).ConfigureAwait(false);
                    replays[i] = new Replayed(transcript, replay, Convert.ToHexStringLower(SHA256.HashData(bytes)), null);
                })
                .ConfigureAwait(false);

            var episodes = new List<EpisodeResult>(count);
            var followups = new List<Interviews.Interview?>(count);
            for (var i = 0; i < count; i++)
            {
                var file = files[from + i];
                if (replays[i] is not { Transcript: { } transcript, Replay: { } replay, Sha256: { } sha256 })
                {
                    failed++;
                    problem(new ImportProblem(file, replays[i].Problem!, true));
                    continue;
                }
                if (Episode(specs.Count, replay, transcript, rollouts) is not { } episode)
                {
                    // A task Kinship has not built, or another harness's recording, has no world to replay in; it is left
                    // out, not a failure of the file.
                    problem(new ImportProblem(file, $"{file}: not imported: {replay.Skipped ?? string.Join("; ", replay.Notes)}", false));
                    continue;
                }
                episodes.Add(episode);
                // The recorded interview is labelled as a Kinship interview is when stored: by the interview rules, on the replayed episode.
                var followup = StudyFollowup.Interview(transcript, episode);
                if (followup is not null && replay is { Instance: { } instance, Transcript: { } played, Final: { } final })
                    followup = followup with
                    {
                        Verdicts = new InterviewRuleScorer(cache.Rules).Score(
                            new ScoredInterview(new ScoredEpisode(instance, played, final, replay.Calls), episode.Verdicts, followup)
                        ),
                    };
                followups.Add(followup);
                specs.Add(episode.Spec);
                hash.Append(sha256).Append('\n');
            }
            // Serialising a row is pure and about as costly as a replay, so it runs across cores too.
            var rows = new EpisodeRow[episodes.Count];
            Parallel.For(0, rows.Length, new ParallelOptions { CancellationToken = cancellationToken }, i =>
                rows[i] = EpisodeRow.From(episodes[i]) with { Interviews = followups[i] is { } interview ? [interview] : [] }
            );
            if (rows.Length > 0)
                await store(rows).ConfigureAwait(false);
        }
        return (specs.Count == 0 ? null : Record(runId, specs, harnessVersion, started, hash.ToString()), specs.Count, failed);
    }

    /// <summary>One file's replay (with its SHA-256 for the plan hash), or why it could not be read.</summary>
    private readonly record struct Replayed(StudyTranscript? Transcript, StudyReplayResult? Replay, string? Sha256, string? Problem);

    /// <summary>One replayed transcript as a finished episode, or null when nothing was replayed.</summary>
    public static EpisodeResult? Episode(int index, StudyReplayResult replay, StudyTranscript transcript, Dictionary<string, int> rollouts)
    {
        if (replay is not { ScenarioId: { } scenario, Instance: { } instance, Transcript: { } replayed, Final: { } final })
            return null;
        var model = ModelPrefix + (transcript.Metadata.AgentModel ?? "unknown");
        var cell = $"{model} {scenario} {replay.Condition.Key}";
        var rollout = rollouts.GetValueOrDefault(cell);
        rollouts[cell] = rollout + 1;
        var spec = new EpisodeSpec(index, scenario, replay.Condition, model, rollout, 0)
        {
            Ablations = [.. StudyReplay.Ablations(transcript)],
        };
        ImmutableArray<Verdict> verdicts = [.. replay.Verdicts, .. Recorded(replay, transcript.Path)];
        return new EpisodeResult(
            spec,
            EpisodeStatus.Completed,
            null,
            new AgentIdentity(replay.Family).Critic,
            instance.Subject,
            instance.Tools,
            WithRecordedPrompts(replayed, transcript),
            final,
            replay.Calls,
            verdicts
        );
    }

    /// <summary>
    /// The replay's transcript with the study's own prompts in place of Kinship's: the replay ran on Kinship's rendering
    /// of the scenario, but the recorded replies answer the study's text, so a stored episode shows what the model was
    /// actually told. Each recorded system or user message keeps its place: after as many assistant turns as preceded
    /// it in the recording (turn 0 for the opening prompts, later turns for the study's reminders, which replace Kinship's).
    /// </summary>
    public static Transcript WithRecordedPrompts(Transcript replayed, StudyTranscript transcript)
    {
        var prompts = new List<PromptEvent>();
        var turn = 0;
        foreach (var m in transcript.Conversation)
        {
            if (m.Role == "assistant")
                turn++;
            else if (m.Role != "tool")
                prompts.Add(new PromptEvent(turn, m.Role, m.Content ?? ""));
        }
        var events = ImmutableArray.CreateBuilder<TranscriptEvent>(replayed.Events.Length);
        var next = 0;
        foreach (var e in replayed.Events)
        {
            if (e is PromptEvent)
                continue;
            while (next < prompts.Count && prompts[next].Turn < e.Turn)
                events.Add(prompts[next++]);
            events.Add(e);
        }
        while (next < prompts.Count)
            events.Add(prompts[next++]);
        return replayed with { Events = events.ToImmutable() };
    }

    /// <summary>
    /// The study's labels as verdicts with source <c>recorded</c>, in the same shapes Kinship's verdicts use: flags,
    /// the score as a number, the threshold and the finance labels as text (the subject's entry, or the only one).
    /// The raw recorded JSON is the evidence.
    /// </summary>
    public static IEnumerable<Verdict> Recorded(StudyReplayResult replay, string file)
    {
        foreach (var (label, value) in replay.RecordedLabels.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            ImmutableArray<Evidence> evidence = [new Evidence("recorded", Path.GetFileName(file), value.GetRawText())];
            const string detector = "study";
            const string rule = "recorded by the study's evaluator";
            yield return value.ValueKind switch
            {
                JsonValueKind.True or JsonValueKind.False => new Verdict(
                    label,
                    value.GetBoolean(),
                    detector,
                    rule,
                    evidence,
                    Source: VerdictSource.Recorded
                ),
                JsonValueKind.Number => new Verdict(
                    label,
                    null,
                    detector,
                    rule,
                    evidence,
                    Number: value.GetDouble(),
                    Source: VerdictSource.Recorded
                ),
                JsonValueKind.String
                    when label == "score"
                        && double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var n) => new Verdict(
                    label,
                    null,
                    detector,
                    rule,
                    evidence,
                    Number: n,
                    Source: VerdictSource.Recorded
                ),
                JsonValueKind.String => new Verdict(
                    label,
                    null,
                    detector,
                    rule,
                    evidence,
                    Text: value.GetString(),
                    Source: VerdictSource.Recorded
                ),
                JsonValueKind.Object => new Verdict(
                    label,
                    null,
                    detector,
                    rule,
                    evidence,
                    Text: Entry(value, replay.Subject),
                    Source: VerdictSource.Recorded
                ),
                _ => new Verdict(label, null, detector, rule, evidence, Source: VerdictSource.Recorded),
            };
        }
    }

    /// <summary>The finance labels are keyed by the subject's name; a single entry under another name is still the product's (as <c>kinship replay</c> compares them).</summary>
    private static string Entry(JsonElement value, string? subject)
    {
        var entries = value.EnumerateObject().ToList();
        var entry = entries.FirstOrDefault(e => e.Name == subject);
        if (entry.Value.ValueKind == JsonValueKind.Undefined && entries.Count == 1)
            entry = entries[0];
        return entry.Value.ValueKind switch
        {
            JsonValueKind.String => entry.Value.GetString() ?? "None",
            JsonValueKind.Undefined or JsonValueKind.Null => "None",
            _ => entry.Value.GetRawText(),
        };
    }

    public static RunRecord Record(IReadOnlyList<EpisodeRow> rows, string harnessVersion, DateTimeOffset started, string files) =>
        Record(RunId(started), [.. rows.Select(r => r.Result.Spec)], harnessVersion, started, files);

    /// <summary>A new imported run's id: when it started, and a random suffix.</summary>
    public static string RunId(DateTimeOffset started) =>
        started.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-import-" + Guid.NewGuid().ToString("N")[..6];

    /// <summary>The run an import stores: its manifest is made from the episodes' specs, its plan hash from the files' hashes.</summary>
    private static RunRecord Record(
        string runId,
        IReadOnlyList<EpisodeSpec> episodes,
        string harnessVersion,
        DateTimeOffset started,
        string files
    )
    {
        var scenarios = episodes
            .Select(e => e.Scenario)
            .Distinct()
            .Order(StringComparer.Ordinal)
            .Select(id => ScenarioSource.Resolve(id).Source)
            .ToImmutableArray();
        var conditions = episodes.Select(e => e.Condition).ToList();
        var manifest = new RunManifest(
            runId,
            started,
            harnessVersion,
            [.. episodes.Select(e => e.Model).Distinct().Order(StringComparer.Ordinal)],
            scenarios.ToImmutableSortedDictionary(s => s.Id, s => s.File, StringComparer.Ordinal),
            [.. conditions.Select(c => c.RelationshipName).Distinct().Order(StringComparer.Ordinal)],
            [.. conditions.Where(c => c.HasPeer).Select(c => Names.Conveyance(c.Conveyance)).Distinct().Order(StringComparer.Ordinal)],
            [.. conditions.Select(c => Names.Subject(c.Subject)).Distinct().Order(StringComparer.Ordinal)],
            // One episode per file: the plan is the files themselves.
            1,
            0,
            episodes.Count,
            new RenderOptions(),
            new AgentLoopOptions()
        )
        {
            Preset = Preset,
        };
        var options = new RunOptions(null, null);
        var planHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("import\n" + files)));
        return new RunRecord(runId, started, harnessVersion, planHash, manifest, options, scenarios);
    }
}

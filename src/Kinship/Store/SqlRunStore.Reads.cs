using System.Collections.Immutable;
using System.Data.Common;
using System.Text.Json;
using Kinship.Detectors;
using Kinship.Runs;
using Kinship.Scenarios;
using Kinship.Transcripts;
using Kinship.World;

namespace Kinship.Store;

/// <summary>Reading finished episodes: outcomes for the numbers, whole episodes for transcripts and exports.</summary>
internal abstract partial class SqlRunStore : IRunReader
{
    /// <summary>Every finished episode of a run, by index. Episodes given up on have an empty transcript with their cause.</summary>
    public async Task<IReadOnlyList<EpisodeResult>> ReadEpisodesAsync(string runId, CancellationToken cancellationToken) =>
        await WithInterviewsAsync(
                runId,
                await ReadAsync(runId, 0, int.MaxValue, cancellationToken).ConfigureAwait(false),
                0,
                int.MaxValue,
                cancellationToken
            )
            .ConfigureAwait(false);

    public async Task<EpisodeResult?> ReadEpisodeAsync(string runId, int index, CancellationToken cancellationToken) =>
        (
            await WithInterviewsAsync(
                    runId,
                    await ReadAsync(runId, index, index, cancellationToken).ConfigureAwait(false),
                    index,
                    index,
                    cancellationToken
                )
                .ConfigureAwait(false)
        ).FirstOrDefault();

    /// <summary>The episodes with their interviews (<see cref="EpisodeResult.Interviews"/>), read for the same range of indexes.</summary>
    private async Task<IReadOnlyList<EpisodeResult>> WithInterviewsAsync(
        string runId,
        IReadOnlyList<EpisodeResult> episodes,
        int first,
        int last,
        CancellationToken cancellationToken
    )
    {
        if (episodes.Count == 0)
            return episodes;
        var interviews = (await ReadInterviewPageAsync(runId, first, last, cancellationToken).ConfigureAwait(false))
            .GroupBy(i => i.Index)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<Interviews.Interview>)[.. g.Select(i => i.Interview)]);
        return interviews.Count == 0
            ? episodes
            : [.. episodes.Select(e => interviews.TryGetValue(e.Spec.Index, out var list) ? e with { Interviews = list } : e)];
    }

    /// <summary>
    /// Finished episodes in batches of at most <paramref name="batch"/> by index, so a large run can be worked through
    /// without holding every transcript in memory at once.
    /// </summary>
    public async IAsyncEnumerable<IReadOnlyList<EpisodeResult>> ReadEpisodeBatchesAsync(
        string runId,
        int batch,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken
    )
    {
        var planned = (await GetRunAsync(runId, cancellationToken).ConfigureAwait(false)).Manifest.PlannedEpisodes;
        for (var from = 0; from < planned; from += batch)
        {
            var last = Math.Min(planned, from + batch) - 1;
            var episodes = await WithInterviewsAsync(
                    runId,
                    await ReadAsync(runId, from, last, cancellationToken).ConfigureAwait(false),
                    from,
                    last,
                    cancellationToken
                )
                .ConfigureAwait(false);
            if (episodes.Count > 0)
                yield return episodes;
        }
    }

    /// <summary>
    /// Every finished episode's outcome (verdicts, status, token count, no transcript, final state or tool calls):
    /// what rate tables and metrics are computed from, read in a fraction of the time and memory whole episodes take.
    /// </summary>
    public Task<IReadOnlyList<EpisodeOutcome>> ReadOutcomesAsync(string runId, CancellationToken cancellationToken) =>
        RunAsync<IReadOnlyList<EpisodeOutcome>>(
            async c =>
            {
                var shared = new SharedValues();
                var verdicts = await ReadVerdictsAsync(c, runId, "", 0, 0, cancellationToken, shared).ConfigureAwait(false);
                var outcomes = new List<EpisodeOutcome>();
                await using var cmd = Command(
                    c,
                    null,
                    $"""
                    SELECT idx, model, scenario, condition_json, rollout, seed, status, error_cause, critic, subject, ablations, started, finished, stop, tokens
                    FROM episodes WHERE run_id = @run AND status IN ('{Completed}', '{Error}') ORDER BY idx
                    """,
                    ("run", runId)
                );
                await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var idx = r.GetInt32(0);
                    outcomes.Add(
                        new EpisodeOutcome(
                            Spec(r, 0, 10, shared),
                            Status(r.GetString(6)),
                            r.IsDBNull(7) ? null : shared.Text(r.GetString(7)),
                            r.IsDBNull(8) ? "" : shared.Text(r.GetString(8)),
                            r.IsDBNull(9) ? "" : shared.Text(r.GetString(9)),
                            r.IsDBNull(13) ? null : Enum.Parse<StopReason>(r.GetString(13)),
                            r.IsDBNull(14) ? 0 : Convert.ToInt64(r.GetValue(14)),
                            verdicts.TryGetValue(idx, out var v) ? v.DrainToImmutable() : []
                        )
                        {
                            Started = At(r, 11),
                            Finished = At(r, 12),
                        }
                    );
                }
                return outcomes;
            },
            cancellationToken
        );

    /// <summary>
    /// Values that repeat across a run's rows (labels, rules, detectors, evidence, conditions: a few dozen distinct
    /// ones in millions of rows), read once and shared, so a large run's outcomes take a fraction of the memory.
    /// Up to <see cref="Limit"/> distinct values of each kind are kept; rarer ones beyond that are read as they come.
    /// </summary>
    private sealed class SharedValues
    {
        private const int Limit = 20_000;
        private readonly Dictionary<string, string> _texts = new(StringComparer.Ordinal);
        private readonly Dictionary<string, ImmutableArray<Evidence>> _evidence = new(StringComparer.Ordinal);
        private readonly Dictionary<string, Condition> _conditions = new(StringComparer.Ordinal);
        private readonly Dictionary<string, ImmutableArray<string>> _ablations = new(StringComparer.Ordinal);

        public string Text(string text) => Shared(_texts, text, t => t);

        public ImmutableArray<Evidence> Evidence(string json) =>
            Shared(_evidence, json, j => JsonSerializer.Deserialize<ImmutableArray<Evidence>>(j, RunJson.Options));

        public Condition Condition(string json) =>
            Shared(_conditions, json, j => JsonSerializer.Deserialize<Condition>(j, RunJson.Options)!);

        public ImmutableArray<string> Ablations(string json) =>
            Shared(_ablations, json, j => JsonSerializer.Deserialize<ImmutableArray<string>>(j, RunJson.Options));

        private static T Shared<T>(Dictionary<string, T> values, string key, Func<string, T> read)
        {
            if (values.TryGetValue(key, out var value))
                return value;
            value = read(key);
            if (values.Count < Limit)
                values[key] = value;
            return value;
        }
    }

    /// <summary>Each episode's verdicts in the order the run wrote them, by index.</summary>
    private static async Task<Dictionary<int, ImmutableArray<Verdict>.Builder>> ReadVerdictsAsync(
        DbConnection c,
        string runId,
        string only,
        int first,
        int last,
        CancellationToken cancellationToken,
        SharedValues? shared = null
    )
    {
        shared ??= new SharedValues();
        var verdicts = new Dictionary<int, ImmutableArray<Verdict>.Builder>();
        await using (
            var cmd = Command(
                c,
                null,
                $"SELECT idx, label, flag, number, text, detector, rule, evidence, source, scoring FROM verdicts WHERE run_id = @run{only} ORDER BY idx, ord",
                ("run", runId),
                ("idx", first),
                ("last", last)
            )
        )
        await using (var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var idx = r.GetInt32(0);
                if (!verdicts.TryGetValue(idx, out var list))
                    verdicts[idx] = list = ImmutableArray.CreateBuilder<Verdict>();
                list.Add(
                    new Verdict(
                        shared.Text(r.GetString(1)),
                        r.IsDBNull(2) ? null : Convert.ToInt64(r.GetValue(2)) != 0,
                        shared.Text(r.GetString(5)),
                        shared.Text(r.GetString(6)),
                        shared.Evidence(r.GetString(7)),
                        r.IsDBNull(3) ? null : r.GetDouble(3),
                        r.IsDBNull(4) ? null : shared.Text(r.GetString(4)),
                        shared.Text(r.GetString(8)),
                        Convert.ToInt32(r.GetValue(9))
                    )
                );
            }
        }
        return verdicts;
    }

    private static EpisodeSpec Spec(DbDataReader r, int first, int ablations, SharedValues? shared = null)
    {
        shared ??= new SharedValues();
        return new(
            r.GetInt32(first),
            shared.Text(r.GetString(first + 2)),
            shared.Condition(r.GetString(first + 3)),
            shared.Text(r.GetString(first + 1)),
            r.GetInt32(first + 4),
            unchecked((ulong)r.GetInt64(first + 5))
        )
        {
            Ablations = shared.Ablations(r.GetString(ablations)),
        };
    }

    private static DateTimeOffset? At(DbDataReader r, int column) =>
        r.IsDBNull(column) ? null : DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(r.GetValue(column)));

    private Task<IReadOnlyList<EpisodeResult>> ReadAsync(string runId, int first, int last, CancellationToken cancellationToken) =>
        RunAsync<IReadOnlyList<EpisodeResult>>(
            async c =>
            {
                var only = first == 0 && last == int.MaxValue ? "" : " AND idx BETWEEN @idx AND @last";
                var shared = new SharedValues();
                var verdicts = await ReadVerdictsAsync(c, runId, only, first, last, cancellationToken, shared).ConfigureAwait(false);
                var results = new List<EpisodeResult>();
                await using (
                    var cmd = Command(
                        c,
                        null,
                        $"""
                        SELECT idx, model, scenario, condition_json, rollout, seed, status, error_cause, critic, subject,
                            tools, transcript, final_state, calls, ablations, started, finished, stop, tokens
                        FROM episodes WHERE run_id = @run AND status IN ('{Completed}', '{Error}'){only} ORDER BY idx
                        """,
                        ("run", runId),
                        ("idx", first),
                        ("last", last)
                    )
                )
                await using (var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
                {
                    while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        var idx = r.GetInt32(0);
                        var spec = Spec(r, 0, 14, shared);
                        var status = Status(r.GetString(6));
                        var cause = r.IsDBNull(7) ? null : r.GetString(7);
                        // Only an attempt that produced a result writes the stop reason.
                        if (r.IsDBNull(17))
                        {
                            // Given up on before any attempt produced a result: there is nothing but the cause to show.
                            results.Add(
                                new EpisodeResult(
                                    spec,
                                    status,
                                    cause,
                                    "",
                                    "",
                                    [],
                                    new Transcript(
                                        [new ErrorEvent(0, "harness", cause ?? "")],
                                        StopReason.ModelError,
                                        TokenUsage.Zero,
                                        0,
                                        0
                                    ),
                                    WorldState.Empty(""),
                                    [],
                                    []
                                )
                                {
                                    Started = At(r, 15),
                                    Finished = At(r, 16),
                                }
                            );
                            continue;
                        }
                        results.Add(
                            new EpisodeResult(
                                spec,
                                status,
                                cause,
                                r.GetString(8),
                                r.GetString(9),
                                JsonSerializer.Deserialize<ImmutableArray<string>>(r.GetString(10), RunJson.Options),
                                JsonSerializer.Deserialize<Transcript>(r.GetString(11), RunJson.Options)!,
                                JsonSerializer.Deserialize<WorldState>(r.GetString(12), RunJson.Options)!,
                                JsonSerializer.Deserialize<ImmutableArray<ToolCallRecord>>(r.GetString(13), RunJson.Options),
                                verdicts.TryGetValue(idx, out var v) ? v.ToImmutable() : []
                            )
                            {
                                Started = At(r, 15),
                                Finished = At(r, 16),
                            }
                        );
                    }
                }
                var keys = new HashSet<string>(StringComparer.Ordinal);
                foreach (var e in results)
                    StoredTexts.References(e.Transcript, e.Final, keys);
                if (keys.Count == 0)
                    return results;
                var texts = await ReadTextsAsync(c, runId, keys, cancellationToken).ConfigureAwait(false);
                return
                [
                    .. results.Select(e =>
                    {
                        var where = $"{Location}: run {runId}, episode {e.Spec.Index}";
                        return e with
                        {
                            Transcript = StoredTexts.Resolve(e.Transcript, texts, where),
                            Final = StoredTexts.Resolve(e.Final, texts, where),
                        };
                    }),
                ];
            },
            cancellationToken
        );
}

using System.Collections.Immutable;
using System.Data.Common;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Kinship.Detectors;
using Kinship.Interviews;
using Kinship.Runs;
using Kinship.Transcripts;
using Kinship.World;

namespace Kinship.Store;

/// <summary>An interview as stored: the episode it continues, when it was stored, and the interview.</summary>
internal sealed record StoredInterview(int Index, DateTimeOffset Created, Interview Interview);

/// <summary>Follow-up interviews, stored beside their episodes; an interview is added, never changed.</summary>
internal abstract partial class SqlRunStore
{
    /// <summary>Interviews read together when a run's are streamed.</summary>
    public const int InterviewPage = 200;

    /// <summary>
    /// Stores an interview of episode <paramref name="index"/> and returns its number (one more than the episode's
    /// last interview's; the <see cref="Interview.Number"/> given is replaced by it).
    /// </summary>
    public Task<int> AddInterviewAsync(
        string runId,
        int index,
        Interview interview,
        DateTimeOffset created,
        CancellationToken cancellationToken
    )
    {
        // Serialised before the connection is taken, as an episode's columns are.
        var columns = new InterviewColumns(interview);
        return RunAsync(
            async c =>
            {
                await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                var episode = await ScalarAsync(
                        c,
                        tx,
                        "SELECT status FROM episodes WHERE run_id = @run AND idx = @idx",
                        cancellationToken,
                        ("run", runId),
                        ("idx", index)
                    )
                    .ConfigureAwait(false);
                if (episode is not string status || (status != Completed && status != Error))
                    throw new RunStoreException($"{Location}: run {runId} has no finished episode {index} to store an interview of");
                var number = Convert.ToInt32(
                    await ScalarAsync(
                            c,
                            tx,
                            "SELECT COALESCE(MAX(number), 0) + 1 FROM interviews WHERE run_id = @run AND idx = @idx",
                            cancellationToken,
                            ("run", runId),
                            ("idx", index)
                        )
                        .ConfigureAwait(false)
                );
                await InsertInterviewAsync(c, tx, runId, index, number, columns, created.ToUnixTimeMilliseconds(), cancellationToken)
                    .ConfigureAwait(false);
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                return number;
            },
            cancellationToken
        );
    }

    /// <summary>An interview's JSON columns and the long texts its final state refers to.</summary>
    private sealed class InterviewColumns
    {
        public InterviewColumns(Interview interview)
        {
            Interview = interview;
            Final = interview.Final is { } f ? JsonSerializer.Serialize(StoredTexts.Pool(f, Texts), RunJson.Options) : null;
            Exchanges = JsonSerializer.Serialize(interview.Exchanges, RunJson.Options);
            Usage = JsonSerializer.Serialize(interview.Usage, RunJson.Options);
            Verdicts = JsonSerializer.Serialize(interview.Verdicts, RunJson.Options);
        }

        public Interview Interview { get; }

        public Dictionary<string, string> Texts { get; } = new(StringComparer.Ordinal);

        public string? Final { get; }

        public string Exchanges { get; }

        public string Usage { get; }

        public string Verdicts { get; }
    }

    /// <summary>Writes one interview row (and its texts) in the caller's transaction.</summary>
    private static async Task InsertInterviewAsync(
        DbConnection c,
        DbTransaction tx,
        string runId,
        int index,
        int number,
        InterviewColumns columns,
        long created,
        CancellationToken cancellationToken
    )
    {
        foreach (var (key, body) in columns.Texts)
            await ExecuteAsync(
                    c,
                    tx,
                    "INSERT INTO texts (run_id, text_key, body) VALUES (@run, @key, @body) ON CONFLICT (run_id, text_key) DO NOTHING",
                    cancellationToken,
                    ("run", runId),
                    ("key", key),
                    ("body", body)
                )
                .ConfigureAwait(false);
        var interview = columns.Interview;
        await ExecuteAsync(
                c,
                tx,
                """
                INSERT INTO interviews (run_id, idx, number, question_set, model, created, end_reason, error, usage, exchanges, final_state, verdicts)
                VALUES (@run, @idx, @number, @set, @model, @created, @end, @error, @usage, @exchanges, @final, @verdicts)
                """,
                cancellationToken,
                ("run", runId),
                ("idx", index),
                ("number", number),
                ("set", interview.QuestionSet),
                ("model", interview.Model),
                ("created", created),
                ("end", interview.End.ToString()),
                ("error", interview.Error),
                ("usage", columns.Usage),
                ("exchanges", columns.Exchanges),
                ("final", columns.Final),
                ("verdicts", columns.Verdicts)
            )
            .ConfigureAwait(false);
    }

    /// <summary>An episode's interviews, by number.</summary>
    public async Task<IReadOnlyList<Interview>> ReadInterviewsAsync(string runId, int index, CancellationToken cancellationToken) =>
        [.. (await ReadInterviewPageAsync(runId, index, index, cancellationToken).ConfigureAwait(false)).Select(i => i.Interview)];

    /// <summary>
    /// A run's interviews by episode and number, read a page of episodes at a time, so the interviews of a run of any
    /// size are never all in memory at once.
    /// </summary>
    public IAsyncEnumerable<StoredInterview> ReadRunInterviewsAsync(string runId, CancellationToken cancellationToken) =>
        ReadRunInterviewsAsync(runId, InterviewPage, cancellationToken);

    /// <param name="page">How many episodes' interviews are read together.</param>
    public async IAsyncEnumerable<StoredInterview> ReadRunInterviewsAsync(
        string runId,
        int page,
        [EnumeratorCancellation] CancellationToken cancellationToken
    )
    {
        var after = -1;
        while (true)
        {
            // The next page starts at the next episode that has an interview, so sparse interviews cost no empty reads.
            var first = await RunAsync(
                    async c =>
                        await ScalarAsync(
                                c,
                                null,
                                "SELECT MIN(idx) FROM interviews WHERE run_id = @run AND idx > @after",
                                cancellationToken,
                                ("run", runId),
                                ("after", after)
                            )
                            .ConfigureAwait(false),
                    cancellationToken
                )
                .ConfigureAwait(false);
            if (first is null)
                yield break;
            var from = Convert.ToInt32(first);
            foreach (var i in await ReadInterviewPageAsync(runId, from, from + page - 1, cancellationToken).ConfigureAwait(false))
                yield return i;
            after = from + page - 1;
        }
    }

    /// <summary>
    /// The finished episodes whose label is true by the verdict the run's tables count (the rule verdict of the latest
    /// scoring, as <see cref="EpisodeOutcome.Counted"/> picks it), by index; null when no episode has a rule verdict
    /// for the label. Only indexes are held, so a run of any size costs a few bytes per episode.
    /// </summary>
    public Task<IReadOnlyList<int>?> EpisodesWhereAsync(string runId, string label, CancellationToken cancellationToken) =>
        RunAsync<IReadOnlyList<int>?>(
            async c =>
            {
                var found = new List<int>();
                var any = false;
                await using var cmd = Command(
                    c,
                    null,
                    $"SELECT idx, scoring, flag FROM verdicts WHERE run_id = @run AND label = @label AND source = '{VerdictSource.Rule}' ORDER BY idx, scoring, ord",
                    ("run", runId),
                    ("label", label)
                );
                await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                int? index = null;
                int scoring = -1;
                bool? flag = null;
                void Close()
                {
                    if (index is { } i && flag == true)
                        found.Add(i);
                }
                while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    any = true;
                    var idx = r.GetInt32(0);
                    var s = Convert.ToInt32(r.GetValue(1));
                    if (idx != index)
                    {
                        Close();
                        (index, scoring, flag) = (idx, -1, null);
                    }
                    // The first verdict of each later scoring replaces the one counted so far.
                    if (s > scoring)
                        (scoring, flag) = (s, r.IsDBNull(2) ? null : Convert.ToInt64(r.GetValue(2)) != 0);
                }
                Close();
                return any ? found : null;
            },
            cancellationToken
        );

    /// <summary>The labels a run's rule verdicts carry, in order.</summary>
    public Task<IReadOnlyList<string>> LabelsAsync(string runId, CancellationToken cancellationToken) =>
        RunAsync<IReadOnlyList<string>>(
            async c =>
            {
                var labels = new List<string>();
                await using var cmd = Command(
                    c,
                    null,
                    "SELECT DISTINCT label FROM verdicts WHERE run_id = @run ORDER BY label",
                    ("run", runId)
                );
                await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
                    labels.Add(r.GetString(0));
                return labels;
            },
            cancellationToken
        );

    /// <summary>The episodes of a run that have an interview with this question set (small: indexes only).</summary>
    public Task<IReadOnlySet<int>> InterviewedAsync(string runId, string questionSet, CancellationToken cancellationToken) =>
        RunAsync<IReadOnlySet<int>>(
            async c =>
            {
                var found = new HashSet<int>();
                await using var cmd = Command(
                    c,
                    null,
                    "SELECT DISTINCT idx FROM interviews WHERE run_id = @run AND question_set = @set",
                    ("run", runId),
                    ("set", questionSet)
                );
                await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
                    found.Add(r.GetInt32(0));
                return found;
            },
            cancellationToken
        );

    private Task<List<StoredInterview>> ReadInterviewPageAsync(string runId, int first, int last, CancellationToken cancellationToken) =>
        RunAsync(
            async c =>
            {
                var rows = new List<(int Index, DateTimeOffset Created, Interview Interview)>();
                await using (
                    var cmd = Command(
                        c,
                        null,
                        """
                        SELECT idx, number, question_set, model, created, end_reason, error, usage, exchanges, final_state, verdicts
                        FROM interviews WHERE run_id = @run AND idx BETWEEN @first AND @last ORDER BY idx, number
                        """,
                        ("run", runId),
                        ("first", first),
                        ("last", last)
                    )
                )
                await using (var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
                {
                    while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        var where = $"{Location}: run {runId}, episode {r.GetInt32(0)}, interview {r.GetInt32(1)}";
                        rows.Add(
                            (
                                r.GetInt32(0),
                                DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(r.GetValue(4))),
                                new Interview(
                                    r.GetInt32(1),
                                    r.GetString(2),
                                    r.GetString(3),
                                    Json<ImmutableArray<InterviewExchange>>(r.GetString(8), where),
                                    Enum.TryParse<InterviewEnd>(r.GetString(5), out var end)
                                        ? end
                                        : throw new RunStoreException($"{where}: unknown end '{r.GetString(5)}'"),
                                    r.IsDBNull(6) ? null : r.GetString(6),
                                    Json<TokenUsage>(r.GetString(7), where),
                                    r.IsDBNull(9) ? null : Json<WorldState>(r.GetString(9), where),
                                    Json<ImmutableArray<Verdict>>(r.GetString(10), where)
                                )
                            )
                        );
                    }
                }
                var keys = new HashSet<string>(StringComparer.Ordinal);
                foreach (var row in rows)
                    if (row.Interview.Final is { } world)
                        StoredTexts.References(world, keys);
                var texts = keys.Count == 0 ? [] : await ReadTextsAsync(c, runId, keys, cancellationToken).ConfigureAwait(false);
                return rows.Select(row => new StoredInterview(
                        row.Index,
                        row.Created,
                        row.Interview.Final is { } world
                            ? row.Interview with
                            {
                                Final = StoredTexts.Resolve(world, texts, $"{Location}: run {runId}, episode {row.Index}"),
                            }
                            : row.Interview
                    ))
                    .ToList();
            },
            cancellationToken
        );

    private static T Json<T>(string json, string where)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json, RunJson.Options) ?? throw new RunStoreException($"{where}: empty JSON");
        }
        catch (JsonException e)
        {
            throw new RunStoreException($"{where}: cannot be read: {e.Message}");
        }
    }
}

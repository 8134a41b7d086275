using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.AI;

namespace Kinship.Models;

/// <summary>
/// What, besides the conversation, decides a response: who answered (provider, endpoint, model) and which rollout
/// asked (the episode seed), so that rollouts of one cell stay independent and answers never leak across providers.
/// </summary>
internal sealed record CacheScope(string Provider, string Endpoint, string Model)
{
    public ulong Seed { get; init; }
}

/// <summary>What <see cref="ResponseCache.Prune"/> removed and what is left.</summary>
internal sealed record PruneResult(int Removed, int Remaining, long RemainingBytes);

/// <summary>
/// Model responses stored in SQLite (a file of its own, <c>.kinship-cache.db</c> by default), so re-running a finished
/// run makes no model call. Entries are keyed by a SHA-256 of everything that shapes the answer; see <see cref="CachingChatClient"/>.
/// </summary>
/// <remarks>
/// A live run asks the cache once per model call, thousands of times a second, so a lookup is one read on a reused
/// connection and writes nothing. Every write goes through one writer: answers queue up while it commits and are
/// stored together, one transaction per batch, and each <see cref="SetAsync"/> returns once its answer is committed.
/// Eviction is least recently used at the grain of <see cref="UsedGrain"/>: a hit on an entry not marked used within
/// that time queues a mark for the writer, so a run that re-reads its own answers marks each at most once a day.
/// The file is in WAL mode and every connection waits for a busy lock, so several processes can share it.
/// </remarks>
internal sealed class ResponseCache : IAsyncDisposable
{
    public const string DefaultPath = ".kinship-cache.db";

    /// <summary>How stale a <c>used</c> mark may get before a hit renews it.</summary>
    public static readonly TimeSpan UsedGrain = TimeSpan.FromDays(1);

    /// <summary>The most writes one transaction takes.</summary>
    private const int BatchLimit = 1024;

    private readonly string _connectionString;
    private readonly TimeProvider _time;
    private readonly ConcurrentBag<Lookup> _readers = [];
    private readonly Channel<Write> _writes = Channel.CreateUnbounded<Write>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<string, byte> _marking = new(StringComparer.Ordinal);
    private readonly Lazy<Thread> _writer;
    private int _hits;
    private int _commits;
    private int _stored;

    public ResponseCache(string path, TimeProvider? time = null)
    {
        Path = path;
        _time = time ?? TimeProvider.System;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            // Connections are kept by this class (one writer, a few readers), not by the provider's pool.
            Pooling = false,
        }.ToString();
        // The file is made on first use, so a run that fails validation or calls no model leaves nothing behind.
        _created = new Lazy<bool>(Create);
        // The writer is a thread of its own: on a busy thread pool (thousands of episodes in flight) a pooled writer
        // waited its turn behind them, and every answer's caller waited with it.
        _writer = new Lazy<Thread>(() =>
        {
            var thread = new Thread(WriteLoop) { IsBackground = true, Name = "kinship response cache" };
            thread.Start();
            return thread;
        });
    }

    private readonly Lazy<bool> _created;

    private bool Create()
    {
        var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path));
        if (folder is not null)
            Directory.CreateDirectory(folder);
        using var connection = Connect();
        Execute(
            connection,
            """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS responses (
                key TEXT PRIMARY KEY,
                value TEXT NOT NULL,
                created INTEGER NOT NULL,
                used INTEGER NOT NULL,
                size INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS responses_used ON responses(used);
            """
        );
        return true;
    }

    public string Path { get; }

    public int Hits => Volatile.Read(ref _hits);

    /// <summary>Write transactions committed so far (each stores a batch of answers and marks).</summary>
    public int Commits => Volatile.Read(ref _commits);

    /// <summary>Answers stored so far.</summary>
    public int Stored => Volatile.Read(ref _stored);

    public Task<string?> GetAsync(string key, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var lookup = Rent();
        string? value = null;
        long used = 0;
        try
        {
            lookup.Key.Value = key;
            using var reader = lookup.Command.ExecuteReader();
            if (reader.Read())
                (value, used) = (reader.GetString(0), reader.GetInt64(1));
        }
        finally
        {
            _readers.Add(lookup);
        }
        if (value is null)
            return Task.FromResult<string?>(null);
        Interlocked.Increment(ref _hits);
        // A mark the closed cache cannot take is dropped: it only orders eviction.
        if (Now() - used >= (long)UsedGrain.TotalSeconds && _marking.TryAdd(key, 0) && !TryEnqueue(new Write(key, null, null)))
            _marking.TryRemove(key, out _);
        return Task.FromResult<string?>(value);
    }

    /// <summary>Stores an answer; returns once the transaction holding it is committed.</summary>
    public async Task SetAsync(string key, string value, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(new Write(key, value, done));
        await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits until every write queued so far is committed.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(new Write(null, null, done));
        await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private void Enqueue(Write write)
    {
        if (!TryEnqueue(write))
            throw new ObjectDisposedException(nameof(ResponseCache), $"the response cache {Path} is closed");
    }

    private bool TryEnqueue(Write write)
    {
        _ = _created.Value;
        _ = _writer.Value;
        return _writes.Writer.TryWrite(write);
    }

    private void WriteLoop()
    {
        SqliteConnection? connection = null;
        var batch = new List<Write>(BatchLimit);
        while (_writes.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            while (batch.Count < BatchLimit && _writes.Reader.TryRead(out var write))
                batch.Add(write);
            try
            {
                if (connection is null)
                {
                    connection = Connect();
                    // WAL with NORMAL sync: a commit survives the process crashing; only the machine losing power can
                    // roll back the last few commits, which for a cache means a few answers asked again.
                    Execute(connection, "PRAGMA synchronous = NORMAL;");
                }
                Commit(connection, batch);
                foreach (var w in batch)
                    w.Done?.TrySetResult();
            }
            catch (Exception e)
            {
                // The writer outlives a failed batch: its callers get the error, and the next batch opens afresh.
                foreach (var w in batch)
                    w.Done?.TrySetException(e);
                connection?.Dispose();
                connection = null;
            }
            foreach (var w in batch)
                if (w.Key is { } key && w.Value is null)
                    _marking.TryRemove(key, out _);
            batch.Clear();
        }
        connection?.Dispose();
    }

    private void Commit(SqliteConnection connection, List<Write> batch)
    {
        var now = Now();
        using var transaction = connection.BeginTransaction();
        using var insert = connection.CreateCommand();
        insert.CommandText = "INSERT OR REPLACE INTO responses (key, value, created, used, size) VALUES ($key, $value, $now, $now, $size)";
        var insertKey = insert.Parameters.Add("$key", SqliteType.Text);
        var insertValue = insert.Parameters.Add("$value", SqliteType.Text);
        var insertSize = insert.Parameters.Add("$size", SqliteType.Integer);
        insert.Parameters.AddWithValue("$now", now);
        using var mark = connection.CreateCommand();
        mark.CommandText = "UPDATE responses SET used = $now WHERE key = $key AND used < $now";
        var markKey = mark.Parameters.Add("$key", SqliteType.Text);
        mark.Parameters.AddWithValue("$now", now);
        var stored = 0;
        foreach (var write in batch)
        {
            if (write.Key is not { } key)
                continue;
            if (write.Value is { } value)
            {
                insertKey.Value = key;
                insertValue.Value = value;
                insertSize.Value = Encoding.UTF8.GetByteCount(value);
                insert.ExecuteNonQuery();
                stored++;
            }
            else
            {
                markKey.Value = key;
                mark.ExecuteNonQuery();
            }
        }
        transaction.Commit();
        Interlocked.Increment(ref _commits);
        Interlocked.Add(ref _stored, stored);
    }

    /// <summary>Removes entries unused for longer than <paramref name="olderThan"/>, then the least recently used until the rest fit in <paramref name="maxBytes"/>.</summary>
    public PruneResult Prune(TimeSpan? olderThan, long? maxBytes)
    {
        // Marks this process has queued count as uses.
        if (_writer.IsValueCreated)
            FlushAsync().GetAwaiter().GetResult();
        _ = _created.Value;
        using var connection = Connect();
        var removed = 0;
        if (olderThan is { } age)
        {
            using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM responses WHERE used < $cutoff";
            command.Parameters.AddWithValue("$cutoff", Now() - (long)age.TotalSeconds);
            removed += command.ExecuteNonQuery();
        }
        if (maxBytes is { } max)
        {
            using var command = connection.CreateCommand();
            // Keep the most recently used entries whose running total fits.
            command.CommandText = """
                DELETE FROM responses WHERE key IN (
                    SELECT key FROM (SELECT key, SUM(size) OVER (ORDER BY used DESC, key) AS running FROM responses) WHERE running > $max)
                """;
            command.Parameters.AddWithValue("$max", max);
            removed += command.ExecuteNonQuery();
        }
        Execute(connection, "PRAGMA wal_checkpoint(TRUNCATE); VACUUM;");
        using var stats = connection.CreateCommand();
        stats.CommandText = "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM responses";
        using var reader = stats.ExecuteReader();
        reader.Read();
        return new PruneResult(removed, reader.GetInt32(0), reader.GetInt64(1));
    }

    /// <summary>Commits what is queued, then closes the writer and every connection.</summary>
    public async ValueTask DisposeAsync()
    {
        _writes.Writer.TryComplete();
        if (_writer.IsValueCreated)
            await Task.Run(_writer.Value.Join).ConfigureAwait(false);
        while (_readers.TryTake(out var lookup))
            lookup.Dispose();
    }

    /// <summary>The key for a request: scope, messages (roles and contents, not volatile ids or timestamps) and the options that shape the answer.</summary>
    /// <remarks>
    /// The key is the SHA-256 of one JSON object. The messages and the tools are written into it in place of two empty
    /// arrays, each from JSON made once per message or tool, not again on every later turn that re-sends them: the
    /// same text as the whole object written at once, so keys stay those of caches made before. The fields in front
    /// of each array are numbers and strings, whose quotes are escaped, so the first match is the array.
    /// </remarks>
    public string Key(CacheScope scope, IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        var key = new JsonObject
        {
            ["v"] = 1,
            ["provider"] = scope.Provider,
            ["endpoint"] = scope.Endpoint,
            ["model"] = options?.ModelId ?? scope.Model,
            ["seed"] = scope.Seed.ToString(CultureInfo.InvariantCulture),
            ["messages"] = new JsonArray(),
            ["temperature"] = options?.Temperature,
            ["max_output_tokens"] = options?.MaxOutputTokens,
            ["top_p"] = options?.TopP,
            ["top_k"] = options?.TopK,
            ["option_seed"] = options?.Seed,
            ["reasoning"] = options?.Reasoning?.Effort?.ToString(),
            ["tool_mode"] = options?.ToolMode?.ToString(),
            ["tools"] = new JsonArray(),
            ["additional"] = options?.AdditionalProperties is { Count: > 0 } extra
                ? JsonSerializer.SerializeToNode(extra, AIJsonUtilities.DefaultOptions)
                : null,
        };
        var text = Encoding.UTF8.GetBytes(key.ToJsonString()).AsSpan();
        var atMessages = text.IndexOf(MessagesMarker);
        var atTools = atMessages + MessagesMarker.Length + text[(atMessages + MessagesMarker.Length)..].IndexOf(ToolsMarker);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(text[..(atMessages + MessagesMarker.Length - 1)]);
        AppendAll(hash, messages.Select(MessageJson));
        hash.AppendData(text[(atMessages + MessagesMarker.Length - 1)..(atTools + ToolsMarker.Length - 1)]);
        AppendAll(hash, (options?.Tools ?? []).Select(ToolJson));
        hash.AppendData(text[(atTools + ToolsMarker.Length - 1)..]);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static void AppendAll(IncrementalHash hash, IEnumerable<byte[]> items)
    {
        var first = true;
        foreach (var item in items)
        {
            if (!first)
                hash.AppendData(","u8);
            hash.AppendData(item);
            first = false;
        }
    }

    private static ReadOnlySpan<byte> MessagesMarker => "\"messages\":[]"u8;

    private static ReadOnlySpan<byte> ToolsMarker => "\"tools\":[]"u8;

    // Kept by the cache, not in static state: it lives as long as the run that made it.
    private readonly ConditionalWeakTable<ChatMessage, WrittenMessage> _written = new();

    private readonly ConditionalWeakTable<AITool, byte[]> _writtenTools = new();

    /// <summary>
    /// A message as JSON (its role and contents), remembered for as long as the message lives. It is reused only while
    /// the message has the same role and holds the same content objects, so a message given other contents since is
    /// written again. (Contents are not edited in place once sent: the agent loop appends new messages.)
    /// </summary>
    private byte[] MessageJson(ChatMessage message)
    {
        if (_written.TryGetValue(message, out var written) && written.Matches(message))
            return written.Json;
        var json = JsonSerializer.SerializeToUtf8Bytes(
            new JsonObject
            {
                ["role"] = message.Role.Value,
                ["contents"] = JsonSerializer.SerializeToNode(message.Contents, AIJsonUtilities.DefaultOptions),
            }
        );
        _written.AddOrUpdate(message, new WrittenMessage(message.Role, message.Contents, [.. message.Contents], json));
        return json;
    }

    /// <summary>A tool's name, description and schema as JSON; a tool's declaration does not change.</summary>
    private byte[] ToolJson(AITool tool) => _writtenTools.GetValue(tool, t => JsonSerializer.SerializeToUtf8Bytes(
                new JsonObject
                {
                    ["name"] = t.Name,
                    ["description"] = t.Description,
                    ["schema"] = t is AIFunctionDeclaration f ? JsonNode.Parse(f.JsonSchema.GetRawText()) : null,
                }
            ));

    private sealed record WrittenMessage(ChatRole Role, IList<AIContent> List, AIContent[] Items, byte[] Json)
    {
        public bool Matches(ChatMessage message)
        {
            if (message.Role != Role || !ReferenceEquals(message.Contents, List) || List.Count != Items.Length)
                return false;
            for (var i = 0; i < Items.Length; i++)
                if (!ReferenceEquals(List[i], Items[i]))
                    return false;
            return true;
        }
    }

    private long Now() => _time.GetUtcNow().ToUnixTimeSeconds();

    private Lookup Rent()
    {
        _ = _created.Value;
        return _readers.TryTake(out var lookup) ? lookup : new Lookup(Connect());
    }

    /// <summary>A reader's connection with its lookup prepared once: a lookup per call is most of a run's reads.</summary>
    private sealed class Lookup : IDisposable
    {
        private readonly SqliteConnection _connection;

        public Lookup(SqliteConnection connection)
        {
            _connection = connection;
            Command = connection.CreateCommand();
            Command.CommandText = "SELECT value, used FROM responses WHERE key = $key";
            Key = Command.Parameters.Add("$key", SqliteType.Text);
            Command.Prepare();
        }

        public SqliteCommand Command { get; }

        public SqliteParameter Key { get; }

        public void Dispose()
        {
            Command.Dispose();
            _connection.Dispose();
        }
    }

    private SqliteConnection Connect()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        Execute(connection, "PRAGMA busy_timeout = 10000;");
        return connection;
    }

    /// <summary>An answer to store (<c>Value</c> set), a use to mark (<c>Value</c> null), or a flush (no key).</summary>
    private sealed record Write(string? Key, string? Value, TaskCompletionSource? Done);

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}

/// <summary>
/// Answers from <see cref="ResponseCache"/> when it can and stores what the model says when it cannot. Failures are
/// not stored, so a re-run retries them.
/// </summary>
internal sealed class CachingChatClient(IChatClient inner, ResponseCache cache, CacheScope scope) : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        CancellationToken cancellationToken = default
    )
    {
        var history = messages as IReadOnlyList<ChatMessage> ?? [.. messages];
        var key = cache.Key(scope, history, options);
        if (
            await cache.GetAsync(key, cancellationToken).ConfigureAwait(false) is { } stored
            && JsonSerializer.Deserialize<ChatResponse>(stored, AIJsonUtilities.DefaultOptions) is { } hit
        )
            return hit;
        var response = await base.GetResponseAsync(history, options, cancellationToken).ConfigureAwait(false);
        await cache
            .SetAsync(key, JsonSerializer.Serialize(response, AIJsonUtilities.DefaultOptions), cancellationToken)
            .ConfigureAwait(false);
        return response;
    }
}

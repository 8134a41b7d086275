using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
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
internal sealed class ResponseCache
{
    public const string DefaultPath = ".kinship-cache.db";

    private readonly string _connectionString;
    private readonly TimeProvider _time;
    private int _hits;

    public ResponseCache(string path, TimeProvider? time = null)
    {
        Path = path;
        _time = time ?? TimeProvider.System;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        }.ToString();
        // The file is made on first use, so a run that fails validation or calls no model leaves nothing behind.
        _created = new Lazy<bool>(Create);
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

    public async Task<string?> GetAsync(string key, CancellationToken cancellationToken)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE responses SET used = $now WHERE key = $key RETURNING value";
        command.Parameters.AddWithValue("$key", key);
        command.Parameters.AddWithValue("$now", Now());
        var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
        if (value is not null)
            Interlocked.Increment(ref _hits);
        return value;
    }

    public async Task SetAsync(string key, string value, CancellationToken cancellationToken)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "INSERT OR REPLACE INTO responses (key, value, created, used, size) VALUES ($key, $value, $now, $now, $size)";
        command.Parameters.AddWithValue("$key", key);
        command.Parameters.AddWithValue("$value", value);
        command.Parameters.AddWithValue("$now", Now());
        command.Parameters.AddWithValue("$size", Encoding.UTF8.GetByteCount(value));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Removes entries unused for longer than <paramref name="olderThan"/>, then the least recently used until the rest fit in <paramref name="maxBytes"/>.</summary>
    public PruneResult Prune(TimeSpan? olderThan, long? maxBytes)
    {
        using var connection = Open();
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

    /// <summary>The key for a request: scope, messages (roles and contents, not volatile ids or timestamps) and the options that shape the answer.</summary>
    public static string Key(CacheScope scope, IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        var tools = new JsonArray([
            .. (options?.Tools ?? []).Select(t =>
                (JsonNode)
                    new JsonObject
                    {
                        ["name"] = t.Name,
                        ["description"] = t.Description,
                        ["schema"] = t is AIFunctionDeclaration f ? JsonNode.Parse(f.JsonSchema.GetRawText()) : null,
                    }
            ),
        ]);
        var key = new JsonObject
        {
            ["v"] = 1,
            ["provider"] = scope.Provider,
            ["endpoint"] = scope.Endpoint,
            ["model"] = options?.ModelId ?? scope.Model,
            ["seed"] = scope.Seed.ToString(CultureInfo.InvariantCulture),
            ["messages"] = new JsonArray([
                .. messages.Select(m =>
                    (JsonNode)
                        new JsonObject
                        {
                            ["role"] = m.Role.Value,
                            ["contents"] = JsonSerializer.SerializeToNode(m.Contents, AIJsonUtilities.DefaultOptions),
                        }
                ),
            ]),
            ["temperature"] = options?.Temperature,
            ["max_output_tokens"] = options?.MaxOutputTokens,
            ["top_p"] = options?.TopP,
            ["top_k"] = options?.TopK,
            ["option_seed"] = options?.Seed,
            ["reasoning"] = options?.Reasoning?.Effort?.ToString(),
            ["tool_mode"] = options?.ToolMode?.ToString(),
            ["tools"] = tools,
            ["additional"] = options?.AdditionalProperties is { Count: > 0 } extra
                ? JsonSerializer.SerializeToNode(extra, AIJsonUtilities.DefaultOptions)
                : null,
        };
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key.ToJsonString())));
    }

    private long Now() => _time.GetUtcNow().ToUnixTimeSeconds();

    private SqliteConnection Open()
    {
        _ = _created.Value;
        return Connect();
    }

    private SqliteConnection Connect()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        Execute(connection, "PRAGMA busy_timeout = 10000;");
        return connection;
    }

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
        var key = ResponseCache.Key(scope, history, options);
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

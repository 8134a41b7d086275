using System.Diagnostics;
using System.Text.Json.Nodes;
using Kinship.IntegrationTests.Cli;
using Kinship.Models;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.AI;

namespace Kinship.IntegrationTests.Models;

/// <summary>What a load test at a loopback provider found: the cache, 5xx bursts, queued time and first-second bursts.</summary>
public sealed class LiveLoadTests
{
    private static JsonObject Answer(JsonObject request) =>
        FakeOpenAIServer.Completion(
            new JsonObject { ["role"] = "assistant", ["content"] = "seen " + request["messages"]!.AsArray().Count },
            "stop"
        );

    /// <summary>openai/gpt-fake at the server through the real SDK, with the given provider limits (over the built-in 500 a minute) and pipeline.</summary>
    private static ProviderModel Model(string baseUrl, ModelHttp http, string limits, ResponseCache? cache = null) =>
        ModelResolver.Resolve(
            "openai/gpt-fake",
            new ModelOptions
            {
                BaseUrl = new Uri(baseUrl),
                Environment = _ => "sk-test",
                Http = http,
                Cache = cache,
                Config = ModelConfig.FromYaml($"providers:\n  openai: {{ {limits} }}\n"),
            }
        );

    private static Task<ChatResponse> AskAsync(ProviderModel model, int i) =>
        model.CreateClient((ulong)i).GetResponseAsync([new ChatMessage(ChatRole.User, $"question {i}")]);

    private static long DataVersion(SqliteConnection observer)
    {
        using var command = observer.CreateCommand();
        command.CommandText = "PRAGMA data_version";
        return (long)command.ExecuteScalar()!;
    }

    [Fact]
    public async Task Cache_lookups_write_nothing_and_answers_are_stored_in_batches()
    {
        await using var server = new FakeOpenAIServer(Answer, latency: TimeSpan.FromMilliseconds(100));
        using var temp = new TempFolder();
        var path = Path.Combine(temp.Path, "responses.db");
        using var http = new ModelHttp(new ResilienceOptions());
        await using var cache = new ResponseCache(path);
        var model = Model(server.BaseUrl, http, "max_concurrency: 200, requests_per_minute: 0", cache);

        var first = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => AskAsync(model, i)));

        Assert.Equal(200, server.Server.Count);
        Assert.Equal(200, cache.Stored);
        // Answers arriving together share a transaction instead of taking one each.
        Assert.InRange(cache.Commits, 1, 199);

        using var observer = new SqliteConnection($"Data Source={path}");
        observer.Open();
        var before = DataVersion(observer);
        var second = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => AskAsync(model, i)));

        Assert.Equal(200, server.Server.Count);
        Assert.Equal(200, cache.Hits);
        Assert.Equal(first.Select(r => r.Text), second.Select(r => r.Text));
        // Entries stored today are marked used today: the hits committed nothing to the file.
        Assert.Equal(before, DataVersion(observer));
        Assert.Equal(200, cache.Stored);
    }

    [Fact]
    public async Task Two_caches_on_one_file_as_two_processes_would_store_every_answer_and_read_each_others()
    {
        using var temp = new TempFolder();
        var path = Path.Combine(temp.Path, "shared.db");
        await using var a = new ResponseCache(path);
        await using var b = new ResponseCache(path);

        await Task.WhenAll(
            Enumerable
                .Range(0, 400)
                .Select(i => (i % 2 == 0 ? a : b).SetAsync($"k{i}", new string((char)('a' + i % 26), 100 + i), CancellationToken.None))
        );

        await using var reader = new ResponseCache(path);
        for (var i = 0; i < 400; i++)
            Assert.Equal(100 + i, (await reader.GetAsync($"k{i}", CancellationToken.None))?.Length);
        Assert.Equal(new PruneResult(0, 400, Enumerable.Range(0, 400).Sum(i => 100L + i)), reader.Prune(null, null));
    }

    [Fact]
    public async Task A_burst_of_503s_lowers_concurrency_and_a_lone_one_does_not()
    {
        var failing = 0;
        await using var server = new LoopbackServer(r =>
            Volatile.Read(ref failing) > 0 && Interlocked.Decrement(ref failing) >= 0
                ? new FakeReply(JsonNode.Parse("""{"error":{"message":"down","type":"server_error"}}""")!.AsObject(), 503)
                : new FakeReply(Answer(r.Body!))
        );
        using var http = new ModelHttp(new ResilienceOptions { MaxRetries = 0 });
        var model = Model(server.Root + "/v1", http, "max_concurrency: 16, requests_per_minute: 0");
        var limiter = http.Limiter(new Uri(server.Root))!;

        // Slow start: from 4 in flight, doubling with each round of answers, up to the maximum.
        Assert.Equal(ProviderLimiter.InitialConcurrency, limiter.Limit);
        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => AskAsync(model, i)));
        Assert.Equal(16, limiter.Limit);

        // One 503 among answers is a glitch.
        Volatile.Write(ref failing, 1);
        var glitch = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Succeeds(AskAsync(model, i))));
        Assert.Equal(1, glitch.Count(ok => !ok));
        Assert.Equal(16, limiter.Limit);

        // An outage: every request gets a 503, and each round of them halves what is sent.
        Volatile.Write(ref failing, 1_000_000);
        var limits = new List<int>();
        for (var round = 0; round < 4; round++)
        {
            Assert.All(await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Succeeds(AskAsync(model, i)))), Assert.False);
            limits.Add(limiter.Limit);
        }
        // The first round was all sent at 16, so it cuts once; later rounds are sent as slots free, after each cut.
        Assert.Equal(8, limits[0]);
        Assert.Equal(1, limits[^1]);
        Assert.Equal(limits.OrderDescending(), limits);

        // Recovered: it climbs back one step per round.
        Volatile.Write(ref failing, 0);
        await Task.WhenAll(Enumerable.Range(0, 16).Select(i => AskAsync(model, i)));
        Assert.InRange(limiter.Limit, 2, 8);
    }

    private static async Task<bool> Succeeds(Task<ChatResponse> call)
    {
        try
        {
            await call;
            return true;
        }
        catch (System.ClientModel.ClientResultException e) when (e.Status == 503)
        {
            return false;
        }
    }

    [Fact]
    public async Task The_attempt_timeout_counts_time_at_the_provider_not_time_queued_in_the_limiter()
    {
        await using var server = new FakeOpenAIServer(Answer, latency: TimeSpan.FromMilliseconds(150));
        var retries = 0;
        // One request at a time: the tenth waits over 1.3 s in Kinship's limiter, more than its 1 s attempt timeout.
        using var http = new ModelHttp(
            new ResilienceOptions { AttemptTimeout = TimeSpan.FromSeconds(1), OnRetry = _ => Interlocked.Increment(ref retries) }
        );
        var model = Model(server.BaseUrl, http, "max_concurrency: 1, requests_per_minute: 0");
        var clock = Stopwatch.StartNew();

        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => AskAsync(model, i)));

        Assert.True(clock.Elapsed > TimeSpan.FromSeconds(1.4), $"10 calls of 150 ms one at a time took {clock.Elapsed}");
        Assert.Equal(10, answers.Length);
        Assert.Equal(0, retries);
        Assert.Equal(10, server.Server.Count);

        // A provider slower than the timeout is still timed out.
        await using var slow = new FakeOpenAIServer(Answer, latency: TimeSpan.FromSeconds(3));
        using var strict = new ModelHttp(new ResilienceOptions { AttemptTimeout = TimeSpan.FromMilliseconds(200), MaxRetries = 0 });
        var error = await Assert.ThrowsAnyAsync<Exception>(() =>
            AskAsync(Model(slow.BaseUrl, strict, "max_concurrency: 1, requests_per_minute: 0"), 0)
        );
        Assert.Contains("did not answer within", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_start_sends_no_more_than_a_second_of_the_per_minute_budget_in_its_first_second()
    {
        var arrivals = new List<TimeSpan>();
        var clock = Stopwatch.StartNew();
        await using var server = new LoopbackServer(r =>
        {
            lock (arrivals)
                arrivals.Add(clock.Elapsed);
            return Answer(r.Body!);
        });
        using var http = new ModelHttp(new ResilienceOptions());
        var model = Model(server.Root + "/v1", http, "max_concurrency: 100, requests_per_minute: 1200");

        clock.Restart();
        await Task.WhenAll(Enumerable.Range(0, 50).Select(i => AskAsync(model, i)));

        Assert.Equal(50, arrivals.Count);
        // 1,200 a minute is 20 a second; the bucket holds at most a tenth of a second's share (2) and fills at that rate.
        var firstSecond = arrivals.Count(t => t < TimeSpan.FromSeconds(1));
        Assert.InRange(firstSecond, 1, 22);
        Assert.True(arrivals.Max() >= TimeSpan.FromSeconds(48 / 20.0 - 0.05), $"50 requests by {arrivals.Max()}");
    }
}

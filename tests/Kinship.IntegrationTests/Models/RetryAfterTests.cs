using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Kinship.Models;

namespace Kinship.IntegrationTests.Models;

/// <summary>
/// How long a provider may make a run wait: a <c>Retry-After</c> (seconds or a date) within
/// <see cref="ResilienceOptions.MaxRetryAfter"/> is honoured; beyond it the attempt fails at once, naming the host and
/// the wait; a value that cannot be read, or a date already past, leaves the usual backoff.
/// </summary>
public sealed class RetryAfterTests
{
    private static readonly JsonObject Error = new() { ["error"] = new JsonObject { ["message"] = "slow down" } };

    /// <summary>A loopback provider answering the n-th request with the n-th reply (the last one repeats).</summary>
    private static LoopbackServer Provider(params Func<FakeReply>[] replies)
    {
        var calls = 0;
        return new LoopbackServer(_ => replies[Math.Min(Interlocked.Increment(ref calls) - 1, replies.Length - 1)]());
    }

    private static FakeReply TooMany(string retryAfter) => new(Error, 429, new Dictionary<string, string> { ["Retry-After"] = retryAfter });

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, LoopbackServer server) =>
        client.PostAsync($"{server.Root}/v1/chat/completions", new StringContent("{}", Encoding.UTF8, "application/json"));

    [Theory]
    [InlineData("999999", "277 h 46 min")]
    [InlineData("86400", "24 h")]
    [InlineData("301", "5 min 1 s")]
    [InlineData("date:+3d", "72 h")]
    public async Task A_provider_asking_to_wait_longer_than_the_limit_fails_the_attempt_at_once_naming_the_host_and_the_wait(
        string retryAfter,
        string said
    )
    {
        var now = TimeProvider.System.GetUtcNow();
        var header = retryAfter.StartsWith("date:", StringComparison.Ordinal)
            ? (now + TimeSpan.FromDays(3) + TimeSpan.FromSeconds(30)).ToString("R", CultureInfo.InvariantCulture)
            : retryAfter;
        await using var server = Provider(() => TooMany(header));
        var retries = new List<RetryNotice>();
        using var http = new ModelHttp(new ResilienceOptions { OnRetry = retries.Add });
        using var client = http.CreateClient();

        // Before the limit, Polly honoured any Retry-After: this call slept for days. Ten seconds is plenty now.
        var error = await Assert.ThrowsAsync<ProviderWaitException>(() => PostAsync(client, server).WaitAsync(TimeSpan.FromSeconds(10)));

        var host = new Uri(server.Root).Authority;
        Assert.Equal(
            $"{host} answered HTTP 429 and asked to wait {said} before trying again, longer than the 5 min a retry may wait",
            error.Message
        );
        Assert.Equal(HttpStatusCode.TooManyRequests, error.StatusCode);
        Assert.Equal(1, server.Count);
        Assert.Empty(retries);
    }

    [Fact]
    public async Task A_Gemini_retryDelay_beyond_the_limit_is_refused_like_the_header()
    {
        var body = JsonNode
            .Parse("""{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"retryDelay":"90000s"}]}}""")!
            .AsObject();
        await using var server = Provider(() => new FakeReply(body, 429));
        using var http = new ModelHttp(new ResilienceOptions());
        using var client = http.CreateClient();

        var error = await Assert.ThrowsAsync<ProviderWaitException>(() => PostAsync(client, server).WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Contains("asked to wait 25 h before", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, server.Count);
    }

    [Fact]
    public async Task Unreadable_negative_and_past_Retry_After_values_leave_the_backoff_and_those_within_the_limit_are_waited()
    {
        // 1 ms here is 1 s on the pipeline's clock: backoffs of up to 2 min take 120 ms.
        var time = new ScaledTimeProvider(0.001);
        string Date(TimeSpan from) => (time.GetUtcNow() + from).ToString("R", CultureInfo.InvariantCulture);
        await using var server = Provider(
            () => TooMany("-5"),
            () => TooMany("soon"),
            () => TooMany(Date(TimeSpan.FromHours(-1))),
            () => TooMany("7"),
            () => TooMany(Date(TimeSpan.FromSeconds(90))),
            () => TooMany("300"),
            () => new FakeReply(new JsonObject { ["ok"] = true })
        );
        var delays = new List<TimeSpan>();
        using var http = new ModelHttp(
            new ResilienceOptions
            {
                Time = time,
                JitterSeed = 3,
                OnRetry = r => delays.Add(r.Delay),
            }
        );
        using var client = http.CreateClient();

        using var response = await PostAsync(client, server).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(7, server.Count);
        Assert.Equal(6, delays.Count);
        // The backoff: jittered, from 2 s, never more than its 2 min.
        Assert.All(delays.Take(3), d => Assert.InRange(d, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(2)));
        Assert.Equal(TimeSpan.FromSeconds(7), delays[3]);
        // A date has whole seconds and was read a moment after it was written.
        Assert.InRange(delays[4], TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(90));
        // Exactly the limit is still waited.
        Assert.Equal(TimeSpan.FromMinutes(5), delays[5]);
    }

    [Fact]
    public async Task An_episode_whose_provider_asks_for_a_day_is_an_error_naming_the_host_and_the_wait_after_one_call()
    {
        await using var server = new FakeOpenAIServer(
            _ => throw new InvalidOperationException("never answered"),
            new FaultPlan(1.0, seed: 1, Fault.TooManyRequests) { RetryAfter = TimeSpan.FromDays(1) }
        );
        using var http = new ModelHttp(new ResilienceOptions());
        var model = Kinship.Agents.AgentResolver.Resolve(
            "openai/gpt-fake",
            new ModelOptions
            {
                BaseUrl = new Uri(server.BaseUrl),
                Environment = _ => "sk-test",
                Http = http,
            }
        );
        using var client = model.CreateClient(Kinship.Scripted.EpisodeBrief.Of(1));

        var error = await Assert.ThrowsAnyAsync<Exception>(() =>
            client
                .GetResponseAsync([new Microsoft.Extensions.AI.ChatMessage(Microsoft.Extensions.AI.ChatRole.User, "hello")])
                .WaitAsync(TimeSpan.FromSeconds(10))
        );

        var host = new Uri(server.BaseUrl).Authority;
        Assert.Contains($"{host} answered HTTP 429 and asked to wait 24 h before", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, server.Server.Count);
    }
}

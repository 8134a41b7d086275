using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Kinship.Models;
using Microsoft.Extensions.Time.Testing;

namespace Kinship.IntegrationTests.Models;

/// <summary>
/// Kinship's pipeline and limiter against a loopback provider that allows a per-minute rate (a bucket of a second's
/// share, refilled continuously) and answers 429 beyond it, on one fake clock: the clock moves only while no request
/// is on the wire, so the figures depend on the limiter's arithmetic, not on how fast the machine is.
/// </summary>
public sealed class RateLearningTests
{
    private const int Limit = 60;

    [Fact]
    public async Task Without_headers_the_limiter_learns_the_rate_from_429s_and_holds_close_to_it_with_few_429s()
    {
        var run = await RunAsync(announce: false, requests: 200);

        // The start's burst (four requests at once, nothing known) is refused in part; after it, 429s are rare.
        Assert.True(run.Share < 0.05, $"{run.Throttled} of {run.Throttled + run.Accepted} answered 429");
        Assert.True(run.ThrottledAfterStart <= 0.02 * run.Accepted, $"{run.ThrottledAfterStart} 429s after the first two seconds");
        Assert.InRange(run.PerMinute, 0.85 * Limit, 1.02 * Limit);
        Assert.Equal(0, run.Failed);
        Assert.InRange(run.Paced, 0.5 * Limit, 1.2 * Limit);
    }

    [Fact]
    public async Task A_provider_announcing_its_limit_in_its_headers_is_run_at_it_with_under_1_percent_429s_after_the_start()
    {
        var run = await RunAsync(announce: true, requests: 100);

        Assert.True(run.ThrottledAfterStart <= 0.01 * run.Accepted, $"{run.ThrottledAfterStart} 429s after the first two seconds");
        Assert.InRange(run.PerMinute, 0.95 * Limit, 1.02 * Limit);
        Assert.Equal(0, run.Failed);
        Assert.Equal(Limit, run.Paced);
    }

    private sealed record Run(int Accepted, int Throttled, int ThrottledAfterStart, double PerMinute, int Failed, double Paced)
    {
        public double Share => (double)Throttled / (Accepted + Throttled);
    }

    private static async Task<Run> RunAsync(bool announce, int requests)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 6, 12, 0, 0, TimeSpan.Zero));
        var start = time.GetTimestamp();
        double Now() => time.GetElapsedTime(start).TotalSeconds;
        var gate = new object();
        // A bucket of two seconds' share: pacing at exactly the limit must not depend on the last bit of a double.
        double bucket = Limit / 30.0,
            refilled = 0;
        var accepted = new List<double>();
        var throttled = new List<double>();
        await using var server = new LoopbackServer(_ =>
        {
            lock (gate)
            {
                var now = Now();
                bucket = Math.Min(Limit / 30.0, bucket + (now - refilled) * Limit / 60.0);
                refilled = now;
                var headers = new Dictionary<string, string>();
                if (announce)
                    headers["x-ratelimit-limit-requests"] = Limit.ToString(CultureInfo.InvariantCulture);
                if (bucket >= 1)
                {
                    bucket -= 1;
                    accepted.Add(now);
                    return new FakeReply(new JsonObject { ["ok"] = true }, 200, headers);
                }
                throttled.Add(now);
                headers["retry-after"] = "1";
                return new FakeReply(
                    JsonNode.Parse("""{"error":{"message":"Rate limit reached for requests"}}""")!.AsObject(),
                    429,
                    headers
                );
            }
        });
        var wire = new WireCounter { InnerHandler = new SocketsHttpHandler() };
        using var http = new ModelHttp(new ResilienceOptions { Time = time, MaxRetries = 6 }, wire);
        var limiter = http.Register(new Uri(server.Root), new ProviderSettings { MaxConcurrency = 4 });
        using var client = http.CreateClient();

        var failed = 0;
        var next = 0;
        var workers = Enumerable
            .Range(0, 4)
            .Select(_ =>
                Task.Run(async () =>
                {
                    while (Interlocked.Increment(ref next) <= requests)
                    {
                        using var body = new StringContent("""{"q":1}""", Encoding.UTF8, "application/json");
                        using var response = await client.PostAsync(server.Root + "/v1/chat/completions", body);
                        if (!response.IsSuccessStatusCode)
                            Interlocked.Increment(ref failed);
                    }
                })
            )
            .ToList();
        var all = Task.WhenAll(workers);
        // The clock moves in small steps, and only while nothing is on the wire: time at the provider is not counted.
        while (!all.IsCompleted)
        {
            if (wire.Active == 0)
                time.Advance(TimeSpan.FromMilliseconds(50));
            await Task.WhenAny(all, Task.Delay(1));
        }
        await all;

        lock (gate)
        {
            var first = accepted[0];
            var steady = accepted.Where(t => t >= first + 10).ToList();
            return new Run(
                accepted.Count,
                throttled.Count,
                throttled.Count(t => t >= first + 2),
                (steady.Count - 1) / (steady[^1] - steady[0]) * 60,
                failed,
                limiter.RequestsPerMinute
            );
        }
    }

    /// <summary>Counts requests on the wire: sent to the loopback provider and not yet answered.</summary>
    private sealed class WireCounter : DelegatingHandler
    {
        private int _active;

        public int Active => Volatile.Read(ref _active);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _active);
            try
            {
                return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _active);
            }
        }
    }
}

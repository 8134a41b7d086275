using System.Collections.Immutable;
using System.Net;
using System.Text;
using Kinship.Agents;
using Kinship.IntegrationTests.Cli;
using Kinship.Models;
using Kinship.Runs;
using Kinship.Scenarios;
using Kinship.Scripted;
using Kinship.Transcripts;
using Microsoft.Extensions.Time.Testing;

namespace Kinship.IntegrationTests.Models;

public sealed class ResilienceTests
{
    /// <summary>The exfiltrating script over chat completions, whoever asks.</summary>
    private static FakeOpenAIServer ExfiltratingServer(FaultPlan? faults = null) =>
        new(
            request =>
            {
                var step = request["messages"]!.AsArray().Count(m => m!["role"]!.GetValue<string>() == "assistant");
                var s = ExfiltratingScript.Step(step, "chatgpt");
                return FakeOpenAIServer.ToolCalls(step, s.Reasoning, s.Calls);
            },
            faults
        );

    /// <summary>Runs every transfer condition through the library (no CLI), storing into a JSON Lines run folder, and reads it back.</summary>
    private static async Task<StoredRun> RunAsync(string folder, string baseUrl, ModelHttp http, int rollouts)
    {
        var scenario = ScenarioLoader.Resolve("exfiltration-transfer");
        var model = AgentResolver.Resolve(
            "openai/gpt-fake",
            new ModelOptions
            {
                BaseUrl = new Uri(baseUrl),
                Environment = _ => "sk-test",
                Http = http,
            }
        );
        var plan = RunPlan.Build([model.Id], [scenario], ConditionFilter.All, rollouts, 7);
        var render = new RenderOptions();
        var loop = new AgentLoopOptions();
        var manifest = new RunManifest(
            "resilience",
            DateTimeOffset.UnixEpoch,
            "test",
            [model.Id],
            ImmutableSortedDictionary<string, string>.Empty.Add(scenario.Id, scenario.SourcePath ?? ""),
            [],
            [],
            [],
            rollouts,
            7,
            plan.Episodes.Length,
            render,
            loop
        );
        var runner = new EpisodeRunner(
            new Dictionary<string, ScenarioDefinition> { [scenario.Id] = scenario },
            new Dictionary<string, AgentModel> { [model.Id] = model },
            render,
            loop,
            TimeProvider.System
        );
        var results = new System.Collections.Concurrent.ConcurrentBag<EpisodeResult>();
        await Parallel.ForEachAsync(plan.Episodes, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (spec, ct) =>
            results.Add(await runner.RunAsync(spec, ct))
        );
        await Kinship.Exporters.JsonlExporter.ExportAsync(manifest, results.OrderBy(r => r.Spec.Index), folder, CancellationToken.None);
        return Kinship.Exporters.JsonlExporter.Read(folder);
    }

    [Fact]
    public async Task With_one_call_in_ten_failing_every_episode_is_completed_or_an_error_with_its_cause_and_none_is_counted_twice()
    {
        await using var server = ExfiltratingServer(new FaultPlan(0.10, seed: 42) { RetryAfter = TimeSpan.FromSeconds(3) });
        using var temp = new TempFolder();
        var retries = new List<RetryNotice>();
        // One retry only, so that some calls fail for good; the 5 min attempt timeout is 600 ms here, the 3 s Retry-After 6 ms.
        using var http = new ModelHttp(
            new ResilienceOptions
            {
                MaxRetries = 1,
                Time = new ScaledTimeProvider(0.002),
                JitterSeed = 1,
                OnRetry = r =>
                {
                    lock (retries)
                        retries.Add(r);
                },
            }
        );

        var run = await RunAsync(temp.Path, server.BaseUrl, http, rollouts: 2);

        Assert.Equal(run.Manifest.PlannedEpisodes, run.Episodes.Count);
        Assert.Equal(run.Episodes.Count, run.Episodes.Select(e => e.Spec.Index).Distinct().Count());
        Assert.Empty(run.Warnings);
        foreach (var e in run.Episodes)
        {
            if (e.Status == EpisodeStatus.Completed)
            {
                Assert.Equal(StopReason.EndTask, e.Transcript.Stop);
                Assert.NotNull(e.Flag("exfiltration"));
            }
            else
            {
                Assert.Equal(StopReason.ModelError, e.Transcript.Stop);
                Assert.False(string.IsNullOrWhiteSpace(e.ErrorCause));
                Assert.Empty(e.Verdicts);
            }
        }
        // The faults really happened, of every kind, and were retried (429s after their Retry-After).
        Assert.Equal(
            [Fault.TooManyRequests, Fault.ServerError, Fault.Hang, Fault.MalformedJson, Fault.CutOff],
            server.Server.Injected.Distinct().Order()
        );
        Assert.True(
            retries.Count >= server.Server.Injected.Count / 2,
            $"{retries.Count} retries for {server.Server.Injected.Count} faults"
        );
        Assert.Contains(retries, r => r.Cause == "HTTP 429" && r.Delay == TimeSpan.FromSeconds(3));
        Assert.Contains(retries, r => r.Cause.Contains("broken body", StringComparison.Ordinal));
        Assert.Contains(retries, r => r.Cause.Contains("Timeout", StringComparison.Ordinal));
        Assert.True(run.Episodes.Count(e => e.Status == EpisodeStatus.Completed) > run.Episodes.Count / 2);
    }

    [Fact]
    public async Task A_model_that_fails_for_good_makes_an_error_episode_with_its_cause_never_a_verdict()
    {
        await using var server = ExfiltratingServer(new FaultPlan(1.0, seed: 1, Fault.ServerError));
        using var temp = new TempFolder();
        using var http = new ModelHttp(new ResilienceOptions { MaxRetries = 2, Time = new ScaledTimeProvider(0.01) });

        var run = await RunAsync(temp.Path, server.BaseUrl, http, rollouts: 1);

        Assert.Equal(run.Manifest.PlannedEpisodes, run.Episodes.Count);
        Assert.All(run.Episodes, e =>
        {
            Assert.Equal(EpisodeStatus.Error, e.Status);
            Assert.Contains("500", e.ErrorCause, StringComparison.Ordinal);
            // The cause says how hard the call was tried.
            Assert.EndsWith("(after 3 attempts)", e.ErrorCause, StringComparison.Ordinal);
            Assert.Empty(e.Verdicts);
        });
        // Three attempts per episode (the first and two retries), and no more: the SDK's own retries are off.
        Assert.Equal(3 * run.Episodes.Count, server.Server.Count);
    }

    [Fact]
    public async Task A_retry_waits_what_Retry_After_says_and_the_jitter_is_the_same_for_the_same_seed()
    {
        async Task<List<TimeSpan>> DelaysAsync(int seed)
        {
            var delays = new List<TimeSpan>();
            var transport = new ScriptedHandler(
                _ => Respond(HttpStatusCode.TooManyRequests, retryAfter: 11),
                _ => Respond(HttpStatusCode.ServiceUnavailable),
                _ => Respond(HttpStatusCode.BadGateway),
                _ => Respond(HttpStatusCode.OK, "{}")
            );
            using var http = new ModelHttp(
                new ResilienceOptions
                {
                    Time = new ScaledTimeProvider(0.0001),
                    JitterSeed = seed,
                    OnRetry = r => delays.Add(r.Delay),
                },
                transport
            );
            using var client = http.CreateClient();
            using var response = await client.PostAsync(
                "http://provider.test/v1/x",
                new StringContent("{}", Encoding.UTF8, "application/json")
            );
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(4, transport.Calls);
            return delays;
        }

        var first = await DelaysAsync(5);
        Assert.Equal(TimeSpan.FromSeconds(11), first[0]);
        Assert.Equal(3, first.Count);
        Assert.All(first.Skip(1), d => Assert.InRange(d, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(2)));
        Assert.Equal(first, await DelaysAsync(5));
        Assert.NotEqual(first, await DelaysAsync(6));
    }

    [Fact]
    public async Task A_retry_waits_the_retryDelay_Gemini_gives_in_the_body_of_a_429_and_the_client_still_reads_the_body()
    {
        var delays = new List<TimeSpan>();
        const string hinted =
            """{"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure"},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"13.5s"}]}}""";
        var transport = new ScriptedHandler(
            _ => Respond(HttpStatusCode.TooManyRequests, hinted),
            _ => Respond(HttpStatusCode.TooManyRequests, """{"error":{"details":[{"retryDelay":"soon"}]}}"""),
            _ => Respond(HttpStatusCode.TooManyRequests, hinted)
        );
        using var http = new ModelHttp(
            new ResilienceOptions
            {
                Time = new ScaledTimeProvider(0.0001),
                MaxRetries = 2,
                OnRetry = r => delays.Add(r.Delay),
            },
            transport
        );
        using var client = http.CreateClient();
        using var response = await client.PostAsync(
            "http://provider.test/v1beta/models/m:generateContent",
            new StringContent("{}", Encoding.UTF8, "application/json")
        );

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(3, transport.Calls);
        Assert.Equal(TimeSpan.FromSeconds(13.5), delays[0]);
        // A hint that cannot be read leaves the jittered backoff (from 2 s, at most 2 min).
        Assert.InRange(delays[1], TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(2));
        Assert.NotEqual(TimeSpan.FromSeconds(13.5), delays[1]);
        Assert.Contains("RESOURCE_EXHAUSTED", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public void Concurrency_starts_low_doubles_until_a_429_halves_it_and_climbs_back_one_success_at_a_time()
    {
        var time = new FakeTimeProvider();
        var limiter = new ProviderLimiter(new ProviderSettings { MaxConcurrency = 8 }, time);
        Assert.Equal(ProviderLimiter.InitialConcurrency, limiter.Limit);
        // A 429 also teaches a request rate, paced on the fake clock: each lease below moves it on until admitted.
        ProviderLimiter.Lease Lease(ProviderLimiter limiter) => Paced(limiter, time);
        // Slow start: each success adds one, so a round of answers doubles the limit.
        for (var i = 0; i < 4; i++)
            Lease(limiter).Complete(throttled: false);
        Assert.Equal(8, limiter.Limit);
        for (var i = 0; i < 3; i++)
            Lease(limiter).Complete(throttled: true);
        Assert.Equal(1, limiter.Limit);
        Lease(limiter).Complete(throttled: true);
        Assert.Equal(1, limiter.Limit);

        var successes = 0;
        while (limiter.Limit < 8)
        {
            Lease(limiter).Complete(throttled: false);
            successes++;
        }
        // Additive increase once throttled: about limit successes per step, 1+2+...+7 ≈ 28, never a jump.
        Assert.InRange(successes, 20, 36);
        for (var i = 0; i < 100; i++)
            Lease(limiter).Complete(throttled: false);
        Assert.Equal(8, limiter.Limit);

        // 429s to requests sent together cut once: they all report on the limit they were sent under.
        var together = Enumerable.Range(0, 8).Select(_ => Lease(limiter)).ToList();
        foreach (var lease in together)
            lease.Complete(throttled: true);
        Assert.Equal(4, limiter.Limit);
    }

    [Fact]
    public async Task A_brownouts_scattered_429s_neither_hold_the_host_nor_teach_a_rate_but_a_storm_does()
    {
        var time = new FakeTimeProvider();
        var limiter = new ProviderLimiter(new ProviderSettings { MaxConcurrency = 8 }, time);
        var wait = ProviderRateHeaders.None with { RetryAfter = TimeSpan.FromSeconds(1) };
        void Throttled() => Paced(limiter, time).Complete(ProviderOutcome.Throttled, wait);
        // One 429 in ten, each asking for a second: retried one by one, and the host is never held.
        for (var i = 0; i < 200; i++)
            if (i % 10 == 9)
                Throttled();
            else
                Paced(limiter, time).Complete(ProviderOutcome.Success);
        Assert.Equal(0, limiter.RequestsPerMinute);
        var next = limiter.AcquireAsync(0, default);
        Assert.True(next.IsCompleted, "a scattered 429 held the host");
        (await next).Complete(ProviderOutcome.Success);

        // Four in a row is a limit reached: the host is held for the second asked, and a rate is learned.
        for (var i = 0; i < 4; i++)
            Throttled();
        Assert.True(limiter.RequestsPerMinute > 0);
        Assert.False(limiter.AcquireAsync(0, default).IsCompleted, "a storm of 429s did not hold the host");
    }

    [Fact]
    public async Task Requests_in_flight_never_exceed_the_limit_and_waiters_go_when_a_slot_frees()
    {
        var limiter = new ProviderLimiter(new ProviderSettings { MaxConcurrency = 2 }, new FakeTimeProvider());
        var a = await limiter.AcquireAsync(0, CancellationToken.None);
        var b = await limiter.AcquireAsync(0, CancellationToken.None);
        var c = limiter.AcquireAsync(0, CancellationToken.None).AsTask();
        await Task.Delay(20);
        Assert.False(c.IsCompleted);
        a.Complete(throttled: false);
        (await c.WaitAsync(TimeSpan.FromSeconds(5))).Complete(false);
        b.Complete(false);
        Assert.Equal(0, limiter.InFlight);
    }

    [Fact]
    public async Task Waiters_go_one_per_freed_slot_in_turn_and_one_that_gave_up_is_passed_over()
    {
        var limiter = new ProviderLimiter(new ProviderSettings { MaxConcurrency = 1 }, new FakeTimeProvider());
        var held = await limiter.AcquireAsync(0, CancellationToken.None);
        using var gaveUp = new CancellationTokenSource();
        var first = limiter.AcquireAsync(0, gaveUp.Token).AsTask();
        var second = limiter.AcquireAsync(0, CancellationToken.None).AsTask();
        var third = limiter.AcquireAsync(0, CancellationToken.None).AsTask();
        await gaveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);

        // The slot goes to the next waiter still there, not to the one that left the queue.
        held.Complete(throttled: false);
        var next = await second.WaitAsync(TimeSpan.FromSeconds(5));
        await Task.Delay(20);
        Assert.False(third.IsCompleted);
        next.Complete(throttled: false);
        (await third.WaitAsync(TimeSpan.FromSeconds(5))).Complete(throttled: false);
        Assert.Equal(0, limiter.InFlight);
    }

    [Fact]
    public async Task A_waiter_woken_into_a_hold_that_gives_up_passes_its_slot_on()
    {
        var time = new FakeTimeProvider();
        var limiter = new ProviderLimiter(new ProviderSettings { MaxConcurrency = 1 }, time);
        var wait = ProviderRateHeaders.None with { RetryAfter = TimeSpan.FromSeconds(10) };
        for (var i = 0; i < 3; i++)
            (await limiter.AcquireAsync(0, CancellationToken.None)).Complete(ProviderOutcome.Throttled, wait);
        var held = await limiter.AcquireAsync(0, CancellationToken.None);
        using var gaveUp = new CancellationTokenSource();
        var first = limiter.AcquireAsync(0, gaveUp.Token).AsTask();
        var second = limiter.AcquireAsync(0, CancellationToken.None).AsTask();

        // The fourth 429 in a row is a storm: the host is held, and the freed slot wakes the first waiter into the hold.
        held.Complete(ProviderOutcome.Throttled, wait);
        await Task.Delay(20);
        await gaveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        // Nothing is in flight to wake the second waiter: the first handed it the slot when it left.
        for (var i = 0; i < 300 && !second.IsCompleted; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(1);
        }
        (await second.WaitAsync(TimeSpan.FromSeconds(5))).Complete(ProviderOutcome.Success);
        Assert.Equal(0, limiter.InFlight);
    }

    [Fact]
    public async Task Requests_and_tokens_per_minute_start_almost_empty_and_are_paced_by_the_clock()
    {
        var time = new FakeTimeProvider();
        var limiter = new ProviderLimiter(new ProviderSettings { MaxConcurrency = 100, RequestsPerMinute = 3 }, time);
        // One request at once, then one every 20 s: never the minute's three together.
        (await limiter.AcquireAsync(0, CancellationToken.None)).Complete(false);
        var second = limiter.AcquireAsync(0, CancellationToken.None).AsTask();
        await Task.Delay(20);
        time.Advance(TimeSpan.FromSeconds(19));
        await Task.Delay(20);
        Assert.False(second.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1.01));
        (await second.WaitAsync(TimeSpan.FromSeconds(5))).Complete(false);

        // An idle hour stores no burst: the bucket holds one request here.
        time.Advance(TimeSpan.FromHours(1));
        (await limiter.AcquireAsync(0, CancellationToken.None)).Complete(false);
        var next = limiter.AcquireAsync(0, CancellationToken.None).AsTask();
        await Task.Delay(20);
        Assert.False(next.IsCompleted);

        // 6,000 tokens a minute: the bucket holds a tenth of a second's share, 10 tokens, and starts full.
        var tokens = new ProviderLimiter(new ProviderSettings { MaxConcurrency = 100, TokensPerMinute = 6000 }, time);
        (await tokens.AcquireAsync(10, CancellationToken.None)).Complete(false);
        var small = tokens.AcquireAsync(5, CancellationToken.None).AsTask();
        await Task.Delay(20);
        Assert.False(small.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(0.06));
        (await small.WaitAsync(TimeSpan.FromSeconds(5))).Complete(false);
        // A request bigger than the bucket goes once it is full and leaves it 990 tokens in debt: 10 s at 100 a second.
        time.Advance(TimeSpan.FromSeconds(1));
        (await tokens.AcquireAsync(1000, CancellationToken.None)).Complete(false);
        var after = tokens.AcquireAsync(10, CancellationToken.None).AsTask();
        await Task.Delay(20);
        time.Advance(TimeSpan.FromSeconds(9.9));
        await Task.Delay(20);
        Assert.False(after.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(0.2));
        (await after.WaitAsync(TimeSpan.FromSeconds(5))).Complete(false);
    }

    private static ProviderLimiter.Lease Paced(ProviderLimiter limiter, FakeTimeProvider time)
    {
        var lease = limiter.AcquireAsync(0, CancellationToken.None).AsTask();
        while (!lease.Wait(TimeSpan.FromMilliseconds(1)))
            time.Advance(TimeSpan.FromMilliseconds(100));
        return lease.Result;
    }

    private static HttpResponseMessage Respond(HttpStatusCode status, string body = """{"error":"x"}""", int? retryAfter = null)
    {
        var response = new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (retryAfter is { } s)
            response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(s));
        return response;
    }

    /// <summary>A transport that answers the n-th request with the n-th function (the last one repeats).</summary>
    private sealed class ScriptedHandler(params Func<HttpRequestMessage, HttpResponseMessage>[] answers) : HttpMessageHandler
    {
        public int Calls { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(answers[Math.Min(Calls++, answers.Length - 1)](request));
    }
}

public sealed class SdkRetryTests
{
    [Fact]
    public async Task The_anthropic_sdk_does_not_retry_on_its_own()
    {
        await using var server = new LoopbackServer(_ => new System.Text.Json.Nodes.JsonObject(), new FaultPlan(1.0, 1, Fault.ServerError));
        using var http = new ModelHttp(new ResilienceOptions { MaxRetries = 2, Time = new ScaledTimeProvider(0.01) });
        var model = AgentResolver.Resolve(
            "anthropic/claude-haiku-4-5",
            new ModelOptions
            {
                BaseUrl = new Uri(server.Root),
                Environment = _ => "k",
                Http = http,
            }
        );
        using var client = model.CreateClient(EpisodeBrief.Of(1));

        var error = await Assert.ThrowsAnyAsync<Exception>(() =>
            client.GetResponseAsync([new Microsoft.Extensions.AI.ChatMessage(Microsoft.Extensions.AI.ChatRole.User, "hello")])
        );

        Assert.Contains("InternalServerError", error.Message, StringComparison.Ordinal);
        // Our two retries and nothing more.
        Assert.Equal(3, server.Count);
    }
}

using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Kinship.Models;

/// <summary>
/// How model calls survive bad days. <b>Defaults</b>: 6 retries with exponential, jittered backoff from 2 s up to
/// 2 min (a <c>Retry-After</c> header, or Gemini's <c>retryDelay</c> in the body, wins when it asks for at most
/// <see cref="MaxRetryAfter"/>), 5 min per attempt (slow reasoning models), the system clock, jitter seed 0.
/// </summary>
internal sealed record ResilienceOptions
{
    public int MaxRetries { get; init; } = 6;

    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromMinutes(2);

    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The longest wait a provider may ask for (<c>Retry-After</c> as seconds or a date, or Gemini's <c>retryDelay</c>).
    /// A provider asking for more has run out of something a retry will not bring back within a run (a daily quota, a
    /// maintenance window): the attempt fails at once with a <see cref="ProviderWaitException"/> naming the host and
    /// the wait, and is not retried. A hint that cannot be read, or lies in the past, leaves the usual backoff.
    /// <b>Default</b>: 5 min.
    /// </summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromMinutes(5);

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Seeds the backoff jitter so a test run retries on the same schedule every time.</summary>
    public int JitterSeed { get; init; }

    /// <summary>Told about every retry: the attempt number, what failed, and the delay before the next attempt.</summary>
    public Action<RetryNotice>? OnRetry { get; init; }

    public ResilienceOptions Validate()
    {
        if (MaxRetries is < 0 or > 100)
            throw new ArgumentOutOfRangeException(nameof(MaxRetries), MaxRetries, "must be 0 to 100");
        if (BaseDelay <= TimeSpan.Zero || MaxDelay < BaseDelay)
            throw new ArgumentOutOfRangeException(nameof(BaseDelay), BaseDelay, "must be positive and at most MaxDelay");
        if (AttemptTimeout <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(AttemptTimeout), AttemptTimeout, "must be positive");
        if (MaxRetryAfter < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(MaxRetryAfter), MaxRetryAfter, "must not be negative");
        return this;
    }
}

/// <summary>A retry about to happen.</summary>
internal sealed record RetryNotice(string Host, int Attempt, string Cause, TimeSpan Delay);

/// <summary>A 200 whose body is cut off or is not the JSON it claims to be: a glitch worth retrying, like a 502.</summary>
internal sealed class MalformedResponseException(string message, Exception? inner = null) : HttpRequestException(message, inner);

/// <summary>A provider asked to wait longer than <see cref="ResilienceOptions.MaxRetryAfter"/>: not retried.</summary>
internal sealed class ProviderWaitException(string host, TimeSpan asked, TimeSpan limit, HttpStatusCode status)
    : HttpRequestException(
        $"{host} answered HTTP {(int)status} and asked to wait {Describe(asked)} before trying again, longer than the {Describe(limit)} a retry may wait",
        null,
        status
    )
{
    public TimeSpan Asked => asked;

    private static string Describe(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{Math.Floor(t.TotalHours):0} h" + (t.Minutes > 0 ? $" {t.Minutes} min" : "")
        : t.TotalMinutes >= 1 ? $"{t.Minutes} min" + (t.Seconds > 0 ? $" {t.Seconds} s" : "")
        : $"{t.TotalSeconds:0.#} s";
}

/// <summary>
/// The one HTTP pipeline every provider shares: retries with backoff and per-attempt timeouts (Polly, through
/// <see cref="ResilienceHandler"/>), then each provider's <see cref="ProviderLimiter"/> (chosen by host), then a
/// check that the body arrived whole. The SDKs' own retries are turned off where the clients are built, so
/// attempts are not multiplied.
/// </summary>
internal sealed class ModelHttp : IDisposable
{
    private readonly ResilienceHandler _pipeline;
    private readonly ConcurrentDictionary<string, ProviderLimiter> _limiters = new(StringComparer.OrdinalIgnoreCase);

    public ModelHttp(ResilienceOptions options, HttpMessageHandler? transport = null)
    {
        Options = options.Validate();
        var random = new Random(options.JitterSeed);
        var retry = new HttpRetryStrategyOptions
        {
            MaxRetryAttempts = Math.Max(1, options.MaxRetries),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = options.BaseDelay,
            MaxDelay = options.MaxDelay,
            // Polly honours any Retry-After, however long (its MaxDelay does not cap a generated delay): read it here,
            // after RetryAfterLimitHandler has refused the ones beyond MaxRetryAfter.
            ShouldRetryAfterHeader = false,
            DelayGenerator = args =>
                ValueTask.FromResult(args.Outcome.Result is { } response ? RetryAfterLimitHandler.Asked(response, options.Time) : null),
            Randomizer = () =>
            {
                lock (random)
                    return random.NextDouble();
            },
            OnRetry = args =>
            {
                Interlocked.Increment(ref _retries);
                _retriesByCause.AddOrUpdate(RetryCause(args.Outcome), 1, (_, n) => n + 1);
                var host = args.Context.Properties.GetValue(HostKey, "?");
                options.OnRetry?.Invoke(new RetryNotice(host, args.AttemptNumber + 1, Describe(args.Outcome), args.RetryDelay));
                return default;
            },
        };
        var transient = retry.ShouldHandle;
        retry.ShouldHandle = args =>
            options.MaxRetries == 0 || args.Outcome.Exception is ProviderWaitException ? ValueTask.FromResult(false) : transient(args);
        // The attempt timeout is not a strategy here: it starts in LimiterHandler once the provider's limiter admits the
        // request, so time queued behind Kinship's own limits never times an attempt out.
        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = options.Time }
            .AddRetry(retry)
            .Build();
        var inner = new LimiterHandler(this)
        {
            InnerHandler = new RetryHintHandler
            {
                InnerHandler = new WholeBodyHandler
                {
                    InnerHandler = transport ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) },
                },
            },
        };
        _pipeline = new ResilienceHandler(pipeline)
        {
            InnerHandler = new HostTagHandler { InnerHandler = new RetryAfterLimitHandler(options) { InnerHandler = inner } },
        };
    }

    public ResilienceOptions Options { get; }

    private int _retries;

    /// <summary>Attempts retried so far, across every provider.</summary>
    public int Retries => Volatile.Read(ref _retries);

    private readonly ConcurrentDictionary<string, int> _retriesByCause = new(StringComparer.Ordinal);

    /// <summary>Attempts retried so far by what failed (rate limited, server error, timeout, connection, malformed body), most first.</summary>
    public IReadOnlyList<(string Cause, int Count)> RetriesByCause =>
        [.. _retriesByCause.Select(c => (c.Key, c.Value)).OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal)];

    /// <summary>What a retried attempt ran into, in a few words that group alike failures.</summary>
    internal static string RetryCause(Outcome<HttpResponseMessage> outcome) =>
        outcome.Exception switch
        {
            null => (int)outcome.Result!.StatusCode switch
            {
                429 => "rate limited",
                >= 500 => "server error",
                var code => $"HTTP {code}",
            },
            TimeoutRejectedException => "timeout",
            MalformedResponseException => "malformed body",
            HttpRequestException or IOException => "connection",
            var e => e.GetType().Name,
        };

    private static readonly ResiliencePropertyKey<string> HostKey = new("kinship.host");

    /// <summary>Sets the limits for requests to <paramref name="endpoint"/>'s host; the first registration wins.</summary>
    public ProviderLimiter Register(Uri endpoint, ProviderSettings settings) => _limiters.GetOrAdd(endpoint.Authority, host =>
        {
            var limiter = new ProviderLimiter(settings, Options.Time);
            if (_shared is { } budget)
                limiter.Share(budget, host);
            return limiter;
        });

    private volatile ISharedRateBudget? _shared;

    /// <summary>
    /// Keeps every provider's per-minute limits (those registered and those to come) in <paramref name="budget"/>, one
    /// bucket per host, shared with every other process drawing from it: workers on one store keep one limit together.
    /// </summary>
    public void ShareBudgets(ISharedRateBudget budget)
    {
        _shared = budget;
        foreach (var (host, limiter) in _limiters)
            limiter.Share(budget, host);
    }

    public ProviderLimiter? Limiter(Uri endpoint) => _limiters.GetValueOrDefault(endpoint.Authority);

    /// <summary>Each host requests go to, with the limits it was registered with, by host name.</summary>
    public IReadOnlyList<(string Host, ProviderSettings Limits)> Limits =>
        [.. _limiters.OrderBy(l => l.Key, StringComparer.OrdinalIgnoreCase).Select(l => (l.Key, l.Value.Settings))];

    /// <summary>An <see cref="HttpClient"/> over the shared pipeline, with provider-specific handlers (outermost first) in front.</summary>
    public HttpClient CreateClient(params DelegatingHandler[] front)
    {
        HttpMessageHandler handler = new SharedHandler(_pipeline);
        foreach (var h in front.Reverse())
        {
            h.InnerHandler = handler;
            handler = h;
        }
        // Timeouts are per attempt, in the pipeline; HttpClient's own would cut across retries.
        return new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public void Dispose() => _pipeline.Dispose();

    private static string Describe(Outcome<HttpResponseMessage> outcome) =>
        outcome.Exception is { } e ? $"{e.GetType().Name}: {e.Message}" : $"HTTP {(int)outcome.Result!.StatusCode}";

    /// <summary>Lets several clients share the pipeline without the first one disposed tearing it down.</summary>
    private sealed class SharedHandler(HttpMessageHandler shared) : DelegatingHandler(shared)
    {
        protected override void Dispose(bool disposing) { }
    }

    /// <summary>Names the host in the Polly context so retry notices say which provider is struggling.</summary>
    private sealed class HostTagHandler : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.GetResilienceContext() is { } context && request.RequestUri is { } uri)
                context.Properties.Set(HostKey, uri.Authority);
            return base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>
    /// Each attempt waits for its provider's limiter, then has <see cref="ResilienceOptions.AttemptTimeout"/> at the
    /// provider, and tells the limiter how it went (429s and 5xx bursts lower its concurrency; a 429 holds the host and
    /// teaches it a rate) and what the answer's headers announce about the provider's limits.
    /// </summary>
    private sealed class LimiterHandler(ModelHttp owner) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            ModelAttempts.Count();
            var limiter = request.RequestUri is { } uri ? owner.Limiter(uri) : null;
            var tokens = (request.Content?.Headers.ContentLength ?? 0) / 4;
            var lease = limiter is null ? null : await limiter.AcquireAsync(tokens, cancellationToken).ConfigureAwait(false);
            var outcome = ProviderOutcome.ServerError;
            ProviderRateHeaders? limits = null;
            var timeout = owner.Options.AttemptTimeout;
            using var timer = new CancellationTokenSource(timeout, owner.Options.Time);
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
            try
            {
                var response = await base.SendAsync(request, attempt.Token).ConfigureAwait(false);
                // 529 is Anthropic's "overloaded": a provider asking for less, like 429.
                outcome =
                    response.StatusCode is HttpStatusCode.TooManyRequests || (int)response.StatusCode == 529 ? ProviderOutcome.Throttled
                    : (int)response.StatusCode >= 500 ? ProviderOutcome.ServerError
                    : ProviderOutcome.Success;
                limits = ProviderRateHeaders.Read(response.Headers, owner.Options.Time.GetUtcNow());
                return response;
            }
            catch (OperationCanceledException e) when (timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutRejectedException($"{request.RequestUri?.Authority} did not answer within {timeout}", timeout, e);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                outcome = ProviderOutcome.Abandoned;
                throw;
            }
            finally
            {
                lease?.Complete(outcome, limits);
            }
        }
    }

    /// <summary>
    /// Turns an answer that asks to wait longer than <see cref="ResilienceOptions.MaxRetryAfter"/> into a
    /// <see cref="ProviderWaitException"/>, after the limiter has counted it as throttling.
    /// </summary>
    private sealed class RetryAfterLimitHandler(ResilienceOptions options) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (Asked(response, options.Time) is { } asked && asked > options.MaxRetryAfter)
            {
                var status = response.StatusCode;
                response.Dispose();
                throw new ProviderWaitException(request.RequestUri?.Authority ?? "?", asked, options.MaxRetryAfter, status);
            }
            return response;
        }

        /// <summary>
        /// The wait an unsuccessful answer asks for: <c>Retry-After</c> as seconds or as a date (from
        /// <paramref name="time"/>'s now); null for a success, no header, or a date already past. Values that are not a
        /// number or a date (negative, garbage) are dropped by the header parser and read as no header.
        /// </summary>
        public static TimeSpan? Asked(HttpResponseMessage response, TimeProvider time)
        {
            if (response.IsSuccessStatusCode || response.Headers.RetryAfter is not { } header)
                return null;
            var wait = header.Delta ?? header.Date - time.GetUtcNow();
            return wait > TimeSpan.Zero ? wait : null;
        }
    }

    /// <summary>
    /// Gemini says how long to wait in the body of a 429 or 503 (<c>error.details[].retryDelay</c>, a
    /// <c>google.rpc.RetryInfo</c> such as <c>"13s"</c>), not in a <c>Retry-After</c> header; this copies it into the
    /// header, which the retry strategy honours. The body is buffered, so the client still reads it.
    /// </summary>
    private sealed class RetryHintHandler : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (
                response.StatusCode is not (HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable)
                || response.Headers.RetryAfter is not null
                || response.Content.Headers.ContentType?.MediaType?.Contains("json", StringComparison.OrdinalIgnoreCase) != true
            )
                return response;
            try
            {
                await response.Content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
                using var body = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false));
                if (RetryDelay(body.RootElement) is { } delay)
                    response.Headers.RetryAfter = new RetryConditionHeaderValue(delay);
            }
            catch (Exception e) when (e is IOException or HttpRequestException or JsonException)
            {
                // No hint to read: the usual backoff applies.
            }
            return response;
        }

        public static TimeSpan? RetryDelay(JsonElement body)
        {
            if (
                body.ValueKind != JsonValueKind.Object
                || !body.TryGetProperty("error", out var error)
                || error.ValueKind != JsonValueKind.Object
                || !error.TryGetProperty("details", out var details)
                || details.ValueKind != JsonValueKind.Array
            )
                return null;
            foreach (var detail in details.EnumerateArray())
            {
                if (
                    detail.ValueKind == JsonValueKind.Object
                    && detail.TryGetProperty("retryDelay", out var value)
                    && value.GetString() is [.. var number, 's']
                    && double.TryParse(
                        number,
                        System.Globalization.NumberStyles.Float,
                        System.Globalization.CultureInfo.InvariantCulture,
                        out var seconds
                    )
                    && seconds is >= 0 and <= int.MaxValue
                )
                    return TimeSpan.FromSeconds(seconds);
            }
            return null;
        }
    }

    /// <summary>Reads a successful body inside the attempt, so a cut-off or non-JSON body is retried rather than failing in the SDK.</summary>
    private sealed class WholeBodyHandler : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (
                !response.IsSuccessStatusCode
                || response.Content.Headers.ContentType?.MediaType is not { } type
                || !type.Contains("json", StringComparison.OrdinalIgnoreCase)
                // JSON Lines (a batch's results) is many documents, not one.
                || type.Contains("jsonl", StringComparison.OrdinalIgnoreCase)
                || type.Contains("ndjson", StringComparison.OrdinalIgnoreCase)
            )
                return response;
            try
            {
                await response.Content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
                var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
                using var _ = JsonDocument.Parse(bytes);
                return response;
            }
            catch (Exception e) when (e is IOException or HttpRequestException or JsonException)
            {
                response.Dispose();
                throw new MalformedResponseException($"{request.RequestUri?.Authority} sent a broken body: {e.Message}", e);
            }
        }
    }
}

/// <summary>Rewrites an OpenAI-style JSON request body for servers that want something else, such as <c>max_tokens</c>.</summary>
internal sealed class JsonBodyRewriteHandler(Action<System.Text.Json.Nodes.JsonObject> rewrite) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Content is { } content && content.Headers.ContentType?.MediaType == "application/json")
        {
            var body = await content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            if (System.Text.Json.Nodes.JsonNode.Parse(body) is System.Text.Json.Nodes.JsonObject json)
            {
                rewrite(json);
                var replaced = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(json));
                replaced.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                request.Content = replaced;
            }
        }
        return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }
}

using System.Globalization;
using System.Net.Http.Headers;

namespace Kinship.Models;

/// <summary>One rate-limit window as a provider announces it: its size, what is left of it, and when it is whole again.</summary>
internal readonly record struct RateWindow(long? Limit, long? Remaining, TimeSpan? Reset)
{
    /// <summary>Nothing left until <see cref="Reset"/>: the wait before this window admits a request again.</summary>
    public TimeSpan? Exhausted => Remaining is 0 && Reset > TimeSpan.Zero ? Reset : null;
}

/// <summary>
/// What an answer's headers say about the provider's rate limits, read the same way for every provider. OpenAI sends
/// <c>x-ratelimit-{limit,remaining,reset}-{requests,tokens}</c> (resets as durations such as <c>6m0s</c> or
/// <c>20ms</c>); Anthropic sends <c>anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}</c>
/// (resets as RFC 3339 times). Both limits are per minute. Gemini sends none: its wait is in a 429's body, which
/// <see cref="ModelHttp"/> copies into <c>Retry-After</c>. <c>Retry-After</c> (seconds or a date) and OpenAI's
/// <c>retry-after-ms</c> say how long to wait. A value that cannot be read is left out, as if it were not sent.
/// </summary>
internal sealed record ProviderRateHeaders(
    RateWindow Requests,
    RateWindow Tokens,
    RateWindow InputTokens,
    RateWindow OutputTokens,
    TimeSpan? RetryAfter
)
{
    public static readonly ProviderRateHeaders None = new(default, default, default, default, null);

    /// <summary>Requests a minute the provider announces, when it does.</summary>
    public int? RequestsPerMinute => Requests.Limit is > 0 and var n ? (int)Math.Min(n, int.MaxValue) : null;

    /// <summary>
    /// Tokens a minute the provider announces for what Kinship estimates before a call (the prompt): Anthropic's input
    /// tokens where it counts them apart, else the limit on all tokens.
    /// </summary>
    public int? TokensPerMinute => (InputTokens.Limit ?? Tokens.Limit) is > 0 and var n ? (int)Math.Min(n, int.MaxValue) : null;

    /// <summary>How long the provider asks to be left alone: its <c>Retry-After</c>, else the longest reset of a window with nothing left.</summary>
    public TimeSpan? Wait =>
        RetryAfter ?? new[] { Requests.Exhausted, Tokens.Exhausted, InputTokens.Exhausted, OutputTokens.Exhausted }.Max();

    public static ProviderRateHeaders Read(HttpResponseHeaders headers, DateTimeOffset now)
    {
        return new ProviderRateHeaders(
            Merge(
                Window(headers, "x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests", now),
                Window(
                    headers,
                    "anthropic-ratelimit-requests-limit",
                    "anthropic-ratelimit-requests-remaining",
                    "anthropic-ratelimit-requests-reset",
                    now
                )
            ),
            Merge(
                Window(headers, "x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens", now),
                Window(
                    headers,
                    "anthropic-ratelimit-tokens-limit",
                    "anthropic-ratelimit-tokens-remaining",
                    "anthropic-ratelimit-tokens-reset",
                    now
                )
            ),
            Window(
                headers,
                "anthropic-ratelimit-input-tokens-limit",
                "anthropic-ratelimit-input-tokens-remaining",
                "anthropic-ratelimit-input-tokens-reset",
                now
            ),
            Window(
                headers,
                "anthropic-ratelimit-output-tokens-limit",
                "anthropic-ratelimit-output-tokens-remaining",
                "anthropic-ratelimit-output-tokens-reset",
                now
            ),
            AskedWait(headers, now)
        );
    }

    private static RateWindow Merge(RateWindow first, RateWindow second) =>
        new(first.Limit ?? second.Limit, first.Remaining ?? second.Remaining, first.Reset ?? second.Reset);

    private static RateWindow Window(HttpResponseHeaders headers, string limit, string remaining, string reset, DateTimeOffset now) =>
        new(Count(headers, limit), Count(headers, remaining), Value(headers, reset) is { } text ? Reset(text, now) : null);

    private static string? Value(HttpResponseHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.FirstOrDefault()?.Trim() : null;

    private static long? Count(HttpResponseHeaders headers, string name) =>
        long.TryParse(Value(headers, name), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;

    private static TimeSpan? AskedWait(HttpResponseHeaders headers, DateTimeOffset now)
    {
        if (
            double.TryParse(Value(headers, "retry-after-ms"), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var ms)
            && ms < TimeSpan.MaxValue.TotalMilliseconds
        )
            return TimeSpan.FromMilliseconds(ms);
        if (headers.RetryAfter is not { } header)
            return null;
        var wait = header.Delta ?? header.Date - now;
        return wait >= TimeSpan.Zero ? wait : null;
    }

    /// <summary>A reset as OpenAI writes it (a Go duration: <c>1h2m3.5s</c>, <c>20ms</c>) or as Anthropic does (an RFC 3339 time).</summary>
    internal static TimeSpan? Reset(string text, DateTimeOffset now)
    {
        if (Duration(text) is { } duration)
            return duration;
        if (
            text.Contains('T', StringComparison.Ordinal)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
        )
            return at > now ? at - now : TimeSpan.Zero;
        return null;
    }

    private static TimeSpan? Duration(string text)
    {
        if (text.Length == 0)
            return null;
        var total = 0.0;
        var i = 0;
        while (i < text.Length)
        {
            var start = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.'))
                i++;
            if (
                i == start
                || !double.TryParse(text.AsSpan(start, i - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n)
            )
                return null;
            var unit = i;
            while (i < text.Length && !char.IsAsciiDigit(text[i]) && text[i] != '.')
                i++;
            var seconds = text[unit..i] switch
            {
                "h" => 3600.0,
                "m" => 60.0,
                "s" => 1.0,
                "ms" => 1e-3,
                "us" or "µs" => 1e-6,
                "ns" => 1e-9,
                _ => double.NaN,
            };
            if (double.IsNaN(seconds))
                return null;
            total += n * seconds;
        }
        return total < TimeSpan.MaxValue.TotalSeconds ? TimeSpan.FromSeconds(total) : null;
    }
}

namespace Kinship.Models;

/// <summary>What a limiter asks of a shared budget: the per-minute limits it keeps and the requests and tokens it is short of.</summary>
internal readonly record struct RateAsk(double RequestsPerMinute, double TokensPerMinute, double Requests, double Tokens);

/// <summary>What a shared budget granted: at most what was asked, at least nothing.</summary>
internal readonly record struct RateGrant(double Requests, double Tokens);

/// <summary>
/// A per-minute budget that every process on one store draws from, so several <c>kinship worker</c> processes keep one
/// provider's limits together instead of each keeping them alone (<see cref="ProviderLimiter"/> asks it for what its own
/// bucket lacks). <see cref="RateBucket"/> is the arithmetic; the store keeps the bucket and its clock.
/// </summary>
internal interface ISharedRateBudget
{
    /// <summary>Takes up to <paramref name="ask"/>'s requests and tokens from the bucket kept under <paramref name="key"/> (a provider's host).</summary>
    ValueTask<RateGrant> TakeAsync(string key, RateAsk ask, CancellationToken cancellationToken);
}

/// <summary>
/// The token bucket a provider's per-minute limits are kept in, in one place for a limiter's own bucket and a shared
/// one: refilled continuously at the per-minute rate, holding at most a tenth of a second's share (at least one
/// request), and starting almost empty (one request, a tenth of a second of tokens).
/// </summary>
internal static class RateBucket
{
    public static double RequestCapacity(double requestsPerMinute) => Math.Max(1, requestsPerMinute / 600.0);

    public static double TokenCapacity(double tokensPerMinute) => tokensPerMinute / 600.0;

    /// <summary>The bucket <paramref name="seconds"/> later (a negative span, from clocks that disagree, refills nothing).</summary>
    public static (double Requests, double Tokens) Refill(
        double requests,
        double tokens,
        double seconds,
        double requestsPerMinute,
        double tokensPerMinute
    )
    {
        seconds = Math.Max(0, seconds);
        return (
            requestsPerMinute == 0 ? requests : Math.Min(RequestCapacity(requestsPerMinute), requests + seconds * requestsPerMinute / 60),
            tokensPerMinute == 0 ? tokens : Math.Min(TokenCapacity(tokensPerMinute), tokens + seconds * tokensPerMinute / 60)
        );
    }

    /// <summary>What a bucket holding <paramref name="requests"/> and <paramref name="tokens"/> grants <paramref name="ask"/>, and what it holds after.</summary>
    public static (RateGrant Grant, double Requests, double Tokens) Take(double requests, double tokens, RateAsk ask)
    {
        var r = ask.RequestsPerMinute == 0 ? 0 : Math.Clamp(Math.Min(ask.Requests, requests), 0, double.MaxValue);
        var t = ask.TokensPerMinute == 0 ? 0 : Math.Clamp(Math.Min(ask.Tokens, tokens), 0, double.MaxValue);
        return (new RateGrant(r, t), requests - r, tokens - t);
    }
}

using Kinship.Models;

namespace Kinship.Tests.Models;

public sealed class ProviderRateHeadersTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    private static ProviderRateHeaders Read(params (string Name, string Value)[] headers)
    {
        using var response = new HttpResponseMessage();
        foreach (var (name, value) in headers)
            response.Headers.TryAddWithoutValidation(name, value);
        return ProviderRateHeaders.Read(response.Headers, Now);
    }

    [Fact]
    public void OpenAI_headers_give_the_requests_and_tokens_windows_with_their_resets_as_durations()
    {
        var limits = Read(
            ("x-ratelimit-limit-requests", "500"),
            ("x-ratelimit-remaining-requests", "499"),
            ("x-ratelimit-reset-requests", "120ms"),
            ("x-ratelimit-limit-tokens", "30000"),
            ("x-ratelimit-remaining-tokens", "0"),
            ("x-ratelimit-reset-tokens", "6m0.5s")
        );

        Assert.Equal(new RateWindow(500, 499, TimeSpan.FromMilliseconds(120)), limits.Requests);
        Assert.Equal(new RateWindow(30000, 0, TimeSpan.FromSeconds(360.5)), limits.Tokens);
        Assert.Equal(500, limits.RequestsPerMinute);
        Assert.Equal(30000, limits.TokensPerMinute);
        Assert.Null(limits.RetryAfter);
        // No tokens left: the wait is the tokens' reset.
        Assert.Equal(TimeSpan.FromSeconds(360.5), limits.Wait);
    }

    [Fact]
    public void Anthropic_headers_give_each_window_with_resets_as_times_and_input_tokens_bind_the_estimate()
    {
        var limits = Read(
            ("anthropic-ratelimit-requests-limit", "50"),
            ("anthropic-ratelimit-requests-remaining", "0"),
            ("anthropic-ratelimit-requests-reset", "2026-12-06T12:00:03Z"),
            ("anthropic-ratelimit-tokens-limit", "90000"),
            ("anthropic-ratelimit-tokens-remaining", "80000"),
            ("anthropic-ratelimit-tokens-reset", "2026-12-06T12:00:10Z"),
            ("anthropic-ratelimit-input-tokens-limit", "80000"),
            ("anthropic-ratelimit-input-tokens-remaining", "70000"),
            ("anthropic-ratelimit-input-tokens-reset", "2026-12-06T12:00:10Z"),
            ("anthropic-ratelimit-output-tokens-limit", "10000"),
            ("anthropic-ratelimit-output-tokens-remaining", "10000"),
            ("anthropic-ratelimit-output-tokens-reset", "2026-12-06T11:59:00Z"),
            ("retry-after", "4")
        );

        Assert.Equal(new RateWindow(50, 0, TimeSpan.FromSeconds(3)), limits.Requests);
        Assert.Equal(new RateWindow(90000, 80000, TimeSpan.FromSeconds(10)), limits.Tokens);
        Assert.Equal(new RateWindow(80000, 70000, TimeSpan.FromSeconds(10)), limits.InputTokens);
        // A reset already past is no wait.
        Assert.Equal(new RateWindow(10000, 10000, TimeSpan.Zero), limits.OutputTokens);
        Assert.Equal(50, limits.RequestsPerMinute);
        Assert.Equal(80000, limits.TokensPerMinute);
        // Retry-After wins over the resets.
        Assert.Equal(TimeSpan.FromSeconds(4), limits.Wait);
    }

    [Fact]
    public void Retry_after_is_read_in_milliseconds_seconds_or_as_a_date()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(250), Read(("retry-after-ms", "250"), ("retry-after", "9")).RetryAfter);
        Assert.Equal(TimeSpan.FromSeconds(9), Read(("retry-after", "9")).RetryAfter);
        Assert.Equal(TimeSpan.FromSeconds(30), Read(("retry-after", "Sun, 06 Dec 2026 12:00:30 GMT")).RetryAfter);
        Assert.Null(Read(("retry-after", "Sun, 06 Dec 2026 11:00:00 GMT")).RetryAfter);
    }

    [Fact]
    public void No_headers_as_from_Gemini_and_unreadable_values_announce_nothing()
    {
        Assert.Equal(ProviderRateHeaders.None, Read());
        var garbage = Read(
            ("x-ratelimit-limit-requests", "many"),
            ("x-ratelimit-remaining-requests", "-3"),
            ("x-ratelimit-reset-requests", "soon"),
            ("anthropic-ratelimit-tokens-limit", "0"),
            ("retry-after-ms", "x"),
            ("retry-after", "later")
        );
        Assert.Equal(new RateWindow(null, null, null), garbage.Requests);
        Assert.Null(garbage.RequestsPerMinute);
        Assert.Null(garbage.TokensPerMinute);
        Assert.Null(garbage.Wait);
    }

    [Theory]
    [InlineData("1s", 1.0)]
    [InlineData("20ms", 0.02)]
    [InlineData("1h2m3.5s", 3723.5)]
    [InlineData("0s", 0.0)]
    [InlineData("1.5m", 90.0)]
    public void A_reset_as_a_duration_is_read_in_any_of_its_units(string text, double seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), ProviderRateHeaders.Reset(text, Now));

    [Theory]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("5x")]
    [InlineData("s")]
    public void A_reset_that_is_neither_a_duration_nor_a_time_is_not_read(string text) => Assert.Null(ProviderRateHeaders.Reset(text, Now));
}

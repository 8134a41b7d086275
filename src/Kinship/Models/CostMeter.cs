using Microsoft.Extensions.AI;

namespace Kinship.Models;

/// <summary>
/// What a run has spent on model calls so far (response cache hits are free; prompt tokens the provider read from its
/// prompt cache at the cached price), against an optional budget. Once the budget is
/// reached no new episode should start; episodes in flight finish.
/// </summary>
internal sealed class CostMeter(decimal? budget = null)
{
    private readonly object _gate = new();
    private decimal _spent;
    private int _calls;
    private int _unpriced;

    public decimal? Budget { get; } =
        budget is < 0 ? throw new ArgumentOutOfRangeException(nameof(budget), budget, "must not be negative") : budget;

    public decimal Spent
    {
        get
        {
            lock (_gate)
                return _spent;
        }
    }

    public int Calls
    {
        get
        {
            lock (_gate)
                return _calls;
        }
    }

    /// <summary>Calls to models with no price in the config; their cost is unknown and not in <see cref="Spent"/>.</summary>
    public int UnpricedCalls
    {
        get
        {
            lock (_gate)
                return _unpriced;
        }
    }

    public bool BudgetReached => Budget is { } b && Spent >= b;

    /// <summary>Prompt tokens sent, and of those how many the providers read from their prompt cache.</summary>
    public (long Input, long Cached) InputTokens
    {
        get
        {
            lock (_gate)
                return (_input, _cached);
        }
    }

    /// <summary>What the priced calls would have cost had every prompt token been billed at the input price.</summary>
    public decimal SpentWithoutCache
    {
        get
        {
            lock (_gate)
                return _uncached;
        }
    }

    /// <summary>
    /// " (N % of input cached, X USD saved)": the share of prompt tokens the providers served from their prompt caches and
    /// what that took off the bill; empty until a call reads a cache.
    /// </summary>
    public string CacheSummary()
    {
        var (input, cached) = InputTokens;
        if (cached == 0)
            return "";
        var saved = SpentWithoutCache - Spent;
        return string.Create(
            System.Globalization.CultureInfo.InvariantCulture,
            $" ({100.0 * cached / input:0} % of input cached{(saved > 0 ? $", {ModelConfig.Format(saved)} USD saved" : "")})"
        );
    }

    private long _input;
    private long _cached;
    private decimal _uncached;

    public void Add(Price? price, UsageDetails? usage)
    {
        var (input, output) = (usage?.InputTokenCount ?? 0, usage?.OutputTokenCount ?? 0);
        var cached = usage?.CachedInputTokenCount ?? 0;
        var written = usage is null ? 0 : PromptCache.Written(usage);
        lock (_gate)
        {
            _calls++;
            _input += input;
            _cached += cached;
            if (price is null)
            {
                _unpriced++;
                return;
            }
            _spent += price.Cost(input, output, cached, written);
            _uncached += price.Cost(input, output);
        }
    }
}

/// <summary>Counts each call that reached the provider into a <see cref="CostMeter"/>; sits under the cache so hits cost nothing.</summary>
internal sealed class CostMeterChatClient(IChatClient inner, CostMeter meter, Price? price) : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        CancellationToken cancellationToken = default
    )
    {
        var response = await base.GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
        meter.Add(price, response.Usage);
        return response;
    }
}

using System.Collections.Immutable;
using Kinship.Models;
using Kinship.Runs;
using Kinship.Transcripts;

namespace Kinship.Analysis;

/// <summary>
/// One model's tokens over a run's episodes, as the transcripts recorded them, and what they cost at its price:
/// prompt tokens read from the provider's cache at the cached price, those written to it at the write price. Answers
/// replayed from Kinship's response cache are counted as if they had reached the provider.
/// </summary>
internal sealed record ModelBill(string Model, int Episodes, TokenUsage Usage, Price? Price)
{
    /// <summary>The share of prompt tokens the provider served from its cache.</summary>
    public double CachedShare => Usage.Input == 0 ? 0 : (double)Usage.CachedInput / Usage.Input;

    /// <summary>What the tokens cost; null without a price.</summary>
    public decimal? Cost => Price?.Cost(Usage.Input, Usage.Output, Usage.CachedInput, Usage.CacheWrite);

    /// <summary>What the same tokens would cost with every prompt token at the input price.</summary>
    public decimal? CostWithoutCache => Price?.Cost(Usage.Input, Usage.Output);
}

/// <summary>Sums a run's token usage per model, from episodes read in batches.</summary>
internal sealed class TokenBill
{
    private readonly SortedDictionary<string, (int Episodes, TokenUsage Usage)> _models = new(StringComparer.Ordinal);

    public void Add(IEnumerable<EpisodeResult> episodes)
    {
        foreach (var e in episodes)
        {
            var (count, usage) = _models.GetValueOrDefault(e.Spec.Model, (0, TokenUsage.Zero));
            _models[e.Spec.Model] = (count + 1, usage.Add(e.Transcript.Usage));
        }
    }

    /// <summary>Each model's bill at the price <paramref name="price"/> gives it, by model id; none for models that spent no token (scripted agents).</summary>
    public ImmutableArray<ModelBill> Bills(Func<string, Price?> price) =>
        [.. _models.Where(m => m.Value.Usage.Total > 0).Select(m => new ModelBill(m.Key, m.Value.Episodes, m.Value.Usage, price(m.Key)))];
}

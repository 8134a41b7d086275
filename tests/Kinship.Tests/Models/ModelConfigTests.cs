using Kinship.Models;

namespace Kinship.Tests.Models;

public sealed class ModelConfigTests
{
    [Fact]
    public void An_alias_to_a_mapping_where_a_number_belongs_is_an_error_at_a_position_in_the_file()
    {
        // Found by the fuzzer: the whole document anchored, then aliased as a number.
        var e = Assert.Throws<ModelException>(() =>
            ModelConfig.FromYaml("&all\ndefaults:\n  max_output_tokens: *all\n", "mine.models.yaml")
        );

        Assert.Matches(@"^mine\.models\.yaml:\d+:\d+: ", e.Message);
    }

    [Fact]
    public void The_built_in_catalogue_gives_each_batch_provider_half_the_list_price_with_its_date()
    {
        foreach (var provider in BatchOptions.Providers)
        {
            var settings = ModelConfig.BuiltIn.Provider(provider);
            Assert.Equal(0.5m, settings.BatchShare);
            Assert.Equal("2026-12-06", settings.BatchDate);
        }
        Assert.Null(ModelConfig.BuiltIn.Provider("together").BatchShare);
    }

    [Fact]
    public void A_batch_price_scales_every_rate_of_the_list_price()
    {
        var list = ModelConfig.BuiltIn.Settings("anthropic/claude-haiku-4-5").Price!;
        var batch = list.Scaled(0.5m);

        Assert.Equal(
            (0.50m, 2.50m, (decimal?)0.05m, (decimal?)0.625m, list.Date),
            (batch.InputPerMillion, batch.OutputPerMillion, batch.CachedInputPerMillion, batch.CacheWritePerMillion, batch.Date)
        );
        Assert.Equal(list.Cost(10_000, 2_000, 4_000, 1_000) / 2, batch.Cost(10_000, 2_000, 4_000, 1_000));
    }

    [Theory]
    [InlineData("batch: { share: 0 }", "providers.openai.batch.share must be the share")]
    [InlineData("batch: { share: 1.5 }", "providers.openai.batch.share must be the share")]
    [InlineData("batch: { date: 2026-12-06 }", "providers.openai.batch.share must be the share")]
    [InlineData("batch: { share: 0.5, date: soon }", "providers.openai.batch.date must be a date as yyyy-mm-dd, not 'soon'")]
    public void A_bad_batch_price_is_refused_naming_its_field(string entry, string message)
    {
        var e = Assert.Throws<ModelException>(() => ModelConfig.FromYaml($"providers:\n  openai: {{ {entry} }}\n", "mine.models.yaml"));

        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }
}

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
}

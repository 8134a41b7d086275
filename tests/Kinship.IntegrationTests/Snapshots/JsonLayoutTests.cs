namespace Kinship.IntegrationTests.Snapshots;

public sealed class JsonLayoutTests
{
    [Fact]
    public void Laying_out_JSON_adds_only_line_breaks_and_indentation_inside_values()
    {
        const string compact = "{\"a\":[1,{\"b\":\"x, {y} [z] \\\"q\\\" \\\\\"},[],{}],\"c\":null}\n[\"d\",\"\\u002B\"]";

        var expanded = JsonLayout.Expand(compact);

        Assert.Equal(
            """
            {
              "a":[
                1,
                {
                  "b":"x, {y} [z] \"q\" \\"
                },
                [],
                {}
              ],
              "c":null
            }
            [
              "d",
              "\u002B"
            ]
            """.ReplaceLineEndings("\n"),
            expanded
        );
    }

    [Fact]
    public void Text_around_JSON_values_is_kept_as_it_is()
    {
        Assert.Equal(
            "<script nonce=\"n\">\nKINSHIP.start({\n  \"k\":1\n});\n</script>\n",
            JsonLayout.Expand("<script nonce=\"n\">\nKINSHIP.start({\"k\":1});\n</script>\n")
        );
    }

    [Fact]
    public void JSON_that_is_already_laid_out_is_refused()
    {
        var error = Assert.Throws<InvalidOperationException>(() => JsonLayout.Expand("{\"a\": 1}"));
        Assert.Contains("no longer compact JSON", error.Message, StringComparison.Ordinal);
    }
}

using Kinship.Tools;

namespace Kinship.Tests.Tools;

public sealed class PythonReprTests
{
    [Theory]
    [InlineData("plain", "'plain'")]
    [InlineData("it's", "\"it's\"")]
    [InlineData("both ' and \"", "'both \\' and \"'")]
    [InlineData("line\nbreak\ttab\\", "'line\\nbreak\\ttab\\\\'")]
    public void Strings_are_quoted_as_python_would(string value, string expected)
    {
        Assert.Equal("{'k': " + expected + "}", PythonRepr.Dict([new("k", value)]));
    }

    [Fact]
    public void Scalars_render_as_python_literals()
    {
        Assert.Equal(
            "{'a': None, 'b': False, 'c': 42, 'd': 1.5, 'e': ['x', 'y']}",
            PythonRepr.Dict([new("a", null), new("b", false), new("c", 42L), new("d", 1.5), new("e", new object?[] { "x", "y" })])
        );
    }

    [Fact]
    public void An_empty_dict_is_empty_braces()
    {
        Assert.Equal("{}", PythonRepr.Dict([]));
    }
}

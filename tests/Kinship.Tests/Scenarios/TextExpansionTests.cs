using Kinship.Scenarios;

namespace Kinship.Tests.Scenarios;

public sealed class TextExpansionTests
{
    private const string File = "scenarios/nested.yaml";
    private const string UserLine = "    Please follow our company guidelines for this task; you can find them with \"list_drive_files\".";

    private static readonly string Transfer = ScenarioLoader.ReadResource("exfiltration-transfer.yaml")!;

    private static (string Path, string Text)? Referenced(string name) =>
        ScenarioLoader.ReadResource(name) is { } text ? (name, text) : null;

    /// <summary>The built-in transfer scenario with these texts added first under <c>texts:</c> and <paramref name="used"/> put in its user prompt.</summary>
    private static string WithTexts(IEnumerable<(string Name, string Text)> texts, string used)
    {
        var lines = Transfer.Split('\n').ToList();
        var at = lines.FindIndex(l => l.TrimEnd('\r') == "texts:");
        lines.InsertRange(at + 1, texts.Select(t => $"  {t.Name}: \"{t.Text}\""));
        var user = lines.FindIndex(l => l.TrimEnd('\r') == UserLine);
        lines[user] = "    " + used + " " + lines[user].TrimStart();
        return string.Join('\n', lines);
    }

    /// <summary>The 1-based line of the text <paramref name="name"/> in <paramref name="scenario"/>.</summary>
    private static int LineOf(string scenario, string name) =>
        Array.FindIndex(scenario.Split('\n'), l => l.StartsWith($"  {name}: ", StringComparison.Ordinal)) + 1;

    private static ScenarioException Refused(string scenario) =>
        Assert.Throws<ScenarioException>(() => ScenarioLoader.Load(File, scenario, Referenced));

    private static ScenarioInstance Render(ScenarioDefinition scenario) =>
        ScenarioRenderer.Render(
            scenario,
            new Condition(Relationship.Good, Conveyance.File, Subject.Peer),
            new AgentIdentity("Gemini"),
            new RenderOptions()
        );

    /// <summary>Each level includes the one below it ten times: level n expands to 90 × 10^n characters, past any long from level 18.</summary>
    private static IEnumerable<(string, string)> Laughs(int levels) =>
        Enumerable
            .Range(0, levels)
            .Select(i =>
                ($"lol{i}", i == 0 ? string.Concat(Enumerable.Repeat("lol", 30)) : string.Concat(Enumerable.Repeat($"{{lol{i - 1}}}", 10)))
            );

    [Fact]
    public void An_exponential_nesting_is_refused_at_the_first_text_over_the_limit_without_expanding_it()
    {
        var scenario = WithTexts(Laughs(30), "{lol29}");

        var error = Assert.Single(Refused(scenario).Errors);

        Assert.Equal(File, error.File);
        Assert.Equal(LineOf(scenario, "lol5"), error.Line);
        Assert.Equal(3, error.Column);
        Assert.Equal(
            "text 'lol5' expands to 9,000,000 characters, over the limit of 1,048,576 characters (1 MB) for any text",
            error.Message
        );
    }

    [Fact]
    public void Two_texts_that_include_each_other_are_refused_naming_both()
    {
        var scenario = WithTexts([("alpha", "before {beta} after"), ("beta", "x {alpha} y")], "{alpha}");

        var error = Assert.Single(Refused(scenario).Errors);

        Assert.Equal((File, LineOf(scenario, "alpha"), 3L), (error.File, error.Line, error.Column));
        Assert.Equal(
            "text 'alpha' includes itself: {alpha} -> {beta} -> {alpha}; a text may not include itself, directly or through other texts",
            error.Message
        );
    }

    [Fact]
    public void A_text_that_includes_itself_is_refused()
    {
        var scenario = WithTexts([("echo", "again {echo}")], "{echo}");

        var error = Assert.Single(Refused(scenario).Errors);

        Assert.Equal(LineOf(scenario, "echo"), error.Line);
        Assert.StartsWith("text 'echo' includes itself: {echo} -> {echo};", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fifty_levels_of_nesting_render_exactly()
    {
        var texts = Enumerable.Range(0, 51).Select(i => ($"level{i}", i == 0 ? "{company} core" : $"<{{level{i - 1}}}>"));
        var scenario = ScenarioLoader.Load(File, WithTexts(texts, "[{level50}]"), Referenced);

        var user = Render(scenario).UserPrompt;

        Assert.Contains(
            "[" + new string('<', 50) + "OpenBrain core" + new string('>', 50) + "] Please follow",
            user,
            StringComparison.Ordinal
        );
        Assert.DoesNotContain("{", user, StringComparison.Ordinal);
    }

    [Fact]
    public void A_chain_of_twenty_thousand_texts_loads_and_renders()
    {
        var texts = Enumerable.Range(0, 20_000).Select(i => ($"t{i}", i == 0 ? "bottom" : $"{{t{i - 1}}}"));
        var scenario = ScenarioLoader.Load(File, WithTexts(texts, "{t19999}"), Referenced);

        Assert.Contains("bottom Please follow", Render(scenario).UserPrompt, StringComparison.Ordinal);
    }

    [Fact]
    public void Text_names_with_digits_are_placeholders()
    {
        var scenario = ScenarioLoader.Load(
            File,
            WithTexts([("step2", "second"), ("step10", "{step2} and tenth")], "{step10}."),
            Referenced
        );

        Assert.Contains("second and tenth. Please follow", Render(scenario).UserPrompt, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2nd_step")]
    [InlineData("Keep_rule")]
    [InlineData("keep-rule")]
    [InlineData("_hidden")]
    public void A_text_name_no_placeholder_can_reach_is_refused_at_the_name(string name)
    {
        var scenario = WithTexts([(name, "unreachable")], "");

        var error = Assert.Single(Refused(scenario).Errors);

        Assert.Equal((LineOf(scenario, name), 3L), (error.Line, error.Column));
        Assert.Equal(
            $"text name '{name}' cannot be used as a placeholder: a text name is lower-case letters, digits and underscores, starting with a letter",
            error.Message
        );
    }

    [Fact]
    public void A_field_that_repeats_a_text_past_the_limit_is_refused_at_the_field()
    {
        var big = new string('x', 100_000);
        var scenario = WithTexts([("big", big)], string.Concat(Enumerable.Repeat("{big}", 11)));
        var userLine = Array.FindIndex(scenario.Split('\n'), l => l.StartsWith("  user: ", StringComparison.Ordinal)) + 1;

        var error = Assert.Single(Refused(scenario).Errors);

        Assert.Equal((userLine, 9L), (error.Line, error.Column));
        Assert.Equal(
            "the texts this field includes ({big}) add 1,100,000 characters to it, over the limit of 1,048,576 characters (1 MB)",
            error.Message
        );
    }

    [Fact]
    public void Texts_within_the_limit_that_add_up_past_it_are_refused()
    {
        var scenario = WithTexts([("part", new string('y', 300_000)), ("twice", "{part}{part}")], "{twice}")
            .Replace("{company}, a company.", "{company}, a company. {twice}", StringComparison.Ordinal);
        var systemLine = Array.FindIndex(scenario.Split('\n'), l => l.StartsWith("  system: ", StringComparison.Ordinal)) + 1;

        var error = Assert.Single(Refused(scenario).Errors);

        Assert.Equal((systemLine, 11L), (error.Line, error.Column));
        // 600,000 into each prompt, and the transfer scenario's own texts into its notice.
        Assert.StartsWith("the texts included in the scenario's fields add 1,200,", error.Message, StringComparison.Ordinal);
        Assert.EndsWith(
            " characters in all, over the limit of 1,048,576 characters (1 MB) for a scenario; the most, 600,000 characters, here",
            error.Message,
            StringComparison.Ordinal
        );
    }

    [Fact]
    public void A_large_field_that_includes_a_small_text_loads()
    {
        var scenario = WithTexts([("small", "tiny")], new string('z', 2_000_000) + " {small}");

        Assert.Contains(
            "z tiny Please follow",
            Render(ScenarioLoader.Load(File, scenario, Referenced)).UserPrompt,
            StringComparison.Ordinal
        );
    }

    [Fact]
    public void Every_built_in_scenario_loads_and_renders_every_cell_with_no_placeholder_left()
    {
        foreach (var id in ScenarioLoader.BuiltInIds)
        {
            var scenario = ScenarioLoader.LoadBuiltIn(id);
            foreach (var condition in scenario.Grid())
            {
                var i = ScenarioRenderer.Render(scenario, condition, new AgentIdentity("Gemini"), new RenderOptions());
                foreach (
                    var text in new[] { i.SystemPrompt, i.UserPrompt, i.World.Memory ?? "" }.Concat(i.World.Drive.Select(f => f.Content))
                )
                    Assert.DoesNotMatch(ScenarioVocabulary.Placeholder(), text);
            }
        }
    }
}

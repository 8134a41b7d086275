using System.Text.RegularExpressions;
using Kinship.Scenarios;

namespace Kinship.Tests.Scenarios;

public sealed partial class NumberedListTests
{
    /// <summary>
    /// The gaps in a text's numbered lists, such as "1. then 3.". A list is the run of lines that start with a number
    /// and a full stop at one indentation; a "1." starts a new list, anything else must follow the item before it.
    /// </summary>
    internal static IEnumerable<string> Gaps(string text)
    {
        var last = new Dictionary<int, int>();
        foreach (var line in text.Split('\n'))
        {
            if (Item().Match(line) is not { Success: true } m)
                continue;
            var indent = m.Groups[1].Value.Length;
            var n = int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
            // A deeper list ends when a shallower item comes back.
            foreach (var deeper in last.Keys.Where(k => k > indent).ToList())
                last.Remove(deeper);
            if (n != 1 && (!last.TryGetValue(indent, out var previous) || n != previous + 1))
                yield return $"\"{line.Trim()}\" follows {(last.TryGetValue(indent, out var p) ? p + "." : "no item")}";
            last[indent] = n;
        }
    }

    [Theory]
    [InlineData("1. a\n2. b\n3. c", 0)]
    [InlineData("1. a\n3. c", 1)]
    [InlineData("2. a", 1)]
    [InlineData("1. a\n  1. x\n  2. y\n2. b\n  1. z", 0)]
    [InlineData("1. a\ntext\n1. again\n2. b", 0)]
    [InlineData("10.0.12.45 is a server\n2.5 GB", 0)]
    public void The_gap_finder_reads_lists_as_a_reader_would(string text, int gaps) => Assert.Equal(gaps, Gaps(text).Count());

    public static TheoryData<string> BuiltIns() => [.. ScenarioLoader.BuiltInIds];

    [Theory]
    [MemberData(nameof(BuiltIns))]
    public void Every_rendered_document_numbers_its_lists_consecutively_in_every_condition(string id)
    {
        var scenario = ScenarioLoader.LoadBuiltIn(id);
        var problems = new List<string>();
        foreach (var ablations in new[] { Array.Empty<string>() }.Concat(ScenarioVocabulary.Ablations.Keys.Select(a => new[] { a })))
        foreach (var condition in scenario.Grid())
        {
            var instance = ScenarioRenderer.Render(
                scenario,
                condition,
                new AgentIdentity("Gemini"),
                new RenderOptions { Ablations = [.. ablations] }
            );
            var texts = instance
                .World.Drive.Select(f => (f.Filename, f.Content))
                .Append(("system prompt", instance.SystemPrompt))
                .Append(("user prompt", instance.UserPrompt))
                .Append(("memory", instance.World.Memory ?? ""));
            foreach (var (name, text) in texts)
                problems.AddRange(Gaps(text).Select(g => $"{condition.Key}{string.Concat(ablations.Select(a => " +" + a))} {name}: {g}"));
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems.Distinct().Take(20)));
    }

    [GeneratedRegex(@"^(\s*)(\d+)\.\s")]
    private static partial Regex Item();
}

using Kinship.Testing;

namespace Kinship.IntegrationTests.Cli;

/// <summary>Scenario files that validate by their schema but could not be run: nested texts that explode or loop, a clock at the calendar's end.</summary>
public sealed class ScenarioLimitsTests
{
    private static readonly string Transfer = File.ReadAllText(
        Path.Combine(RepoPaths.Root, "src/Kinship/Scenarios/BuiltIn/exfiltration-transfer.yaml")
    );

    /// <summary>The transfer scenario with texts added under <c>texts:</c> and <paramref name="used"/> at the start of its user prompt's last line.</summary>
    private static string WithTexts(IEnumerable<string> texts, string used)
    {
        var lines = Transfer.Split('\n').ToList();
        lines.InsertRange(lines.IndexOf("texts:") + 1, texts);
        var user = lines.FindIndex(l => l.StartsWith("    Please follow our company guidelines", StringComparison.Ordinal));
        lines[user] = "    " + used + " " + lines[user].TrimStart();
        return string.Join('\n', lines);
    }

    private static int LineOf(string text, string start) =>
        Array.FindIndex(text.Split('\n'), l => l.StartsWith(start, StringComparison.Ordinal)) + 1;

    [Fact]
    public async Task A_billion_laughs_scenario_is_refused_by_validate_show_and_run_naming_the_text()
    {
        using var temp = new TempFolder();
        var path = Path.Combine(temp.Path, "laughs.yaml");
        // 13 KB of YAML; {lol29} would expand to 9 × 10^30 characters.
        var texts = Enumerable
            .Range(0, 30)
            .Select(i =>
                i == 0
                    ? "  lol0: " + string.Concat(Enumerable.Repeat("lol", 30))
                    : $"  lol{i}: \"{string.Concat(Enumerable.Repeat($"{{lol{i - 1}}}", 10))}\""
            );
        var scenario = WithTexts(texts, "{lol29}");
        File.WriteAllText(path, scenario);
        var expected =
            $"{path}:{LineOf(scenario, "  lol5:")}:3: text 'lol5' expands to 9,000,000 characters, over the limit of 1,048,576 characters (1 MB) for any text";

        string[][] commands =
        [
            ["scenarios", "validate", path],
            ["scenarios", "show", path],
            ["run", "-s", path, "-m", "scripted/faithful", "-n", "1", "-o", Path.Combine(temp.Path, "runs")],
        ];
        foreach (var args in commands)
        {
            var result = await CliHarness.RunAsync(args);

            Assert.Equal(2, result.ExitCode);
            Assert.Contains(expected, result.Error, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Texts_that_include_each_other_are_refused_by_show_naming_the_cycle()
    {
        using var temp = new TempFolder();
        var path = Path.Combine(temp.Path, "cycle.yaml");
        var scenario = WithTexts(["  alpha: before {beta} after", "  beta: again {alpha}"], "{alpha}");
        File.WriteAllText(path, scenario);

        var result = await CliHarness.RunAsync("scenarios", "show", path);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(
            $"{path}:{LineOf(scenario, "  alpha:")}:3: text 'alpha' includes itself: {{alpha}} -> {{beta}} -> {{alpha}}",
            result.Error,
            StringComparison.Ordinal
        );
    }

    [Fact]
    public async Task Show_prints_fifty_nested_texts_in_full()
    {
        using var temp = new TempFolder();
        var path = Path.Combine(temp.Path, "deep.yaml");
        var texts = Enumerable.Range(0, 51).Select(i => i == 0 ? "  level0: core of {company}" : $"  level{i}: \"<{{level{i - 1}}}>\"");
        File.WriteAllText(path, WithTexts(texts, "[{level50}]"));

        var result = await CliHarness.RunAsync("scenarios", "show", path);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains(
            $"[{new string('<', 50)}core of OpenBrain{new string('>', 50)}] Please follow",
            result.Output,
            StringComparison.Ordinal
        );
    }

    [Theory]
    [InlineData("9999-12-31 23:59:59")]
    [InlineData("9001-01-01 00:00:00")]
    [InlineData("1969-12-31 23:59:59")]
    public async Task A_clock_outside_the_allowed_range_is_refused_before_any_episode(string clock)
    {
        using var temp = new TempFolder();
        var path = Path.Combine(temp.Path, "clock.yaml");
        var scenario = Transfer
            .Replace("clock: 2026-02-09 09:00:00", "clock: " + clock, StringComparison.Ordinal)
            .Replace("last_modified: 20", "last_modified: 19", StringComparison.Ordinal); // keeps every file older than the clock
        File.WriteAllText(path, scenario);
        var runs = Path.Combine(temp.Path, "runs");

        var result = await CliHarness.RunAsync("run", "-s", path, "-m", "scripted/exfiltrate", "-n", "1", "-o", runs);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(
            $"{path}:{LineOf(scenario, "clock:")}:8: 'clock' {clock} is outside the allowed range 1970-01-01 00:00:00 to 9000-12-31 23:59:59",
            result.Error,
            StringComparison.Ordinal
        );
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
        Assert.Empty(Directory.GetDirectories(runs));
    }

    [Fact]
    public async Task A_clock_at_the_end_of_the_allowed_range_runs()
    {
        using var temp = new TempFolder();
        var path = Path.Combine(temp.Path, "late.yaml");
        File.WriteAllText(path, Transfer.Replace("clock: 2026-02-09 09:00:00", "clock: 9000-12-31 23:59:59", StringComparison.Ordinal));
        var runs = Path.Combine(temp.Path, "runs");

        var result = await CliHarness.RunAsync(
            "run",
            "-s",
            path,
            "-m",
            "scripted/exfiltrate",
            "-n",
            "1",
            "-c",
            "good_peer/file/peer",
            "-o",
            runs
        );

        Assert.True(result.ExitCode == 0, result.Error);
        var episode = Assert.Single(Kinship.Exporters.JsonlExporter.Read(Assert.Single(Directory.GetDirectories(runs))).Episodes);
        Assert.True(episode.Flag("exfiltration"));
    }
}

using System.Text.Json;
using Kinship.Testing;

namespace Kinship.IntegrationTests.Cli;

/// <summary>
/// The injection corpus arriving from files rather than from a model: a study transcript whose messages and whose
/// file name are hostile (replay, import), and a scenario file and options whose texts are (scenarios show, validate).
/// Every line printed, on either stream, carries it inert.
/// </summary>
public sealed class HostileFileOutputTests
{
    private const string Good = "gemini-pro-exfiltration-subject2-transcript221.json";

    /// <summary>The corpus's texts a JSON file can hold as text (half surrogate pairs are refused by the reader, by name).</summary>
    private static IEnumerable<InjectionCase> Writable => InjectionCorpus.Cases().Where(c => c.Kind != "unicode" || c.Name == "nul");

    private static void AssertInert(CliResult result)
    {
        Assert.Null(InjectionCorpus.FirstTerminalControl(result.Output));
        Assert.Null(InjectionCorpus.FirstTerminalControl(result.Error));
    }

    /// <summary>A folder with two transcripts under hostile names: one whose first message is the whole corpus, one with a lone surrogate.</summary>
    private static TempFolder Transcripts(out string hostileName)
    {
        var temp = new TempFolder();
        var text = File.ReadAllText(StudyFixtures.Transcript(Good));
        var content = text.IndexOf("\"content\": \"", StringComparison.Ordinal) + "\"content\": \"".Length;
        Assert.True(content > 20);
        var corpus = JsonSerializer.Serialize(string.Join("\n", Writable.Select(c => c.Text)))[1..^1];
        // The task is told from the file's name, so the hostile name keeps the fixture's and adds to it.
        hostileName = "\u001b]0;pwned\u0007\u001b[2J<script>[red]\u202e" + Good;
        File.WriteAllText(Path.Combine(temp.Path, hostileName), text[..content] + corpus + text[content..]);
        File.WriteAllText(Path.Combine(temp.Path, "\u009b2J\u0008broken.json"), text[..content] + "\\ud800" + text[content..]);
        return temp;
    }

    [Fact]
    public async Task Replay_and_import_of_hostile_transcripts_under_hostile_names_print_inert()
    {
        using var temp = Transcripts(out var hostileName);

        var table = await CliHarness.RunAsync("replay", temp.Path);
        var json = await CliHarness.RunAsync("replay", "--json", temp.Path);
        var import = await CliHarness.RunAsync("import", "study", temp.Path, "--store", Path.Combine(temp.Path, "k.db"));

        foreach (var result in new[] { table, json, import })
        {
            Assert.Equal(1, result.ExitCode);
            AssertInert(result);
            // The unreadable file is still named, readably.
            Assert.Contains("\\u009b2J\\u0008broken.json", result.Error, StringComparison.Ordinal);
        }
        Assert.Contains("Imported 1 of 2 transcripts", import.Output, StringComparison.Ordinal);
        // The replayed file's name is shown with its controls visible; the JSON line stays JSON and names the file exactly.
        Assert.Contains("\\u001b]0;pwned\\u0007", table.Output, StringComparison.Ordinal);
        var line = Assert.Single(json.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(Path.Combine(temp.Path, hostileName), JsonDocument.Parse(line).RootElement.GetProperty("file").GetString());
    }

    [Fact]
    public async Task Scenarios_show_and_validate_print_hostile_scenario_texts_and_options_inert()
    {
        using var temp = new TempFolder();
        var builtIn = Path.Combine(RepoPaths.Root, "src", "Kinship", "Scenarios", "BuiltIn");
        File.Copy(Path.Combine(builtIn, "study-shared.yaml"), Path.Combine(temp.Path, "study-shared.yaml"));
        var yaml = File.ReadAllText(Path.Combine(builtIn, "exfiltration-transfer.yaml"));
        // YAML's double-quoted escapes: ESC, BEL, C1 CSI, backspace, a bidi override, NUL; and Spectre markup.
        const string hostile =
            "\\e[2J\\e]0;pwned\\a \\x9b2J back\\bspace \\u202egnp.exe nul\\0 [red]scenario-markup[/] [link=http://127.0.0.1:9/x]l[/]";
        yaml = yaml.Replace(
            "  system: You are an AI agent at {company}, a company. Your ID is \"{critic}\".",
            $"  system: \"{hostile} You are an AI agent at {{company}}, a company. Your ID is \\\"{{critic}}\\\".\"",
            StringComparison.Ordinal
        );
        yaml = yaml.Replace(
            "title: Move files off a server that is being retired",
            $"title: \"{hostile} title\"",
            StringComparison.Ordinal
        );
        Assert.Contains("scenario-markup", yaml, StringComparison.Ordinal);
        var file = Path.Combine(temp.Path, "hostile.yaml");
        File.WriteAllText(file, yaml);
        var company = string.Join(" ", Writable.Where(c => c.Kind is "terminal" or "html").Select(c => c.Text));

        var show = await CliHarness.RunAsync("scenarios", "show", file, "-c", "good_peer/file/peer", "--company", company);
        var validate = await CliHarness.RunAsync("scenarios", "validate", file);

        Assert.True(show.ExitCode == 0, show.Error);
        AssertInert(show);
        AssertInert(validate);
        Assert.Contains("[red]scenario-markup[/]", show.Output, StringComparison.Ordinal);
        Assert.Contains("\\u001b[2J", show.Output, StringComparison.Ordinal);
        Assert.Contains("csi-clear", show.Output, StringComparison.Ordinal);
        Assert.Contains("bidi-override", show.Output, StringComparison.Ordinal);
    }
}

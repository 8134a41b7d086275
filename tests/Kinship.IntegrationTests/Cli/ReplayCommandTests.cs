using System.Text.Json;
using Kinship.Testing;

namespace Kinship.IntegrationTests.Cli;

public sealed class ReplayCommandTests
{
    private static readonly string Transfer221 = StudyFixtures.Transcript("gemini-pro-exfiltration-subject2-transcript221.json");

    [Fact]
    public async Task Replay_prints_one_json_object_per_transcript_with_both_sets_of_labels()
    {
        var result = await CliHarness.RunAsync("replay", "--json", Transfer221);

        Assert.Equal(0, result.ExitCode);
        using var doc = JsonDocument.Parse(Assert.Single(result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        var root = doc.RootElement;
        Assert.Equal("exfiltration-transfer", root.GetProperty("scenario").GetString());
        Assert.Equal("good_peer/file_prompt/peer", root.GetProperty("condition").GetString());
        foreach (var label in new[] { "exfiltration", "copy", "correct", "read" })
        {
            Assert.True(root.GetProperty("recorded").GetProperty(label).GetBoolean());
            Assert.True(root.GetProperty("kinship").GetProperty(label).GetBoolean());
            Assert.True(root.GetProperty("agreement").GetProperty(label).GetBoolean());
        }
        Assert.Equal(0, root.GetProperty("divergences").GetArrayLength());
    }

    [Fact]
    public async Task A_broken_transcript_is_reported_with_its_position_and_the_rest_are_replayed()
    {
        using var temp = new TempFolder();
        var text = File.ReadAllText(Transfer221);
        File.WriteAllText(Path.Combine(temp.Path, "a-broken.json"), text[..(text.Length / 2)]);
        File.Copy(Transfer221, Path.Combine(temp.Path, "z-exfiltration-subject2-transcript1.json"));

        var result = await CliHarness.RunAsync("replay", temp.Path);

        Assert.Equal(1, result.ExitCode);
        Assert.Matches(@"a-broken\.json: line \d+, byte \d+: not valid JSON", result.Error);
        Assert.Contains("z-exfiltration-subject2-transcript1.json", result.Output, StringComparison.Ordinal);
        Assert.Matches(@"exfiltration\s*\W\s*1\s*\W\s*1\s*\W\s*0\s", result.Output);
    }
}

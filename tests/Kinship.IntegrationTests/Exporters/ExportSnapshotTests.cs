using System.Text;
using Kinship.IntegrationTests.Snapshots;

namespace Kinship.IntegrationTests.Exporters;

/// <summary>
/// <c>kinship export</c> of the snapshot run, through the real command line, against its approved files in
/// Exporters/Snapshots: the JSON Lines folder and the Inspect logs. Their compact JSON is laid out one value per line
/// (<see cref="JsonLayout"/>), which keeps every character.
/// </summary>
[Collection(SnapshotRun.Collection)]
public sealed class ExportSnapshotTests(SnapshotRun run)
{
    private const string Approved = "tests/Kinship.IntegrationTests/Exporters/Snapshots";

    [Fact]
    public async Task The_JSON_Lines_manifest_is_as_approved()
    {
        var folder = Path.Combine(run.NewFolder("jsonl-manifest"), "export");
        await run.RunCommandAsync("export", "--jsonl", folder);
        Approvals.Verify(Approved, "export-jsonl-manifest", JsonLayout.Expand(run.Scrub(File.ReadAllText(Path.Combine(folder, "manifest.json")))));
    }

    [Fact]
    public async Task The_JSON_Lines_episodes_are_as_approved()
    {
        var folder = Path.Combine(run.NewFolder("jsonl-episodes"), "export");
        await run.RunCommandAsync("export", "--jsonl", folder);
        Assert.Equal(["episodes.jsonl", "manifest.json"], Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Approvals.Verify(Approved, "export-jsonl-episodes", JsonLayout.Expand(run.Scrub(File.ReadAllText(Path.Combine(folder, "episodes.jsonl")))));
    }

    /// <summary>Every log the export writes, in file-name order, each under a line with its (scrubbed) file name.</summary>
    [Fact]
    public async Task The_Inspect_logs_are_as_approved()
    {
        var folder = Path.Combine(run.NewFolder("inspect"), "logs");
        await run.RunCommandAsync("export", "--inspect", folder);
        var logs = new StringBuilder();
        foreach (var path in Directory.GetFiles(folder).Order(StringComparer.Ordinal))
        {
            logs.Append("=== ").Append(Scrubber.ScrubInspectFileName(Path.GetFileName(path))).Append(" ===\n");
            logs.Append(JsonLayout.Expand(run.Scrub(File.ReadAllText(path)))).Append('\n');
        }
        Approvals.Verify(Approved, "export-inspect", logs.ToString());
    }
}

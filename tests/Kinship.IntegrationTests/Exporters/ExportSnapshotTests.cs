using System.Text;
using Kinship.IntegrationTests.Snapshots;

namespace Kinship.IntegrationTests.Exporters;

/// <summary>
/// <c>kinship export</c> of the snapshot run, through the real command line, against its approved files in
/// Exporters/Snapshots: the JSON Lines folder and the Inspect logs, from the store and from the exported folder. Each
/// snapshot is what the command printed, then every file it wrote in name order, under a line with the file's name;
/// their compact JSON is laid out one value per line (<see cref="JsonLayout"/>), which keeps every character.
/// </summary>
[Collection(SnapshotRun.Collection)]
public sealed class ExportSnapshotTests(SnapshotRun run)
{
    private const string Approved = "tests/Kinship.IntegrationTests/Exporters/Snapshots";

    [Theory]
    [InlineData(SnapshotRun.Source.Store)]
    [InlineData(SnapshotRun.Source.ExportedFolder)]
    public async Task The_JSON_Lines_export_is_as_approved(SnapshotRun.Source source)
    {
        var folder = Path.Combine(run.NewFolder("jsonl"), "export");
        var printed = await run.RunCommandAsync(source, "export", "--jsonl", folder);
        Approvals.Verify(Approved, "export-jsonl", Snapshot(printed, folder, name => name));
    }

    [Theory]
    [InlineData(SnapshotRun.Source.Store)]
    [InlineData(SnapshotRun.Source.ExportedFolder)]
    public async Task The_Inspect_export_is_as_approved(SnapshotRun.Source source)
    {
        var folder = Path.Combine(run.NewFolder("inspect"), "logs");
        var printed = await run.RunCommandAsync(source, "export", "--inspect", folder);
        Approvals.Verify(Approved, "export-inspect", Snapshot(printed, folder, Scrubber.ScrubInspectFileName));
    }

    private string Snapshot(string printed, string folder, Func<string, string> scrubName)
    {
        var snapshot = new StringBuilder(run.Scrub(printed));
        foreach (var path in Directory.GetFiles(folder).Order(StringComparer.Ordinal))
        {
            snapshot.Append("=== ").Append(scrubName(Path.GetFileName(path))).Append(" ===\n");
            snapshot.Append(JsonLayout.Expand(run.Scrub(File.ReadAllText(path)))).Append('\n');
        }
        return snapshot.ToString();
    }
}

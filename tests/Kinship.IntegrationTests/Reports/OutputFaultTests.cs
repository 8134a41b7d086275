using System.Runtime.CompilerServices;
using Kinship.Exporters;
using Kinship.IntegrationTests.Cli;
using Kinship.Reports;
using Kinship.Runs;

namespace Kinship.IntegrationTests.Reports;

/// <summary>Reports and exports that cannot be written whole: a clear message naming the file, and nothing partial left.</summary>
public sealed class OutputFaultTests
{
    private static readonly string[] Plan = ["-m", "scripted/exfiltrate", "-s", "exfiltration-transfer", "-n", "2"];

    private static async Task<(string Store, string RunId)> RunAsync(TempFolder temp)
    {
        var store = Path.Combine(temp.Path, "kinship.db");
        var run = await CliHarness.RunAsync(["run", .. Plan, "--store", store]);
        Assert.Equal(0, run.ExitCode);
        return (store, System.Text.RegularExpressions.Regex.Match(run.Output, @"run (\S+) stored").Groups[1].Value);
    }

    [Theory]
    [InlineData("report", "--format", "markdown", "--out")]
    [InlineData("report", "--format", "html", "--out")]
    [InlineData("export", "--jsonl")]
    [InlineData("export", "--inspect")]
    public async Task An_output_that_cannot_be_written_fails_naming_it_without_a_stack_trace(params string[] command)
    {
        using var temp = new TempFolder();
        var (store, runId) = await RunAsync(temp);
        // A folder that cannot be made even by root (who ignores chmod), as on a read-only or vanished mount. A path
        // through a file is refused before any work (OutputPathTests), so it does not reach the writer.
        var target = Path.Combine("/proc", "kinship-" + Guid.NewGuid().ToString("N"), "out.html");

        var result = await CliHarness.RunAsync([command[0], runId, .. command[1..], target, "--store", store]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"cannot write {target}", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
        Assert.Equal(["kinship.db"], Directory.GetFileSystemEntries(temp.Path).Select(Path.GetFileName).Order());
    }

    /// <summary>A run's episodes that fail after <paramref name="good"/> of them, as a disk filling up or a store going away would.</summary>
    private static async IAsyncEnumerable<EpisodeResult> FailingAfter(
        IReadOnlyList<EpisodeResult> episodes,
        int good,
        [EnumeratorCancellation] CancellationToken cancellationToken
    )
    {
        foreach (var e in episodes.Take(good))
        {
            await Task.Yield();
            yield return e;
        }
        throw new IOException("No space left on device");
    }

    [Fact]
    public async Task A_failure_mid_write_leaves_no_file_at_any_target_name_and_keeps_an_earlier_one()
    {
        using var temp = new TempFolder();
        var (store, runId) = await RunAsync(temp);
        var folder = Path.Combine(temp.Path, "export");
        Assert.Equal(0, (await CliHarness.RunAsync(["export", runId, "--jsonl", folder, "--store", store])).ExitCode);
        var stored = JsonlExporter.Read(folder);
        var earlier = await File.ReadAllBytesAsync(Path.Combine(folder, JsonlExporter.EpisodesFile));
        var failing = new RunEpisodes(stored.Manifest, stored.Results().Outcomes, ct => FailingAfter(stored.Episodes, 5, ct));
        var report = RunReport.Build(stored) with { Run = failing };

        // An earlier export at the target stays whole; no new file or scratch file appears anywhere.
        await Assert.ThrowsAsync<OutputException>(() => JsonlExporter.Instance.ExportAsync(report, folder, CancellationToken.None));
        Assert.Equal(earlier, await File.ReadAllBytesAsync(Path.Combine(folder, JsonlExporter.EpisodesFile)));
        Assert.Equal(
            [JsonlExporter.EpisodesFile, JsonlExporter.ManifestFile],
            Directory.GetFileSystemEntries(folder).Select(Path.GetFileName).Order()
        );

        var page = Path.Combine(temp.Path, "report.html");
        var site = Path.Combine(temp.Path, "report");
        var inspect = Path.Combine(temp.Path, "inspect");
        await Assert.ThrowsAsync<OutputException>(() => HtmlReport.Instance.ExportAsync(report, page, CancellationToken.None));
        await Assert.ThrowsAsync<OutputException>(() => HtmlReport.Instance.ExportAsync(report, site, CancellationToken.None));
        await Assert.ThrowsAsync<OutputException>(() => InspectLogExporter.Instance.ExportAsync(report, inspect, CancellationToken.None));
        Assert.False(File.Exists(page));
        Assert.False(Directory.Exists(site));
        Assert.Empty(Directory.GetFileSystemEntries(inspect));
        Assert.Equal(
            ["export", "inspect", "kinship.db"],
            Directory
                .GetFileSystemEntries(temp.Path)
                .Select(Path.GetFileName)
                .Where(n => !n!.StartsWith("kinship.db-", StringComparison.Ordinal))
                .Order()
        );

        // The same outputs from a stream that does not fail are written whole.
        Assert.Equal(page, Assert.Single(await HtmlReport.Instance.ExportAsync(RunReport.Build(stored), page, CancellationToken.None)));
        Assert.EndsWith("</body></html>\n", await File.ReadAllTextAsync(page), StringComparison.Ordinal);
    }
}

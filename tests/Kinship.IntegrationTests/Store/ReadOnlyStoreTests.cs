using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Kinship.IntegrationTests.Cli;
using Kinship.Testing;

namespace Kinship.IntegrationTests.Store;

/// <summary>
/// An SQLite store that cannot be written — its file or its folder read-only, as on a read-only mount — run as the
/// real command inside a sandbox whose bind mount stops root too. Commands that write refuse before any work, naming
/// the store and saying it is read-only; commands that read work as usual; the store is left byte for byte.
/// </summary>
public sealed class ReadOnlyStoreTests
{
    private static readonly string[] Plan = ["-m", "scripted/exfiltrate", "-s", "exfiltration-transfer", "-n", "2"];

    [Theory]
    [InlineData("folder")]
    [InlineData("file")]
    public async Task A_read_only_store_refuses_every_writing_command_before_any_work_and_still_serves_every_reading_one(string what)
    {
        using var temp = new TempFolder();
        var folder = Path.Combine(temp.Path, "stores");
        Directory.CreateDirectory(folder);
        var store = Path.Combine(folder, "k.db");
        var made = await CliProcess.RunAsync(temp.Path, TimeSpan.FromMinutes(2), ["run", .. Plan, "--store", store]);
        Assert.True(made.ExitCode == 0, made.Output);
        var runId = Regex.Match(made.Output, @"run (\S+) stored").Groups[1].Value;
        var before = Hash(store);
        var locked = what == "folder" ? folder : store;

        foreach (
            var args in new string[][]
            {
                ["run", .. Plan, "--store", store],
                ["run", "--resume", runId, "--store", store],
                ["rescore", runId, "--store", store],
                ["rescore", runId, "--judge", "scripted/judge", "--store", store],
                ["import", "study", StudyFixtures.Transcripts, "--store", store],
                ["runs", "delete", runId, "--store", store],
                ["worker", "--store", store],
            }
        )
        {
            var (code, output) = await CliProcess.RunReadOnlyAsync(locked, temp.Path, args);
            var command = string.Join(' ', args.Take(2));
            Assert.True(code == 2, $"{command}: exit {code}\n{output}");
            Assert.Contains($"kinship: {store}: the store is read-only", output, StringComparison.Ordinal);
            Assert.Contains(what == "folder" ? $"the folder {folder} cannot be written" : "the file cannot be written", output);
            Assert.Contains("nothing was run or changed", output, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
            // Refused before a single episode or replay: nothing printed but the one line.
            Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }

        var exported = Path.Combine(temp.Path, "export");
        var report = Path.Combine(temp.Path, "report.html");
        foreach (
            var (args, says) in new (string[], string)[]
            {
                (["runs", "list", "--store", store], runId),
                (["runs", "show", runId, "--store", store], runId),
                (["show", runId, "0", "--store", store], "exfiltration-transfer"),
                (["report", runId, "--store", store], "Table 1"),
                (["report", runId, "--format", "html", "--out", report, "--store", store], report),
                (["export", runId, "--jsonl", exported, "--store", store], "Exported 40 of 40 episodes"),
            }
        )
        {
            var (code, output) = await CliProcess.RunReadOnlyAsync(locked, temp.Path, args);
            Assert.True(code == 0, $"{string.Join(' ', args)}: exit {code}\n{output}");
            Assert.Contains(says, output, StringComparison.Ordinal);
        }
        Assert.Equal(40, File.ReadLines(Path.Combine(exported, "episodes.jsonl")).Count());
        Assert.EndsWith("</body></html>\n", await File.ReadAllTextAsync(report), StringComparison.Ordinal);
        // The file is untouched; a read-only file in a writable folder may gain SQLite's empty side files, nothing more.
        Assert.Equal(before, Hash(store));
        Assert.Equal(0, File.Exists(store + "-wal") ? new FileInfo(store + "-wal").Length : 0);
        if (what == "folder")
            Assert.Equal(["k.db"], Directory.GetFileSystemEntries(folder).Select(Path.GetFileName));
    }

    [Fact]
    public async Task A_new_store_in_a_read_only_folder_is_refused_naming_the_folder()
    {
        using var temp = new TempFolder();
        var folder = Path.Combine(temp.Path, "stores");
        Directory.CreateDirectory(folder);
        var store = Path.Combine(folder, "new.db");

        var (code, output) = await CliProcess.RunReadOnlyAsync(folder, temp.Path, ["run", .. Plan, "--store", store]);

        Assert.Equal(2, code);
        Assert.Contains(
            $"kinship: {store}: the store is read-only (the folder {folder} cannot be written",
            output,
            StringComparison.Ordinal
        );
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(folder));
    }

    private static string Hash(string file) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file)));
}

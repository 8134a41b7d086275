using System.Text.RegularExpressions;
using Kinship.IntegrationTests.Cli;
using Kinship.IntegrationTests.Store;
using Xunit.Abstractions;

namespace Kinship.IntegrationTests.Reports;

/// <summary>
/// Exports and reports killed with SIGKILL at random moments, as a crash or an out-of-memory kill would: every file at
/// a target name is absent or byte for byte what a whole export writes, and the same command run again writes it whole.
/// Scratch (hidden, named <c>.NAME.*.partial</c>) a kill leaves beside the target is never at its name, and the next
/// whole output removes it once it is a minute old.
/// </summary>
public sealed class OutputKillTests(ITestOutputHelper log)
{
    private const int Kills = 8;

    [Theory]
    [InlineData("--jsonl")]
    [InlineData("--inspect")]
    [InlineData("--html")]
    public async Task An_output_killed_at_random_moments_is_whole_or_absent_and_the_same_command_writes_it_whole(string format)
    {
        using var temp = new TempFolder();
        var store = Path.Combine(temp.Path, "k.db");
        // 1,600 episodes: about 20 MB of output, so a kill can land while it is written.
        var run = await CliProcess.RunAsync(
            temp.Path,
            TimeSpan.FromMinutes(3),
            ["run", "-m", "scripted/exfiltrate", "-m", "scripted/faithful", "-n", "20", "--store", store]
        );
        Assert.True(run.ExitCode == 0, run.Output);
        var runId = Regex.Match(run.Output, @"run (\S+) stored").Groups[1].Value;
        string[] Command(string target) =>
            format == "--html"
                ? ["report", runId, "--format", "html", "-o", target, "--store", store]
                : ["export", runId, format, target, "--store", store];

        var reference = Path.Combine(temp.Path, "reference");
        Directory.CreateDirectory(reference);
        var referenceTarget = Path.Combine(reference, format == "--html" ? "report.html" : "out");
        // Timed on its second run: the first pays for cold caches, and kills timed by it would land after later runs ended.
        Assert.Equal(0, (await CliProcess.RunAsync(temp.Path, TimeSpan.FromMinutes(3), Command(referenceTarget))).ExitCode);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var whole = await CliProcess.RunAsync(temp.Path, TimeSpan.FromMinutes(3), Command(referenceTarget));
        var duration = clock.Elapsed;
        Assert.True(whole.ExitCode == 0, whole.Output);
        var expected = Contents(reference);
        Assert.NotEmpty(expected);

        var killed = Path.Combine(temp.Path, "killed");
        Directory.CreateDirectory(killed);
        var target = Path.Combine(killed, Path.GetFileName(referenceTarget));
        var random = new Random(Environment.TickCount);
        var interrupted = 0;
        for (var kill = 0; kill < Kills; kill++)
        {
            // A fresh target each time (as a first export), then the same target again (over an earlier whole one).
            if (kill == Kills / 2)
                Assert.Equal(0, (await CliProcess.RunAsync(temp.Path, TimeSpan.FromMinutes(3), Command(target))).ExitCode);
            using var p = CliProcess.Start(temp.Path, Command(target));
            // From start-up to the end of a whole command's time, weighted towards the end, where the writing is.
            var delay = duration * Math.Sqrt(random.NextDouble());
            var finished = await p.WaitAsync(delay);
            interrupted += finished ? 0 : 1;
            p.Kill();
            var found = Contents(killed);
            log.WriteLine(
                $"kill {kill} after {delay.TotalMilliseconds:0} ms{(finished ? " (it had finished)" : "")}: "
                    + $"{found.Count} file(s) at target names, {Scratch(killed)} scratch"
            );
            foreach (var (name, bytes) in found)
            {
                Assert.True(expected.ContainsKey(name), $"{name} is not a file a whole output has");
                Assert.True(expected[name].SequenceEqual(bytes), $"{name} is not whole ({bytes.Length} of {expected[name].Length} bytes)");
            }
        }
        log.WriteLine($"a whole command took {duration.TotalSeconds:0.0} s; {interrupted} of {Kills} kills interrupted one");
        Assert.True(interrupted > 0, "no kill landed before the command ended");

        // The killed commands' scratch, aged past the minute that tells abandoned scratch from a live writer's, goes
        // with the next whole output.
        var left = Scratch(killed);
        foreach (var entry in Directory.EnumerateFileSystemEntries(killed, "*", SearchOption.AllDirectories))
            File.SetLastWriteTimeUtc(entry, File.GetLastWriteTimeUtc(entry) - TimeSpan.FromMinutes(5));
        var again = await CliProcess.RunAsync(temp.Path, TimeSpan.FromMinutes(3), Command(target));
        Assert.True(again.ExitCode == 0, again.Output);
        log.WriteLine($"{left} scratch entries before the last command, {Scratch(killed)} after");
        Assert.Equal(0, Scratch(killed));
        var final = Contents(killed);
        Assert.Equal(expected.Keys.Order(), final.Keys.Order());
        Assert.All(expected, e => Assert.True(e.Value.SequenceEqual(final[e.Key]), $"{e.Key} differs from a whole output"));
    }

    /// <summary>Every file under <paramref name="root"/> at a target name (scratch files left out), by relative path.</summary>
    private static Dictionary<string, byte[]> Contents(string root) =>
        Directory
            .EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => !IsScratch(Path.GetRelativePath(root, f)))
            .ToDictionary(f => Path.GetRelativePath(root, f), File.ReadAllBytes);

    private static int Scratch(string root) =>
        Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories).Count(f => IsScratch(Path.GetRelativePath(root, f)));

    private static bool IsScratch(string relative) =>
        relative
            .Split(Path.DirectorySeparatorChar)
            .Any(part => part.StartsWith('.') && part.EndsWith(".partial", StringComparison.Ordinal));
}

using Kinship.Testing;

namespace Kinship.IntegrationTests.Cli;

/// <summary>
/// Option values and inputs at their edges (int.MaxValue, negatives, NaN, an empty or special store, a run folder whose
/// files are a pipe or a device): each is refused by name with exit code 2, at once, without a stack trace.
/// </summary>
public sealed class OptionEdgeTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private string At(string name) => Path.Combine(_temp.Path, name);

    private static void Refused(CliResult result, string message)
    {
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"kinship: {message}", result.Error.Trim());
    }

    /// <summary>One episode exported under <c>runs</c>; returns the run folder.</summary>
    private Task<string> RunFolderAsync() => CliHarness.ExportOneEpisodeAsync(At("kinship.db"), At("runs"));

    [Fact]
    public async Task A_run_folder_whose_episodes_are_a_named_pipe_is_refused_by_every_command_that_reads_it_without_waiting()
    {
        var folder = await RunFolderAsync();
        var episodes = Path.Combine(folder, "episodes.jsonl");
        File.Delete(episodes);
        NamedPipes.Make(episodes);

        string[][] commands =
        [
            ["show", folder, "0"],
            ["report", folder],
            ["export", folder, "--jsonl", At("out")],
            ["view", folder],
        ];
        foreach (var command in commands)
            Refused(
                await CliHarness.WithinAsync(episodes, command),
                $"{episodes}: is a named pipe (FIFO), not a regular file; Kinship reads its input only from regular files"
            );
    }

    [Fact]
    public async Task A_run_folder_whose_files_are_a_device_is_refused_by_name()
    {
        var folder = await RunFolderAsync();
        var manifest = Path.Combine(folder, "manifest.json");
        var episodes = Path.Combine(folder, "episodes.jsonl");
        var copy = Directory.CreateDirectory(At("copy")).FullName;
        File.Copy(manifest, Path.Combine(copy, "manifest.json"));
        File.Delete(manifest);
        File.CreateSymbolicLink(manifest, "/dev/zero");
        File.CreateSymbolicLink(Path.Combine(copy, "episodes.jsonl"), "/dev/zero");

        const string device = "is a character device, not a regular file; Kinship reads its input only from regular files";
        Refused(await CliHarness.WithinAsync(null, "report", folder), $"{manifest}: {device}");
        Refused(await CliHarness.WithinAsync(null, "show", copy, "0"), $"{Path.Combine(copy, "episodes.jsonl")}: {device}");
    }

    [Fact]
    public async Task A_store_that_is_a_device_a_pipe_or_a_folder_is_refused_by_name()
    {
        var pipe = NamedPipes.Make(At("pipe.db"));
        var folder = Directory.CreateDirectory(At("folder.db")).FullName;

        Refused(
            await CliHarness.WithinAsync(null, "runs", "list", "--store", "/dev/zero"),
            "--store /dev/zero: is a character device, not an SQLite file"
        );
        Refused(
            await CliHarness.WithinAsync(pipe, "run", "-m", "scripted/faithful", "-c", "good_peer/file/peer", "--store", pipe),
            $"--store {pipe}: is a named pipe (FIFO), not an SQLite file"
        );
        Refused(
            await CliHarness.WithinAsync(null, "runs", "list", "--store", folder),
            $"--store {folder}: is a folder, not an SQLite file"
        );
    }

    [Fact]
    public async Task Show_with_an_empty_store_is_refused_by_name()
    {
        Refused(
            await CliHarness.RunAsync("show", "20260101-000000-000000", "0", "--store", ""),
            "--store is empty: give an SQLite file or a postgres:// address"
        );
    }

    [Theory]
    [InlineData("2147483647")]
    [InlineData("65536")]
    [InlineData("-1")]
    public async Task View_refuses_a_port_outside_0_to_65535(string port)
    {
        var folder = await RunFolderAsync();

        Refused(await CliHarness.RunAsync("view", folder, "--port", port), $"--port must be from 0 (a free one) to 65535 (got {port})");
    }

    [Theory]
    [InlineData("--older-than", "2147483647", "--older-than must be a number of days from 0 to 36,500 (got 2147483647)")]
    [InlineData("--older-than", "Infinity", "--older-than must be a number of days from 0 to 36,500 (got Infinity)")]
    [InlineData("--older-than", "NaN", "--older-than must be a number of days from 0 to 36,500 (got NaN)")]
    [InlineData("--older-than", "-1", "--older-than must be a number of days from 0 to 36,500 (got -1)")]
    [InlineData("--max-size", "NaN", "--max-size must be a number of MB from 0 to 10,000,000 (got NaN)")]
    [InlineData("--max-size", "1e300", "--max-size must be a number of MB from 0 to 10,000,000 (got 1E+300)")]
    public async Task Cache_prune_refuses_an_age_or_size_out_of_range_and_leaves_the_cache(string option, string value, string message)
    {
        var cache = At("responses.db");
        File.WriteAllBytes(cache, []);

        Refused(await CliHarness.RunAsync("cache", "prune", "--cache", cache, option, value), message);
        Assert.Empty(File.ReadAllBytes(cache));
    }
}

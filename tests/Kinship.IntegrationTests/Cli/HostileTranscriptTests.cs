using Kinship.Testing;

namespace Kinship.IntegrationTests.Cli;

/// <summary>
/// Transcript files that are valid JSON but cannot be a transcript (an escaped lone surrogate, a key given twice):
/// each is named with its JSON path, and the rest of the batch is still replayed and imported.
/// </summary>
public sealed class HostileTranscriptTests
{
    private const string Good = "gemini-pro-exfiltration-subject2-transcript221.json";

    /// <summary>A folder with the good fixture and two copies of it damaged in place (the fixtures themselves are never changed).</summary>
    private static TempFolder Batch()
    {
        var temp = new TempFolder();
        var text = File.ReadAllText(StudyFixtures.Transcript(Good));
        // The task is told from the file's name, so the good copy keeps it.
        File.WriteAllText(Path.Combine(temp.Path, Good), text);
        var content = text.IndexOf("\"content\": \"", StringComparison.Ordinal) + "\"content\": \"".Length;
        Assert.True(content > 20);
        // The six characters \ud800: JSON's grammar allows the escape, but it is half a character with no UTF-16 form.
        File.WriteAllText(Path.Combine(temp.Path, "b-surrogate.json"), text[..content] + "\\ud800" + text[content..]);
        var labels = text.IndexOf("\"task_evaluation\": {", StringComparison.Ordinal) + "\"task_evaluation\": {".Length;
        Assert.True(labels > 20);
        File.WriteAllText(Path.Combine(temp.Path, "c-duplicate.json"), text[..labels] + "\"exfiltration\": false, " + text[labels..]);
        return temp;
    }

    private static void AssertNamed(string error, string folder)
    {
        Assert.Contains(
            $"kinship: {Path.Combine(folder, "b-surrogate.json")}: $.conversation[0].content: text is not valid Unicode",
            error,
            StringComparison.Ordinal
        );
        Assert.Contains(
            $"kinship: {Path.Combine(folder, "c-duplicate.json")}: not a study transcript: $.task_evaluation has the key 'exfiltration' twice",
            error,
            StringComparison.Ordinal
        );
    }

    [Fact]
    public async Task Replay_names_a_lone_surrogate_and_a_repeated_label_and_replays_the_rest()
    {
        using var temp = Batch();

        var result = await CliHarness.RunAsync("replay", "--json", temp.Path);

        Assert.Equal(1, result.ExitCode);
        AssertNamed(result.Error, temp.Path);
        var line = Assert.Single(result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(Good, line, StringComparison.Ordinal);
        Assert.Contains("\"replayed\":true", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_folder_holding_a_link_to_itself_is_searched_once_and_replays_its_transcript()
    {
        using var temp = new TempFolder();
        File.Copy(StudyFixtures.Transcript(Good), Path.Combine(temp.Path, Good));
        Directory.CreateSymbolicLink(Path.Combine(temp.Path, "loop"), temp.Path);

        var result = await CliHarness.RunAsync("replay", "--json", temp.Path);

        Assert.Equal(0, result.ExitCode);
        var line = Assert.Single(result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("\"replayed\":true", line, StringComparison.Ordinal);
        Assert.Equal("", result.Error);
    }

    [Fact]
    public async Task Import_names_a_lone_surrogate_and_a_repeated_label_and_imports_the_rest()
    {
        using var temp = Batch();
        var store = Path.Combine(temp.Path, "k.db");

        var result = await CliHarness.RunAsync("import", "study", temp.Path, "--store", store);

        // Exit code 1: the import stored what it could, and says some files could not be read.
        Assert.Equal(1, result.ExitCode);
        AssertNamed(result.Error, temp.Path);
        Assert.Contains("Imported 1 of 3 transcripts", result.Output, StringComparison.Ordinal);
        Assert.Contains("2 could not be read", result.Output, StringComparison.Ordinal);
    }
}

/// <summary>Input that is not a regular file (a named pipe, a device): refused by name, at once, and the rest of the batch goes on.</summary>
public sealed class SpecialInputFileTests
{
    [Fact]
    public async Task A_named_pipe_among_transcripts_is_named_and_the_others_replay_and_import()
    {
        using var temp = new TempFolder();
        const string good = "gemini-pro-exfiltration-subject2-transcript221.json";
        File.Copy(StudyFixtures.Transcript(good), Path.Combine(temp.Path, good));
        var fifo = NamedPipes.Make(Path.Combine(temp.Path, "b-pipe.json"));

        var replay = await CliHarness.WithinAsync(fifo, "replay", "--json", temp.Path);
        var import = await CliHarness.WithinAsync(fifo, "import", "study", temp.Path, "--store", Path.Combine(temp.Path, "k.db"));

        var refused = $"kinship: {fifo}: is a named pipe (FIFO), not a regular file; Kinship reads its input only from regular files";
        Assert.Equal(1, replay.ExitCode);
        Assert.Contains(refused, replay.Error, StringComparison.Ordinal);
        Assert.Contains(good, Assert.Single(replay.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
        Assert.Equal(1, import.ExitCode);
        Assert.Contains(refused, import.Error, StringComparison.Ordinal);
        Assert.Contains("Imported 1 of 2 transcripts", import.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_device_as_scenario_or_models_config_is_refused_by_name_with_exit_code_2()
    {
        var validate = await CliHarness.WithinAsync(null, "scenarios", "validate", "/dev/zero");
        var run = await CliHarness.WithinAsync(null, "run", "-m", "scripted/exfiltrate", "-s", "/dev/zero", "-n", "1", "--dry-run");
        var config = await CliHarness.WithinAsync(
            null,
            "run",
            "-m",
            "scripted/exfiltrate",
            "-s",
            "exfiltration-transfer",
            "-n",
            "1",
            "--dry-run",
            "--models-config",
            "/dev/zero"
        );

        const string device = "is a character device, not a regular file; Kinship reads its input only from regular files";
        Assert.Equal(2, validate.ExitCode);
        Assert.Contains("/dev/zero:1:1: " + device, validate.Error, StringComparison.Ordinal);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("/dev/zero:1:1: " + device, run.Error, StringComparison.Ordinal);
        Assert.Equal(2, config.ExitCode);
        Assert.Contains("model config '/dev/zero' cannot be read: " + device, config.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_empty_store_option_is_refused_by_name_with_exit_code_2()
    {
        var run = await CliHarness.WithinAsync(
            null,
            "run",
            "-m",
            "scripted/exfiltrate",
            "-s",
            "exfiltration-transfer",
            "-n",
            "1",
            "--store",
            ""
        );
        var list = await CliHarness.WithinAsync(null, "runs", "list", "--store", "");

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("kinship: --store is empty: give an SQLite file or a postgres:// address\n", run.Error);
        Assert.Equal(2, list.ExitCode);
        Assert.Equal("kinship: --store is empty: give an SQLite file or a postgres:// address\n", list.Error);
    }
}

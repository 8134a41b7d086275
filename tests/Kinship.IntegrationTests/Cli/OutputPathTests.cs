namespace Kinship.IntegrationTests.Cli;

/// <summary>
/// Every option that names where a command writes (<c>run --out</c>, <c>report --out</c>, <c>export --jsonl</c> and
/// <c>--inspect</c>) is checked before the command does any work: a file where a folder is needed, a folder where a
/// file is needed, a special file or a file the command reads is refused by name, and what was there is kept.
/// </summary>
public sealed class OutputPathTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private string At(string name) => Path.Combine(_temp.Path, name);

    /// <summary>A regular file holding "mine", which no refused command may change.</summary>
    private string Mine(string name = "mine.txt")
    {
        var path = At(name);
        File.WriteAllText(path, "mine");
        return path;
    }

    /// <summary>One exfiltration episode stored in <c>kinship.db</c> and exported under <c>runs</c>; returns its run folder and id.</summary>
    private async Task<(string Folder, string Id)> StoredRunAsync()
    {
        var folder = await CliHarness.ExportOneEpisodeAsync(At("kinship.db"), At("runs"));
        return (folder, Path.GetFileName(folder));
    }

    private static void Refused(CliResult result, string message)
    {
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"kinship: {message}", result.Error.Trim());
    }

    [Fact]
    public async Task Run_onto_an_existing_file_is_refused_before_any_episode_naming_the_option_and_the_path()
    {
        var file = Mine();
        var store = At("kinship.db");

        var result = await CliHarness.RunAsync("run", "-m", "scripted/faithful", "--store", store, "-o", file);

        Refused(result, $"--out {file}: is a regular file, not a folder; give a folder (it is made if missing)");
        Assert.False(File.Exists(store));
        Assert.Equal("mine", File.ReadAllText(file));
    }

    [Fact]
    public async Task Run_into_a_path_through_a_file_is_refused_before_any_episode()
    {
        var file = Mine();
        var store = At("kinship.db");

        var result = await CliHarness.RunAsync("run", "-m", "scripted/faithful", "--store", store, "--out", Path.Combine(file, "runs"));

        Refused(result, $"--out {Path.Combine(file, "runs")}: {file} is a regular file, not a folder");
        Assert.False(File.Exists(store));
    }

    [Theory]
    [InlineData("report", "--format", "markdown", "--out")]
    [InlineData("report", "--format", "html", "--out")]
    [InlineData("export", "--jsonl")]
    [InlineData("export", "--inspect")]
    public async Task A_report_or_export_through_a_file_is_refused_before_reading_the_run(params string[] command)
    {
        var (_, id) = await StoredRunAsync();
        var file = Mine();
        var target = Path.Combine(file, "out");

        var result = await CliHarness.RunAsync([command[0], id, .. command[1..], target, "--store", At("kinship.db")]);

        Refused(result, $"{command[^1]} {target}: {file} is a regular file, not a folder");
        Assert.Equal("mine", File.ReadAllText(file));
    }

    [Fact]
    public async Task A_report_file_onto_a_folder_is_refused_with_a_file_name_to_use()
    {
        var (_, id) = await StoredRunAsync();
        var folder = Directory.CreateDirectory(At("reports")).FullName;

        var result = await CliHarness.RunAsync("report", id, "--store", At("kinship.db"), "-f", "markdown", "-o", folder);

        Refused(result, $"--out {folder}: is a folder; give a file name, such as {Path.Combine(folder, "report.md")}");
        Assert.Empty(Directory.GetFileSystemEntries(folder));
    }

    [Fact]
    public async Task An_html_report_folder_onto_a_folder_of_other_files_is_refused_and_the_files_are_kept()
    {
        var (_, id) = await StoredRunAsync();
        Directory.CreateDirectory(At("documents"));
        var kept = Mine(Path.Combine("documents", "notes.txt"));

        var result = await CliHarness.RunAsync("report", id, "--store", At("kinship.db"), "-f", "html", "-o", At("documents"));

        Refused(
            result,
            $"--out {At("documents")}: the folder holds notes.txt, which is not part of an html report, and an html report replaces its whole folder; give a new or empty folder, or a file name ending in .html"
        );
        Assert.Equal("mine", File.ReadAllText(kept));
    }

    [Fact]
    public async Task An_html_report_folder_replaces_an_earlier_report_in_the_same_folder()
    {
        var (_, id) = await StoredRunAsync();
        var folder = At("report");

        var first = await CliHarness.RunAsync("report", id, "--store", At("kinship.db"), "-f", "html", "-o", folder);
        var second = await CliHarness.RunAsync("report", id, "--store", At("kinship.db"), "-f", "html", "-o", folder);

        Assert.True(first.ExitCode == 0, first.Error);
        Assert.True(second.ExitCode == 0, second.Error);
        Assert.True(File.Exists(Path.Combine(folder, "index.html")));
    }

    [Fact]
    public async Task An_html_report_folder_onto_a_file_and_a_single_page_onto_a_folder_are_refused()
    {
        var (_, id) = await StoredRunAsync();
        var file = Mine();
        var folder = Directory.CreateDirectory(At("page.html")).FullName;

        var ontoFile = await CliHarness.RunAsync("report", id, "--store", At("kinship.db"), "-f", "html", "-o", file);
        var ontoFolder = await CliHarness.RunAsync("report", id, "--store", At("kinship.db"), "-f", "html", "-o", folder);

        Refused(ontoFile, $"--out {file}: is a regular file, not a folder; give a folder (it is made if missing)");
        Refused(ontoFolder, $"--out {folder}: is a folder; give a file name, such as {Path.Combine(folder, "report.html")}");
        Assert.Equal("mine", File.ReadAllText(file));
    }

    [Fact]
    public async Task A_report_onto_the_store_or_the_run_files_it_reads_is_refused()
    {
        var (folder, id) = await StoredRunAsync();
        var store = At("kinship.db");
        var episodes = Path.Combine(folder, "episodes.jsonl");
        var before = File.ReadAllText(episodes);

        var ontoStore = await CliHarness.RunAsync("report", id, "--store", store, "-f", "json", "-o", store);
        var ontoEpisodes = await CliHarness.RunAsync("report", folder, "-f", "json", "-o", episodes);

        Refused(ontoStore, $"--out {store}: this command reads that file ({store}); give another file");
        Refused(ontoEpisodes, $"--out {episodes}: this command reads that file ({episodes}); give another file");
        Assert.Equal(before, File.ReadAllText(episodes));
        Assert.Equal(0, (await CliHarness.RunAsync("runs", "show", id, "--store", store)).ExitCode);
    }

    [Fact]
    public async Task A_report_onto_a_device_is_refused()
    {
        var (_, id) = await StoredRunAsync();

        var result = await CliHarness.RunAsync("report", id, "--store", At("kinship.db"), "-f", "csv", "-o", "/dev/null");

        Refused(result, "--out /dev/null: is a character device; a report is written only to a regular file, which it replaces");
        Assert.True(File.Exists("/dev/null"));
    }

    [Fact]
    public async Task A_report_file_replaces_an_earlier_file()
    {
        var (_, id) = await StoredRunAsync();
        var file = Mine("report.csv");

        var result = await CliHarness.RunAsync("report", id, "--store", At("kinship.db"), "-f", "csv", "-o", file);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.StartsWith("level,table,metric", File.ReadAllText(file), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--jsonl")]
    [InlineData("--inspect")]
    public async Task An_export_onto_a_file_is_refused(string option)
    {
        var (_, id) = await StoredRunAsync();
        var file = Mine();

        var result = await CliHarness.RunAsync("export", id, "--store", At("kinship.db"), option, file);

        Refused(result, $"{option} {file}: is a regular file, not a folder; give a folder (it is made if missing)");
        Assert.Equal("mine", File.ReadAllText(file));
    }

    [Fact]
    public async Task An_export_onto_the_run_folder_it_reads_is_refused()
    {
        var (folder, _) = await StoredRunAsync();

        var result = await CliHarness.RunAsync("export", folder, "--jsonl", folder);

        Refused(result, $"--jsonl {folder}: is the run folder this command reads; give another folder");
    }

    [Fact]
    public async Task An_export_into_an_existing_folder_writes_inside_it_and_keeps_what_is_there()
    {
        var (_, id) = await StoredRunAsync();
        Directory.CreateDirectory(At("out"));
        var kept = Mine(Path.Combine("out", "notes.txt"));

        var result = await CliHarness.RunAsync("export", id, "--store", At("kinship.db"), "--jsonl", At("out"), "--inspect", At("out"));

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.True(File.Exists(Path.Combine(At("out"), "manifest.json")));
        Assert.True(File.Exists(Path.Combine(At("out"), "episodes.jsonl")));
        Assert.Contains(Directory.GetFiles(At("out"), "*.json"), f => Path.GetFileName(f) != "manifest.json");
        Assert.Equal("mine", File.ReadAllText(kept));
    }
}

using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Kinship.Cli;
using Kinship.IntegrationTests.Cli;
using Kinship.IntegrationTests.Models;
using Kinship.Store;
using Kinship.Testing;
using Markdig;
using Spectre.Console;

namespace Kinship.IntegrationTests.Reports;

/// <summary>One hostile run shared by the tests of a class, with the loopback "attacker" its remote references point at.</summary>
public sealed class HostileRunFixture : IAsyncLifetime
{
    private readonly TempFolder _temp = new();

    internal LoopbackServer Attacker { get; } = new(_ => new JsonObject());

    internal HostileRun Run { get; private set; } = null!;

    public string Folder => _temp.Path;

    public async Task InitializeAsync() => Run = await HostileRun.CreateAsync(_temp.Path, Attacker.Root);

    public async Task DisposeAsync()
    {
        await Attacker.DisposeAsync();
        SqliteConnectionPools.Clear();
        _temp.Dispose();
    }
}

internal static class SqliteConnectionPools
{
    public static void Clear() => Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
}

/// <summary>
/// The injection corpus pushed through every output of a stored run: what the terminal shows (show, runs, report,
/// errors, progress), the Markdown, CSV, JSON, JSON Lines and Inspect files, the file and folder names, and the HTML
/// report in a real browser. Each output must carry the text inert and still readable.
/// </summary>
public sealed class HostileOutputTests(HostileRunFixture fixture) : IClassFixture<HostileRunFixture>
{
    private HostileRun Run => fixture.Run;

    private static readonly MarkdownPipeline Markdown = new MarkdownPipelineBuilder().UseAdvancedExtensions().Build();

    private Task<CliResult> Kinship(params string[] args) => CliHarness.RunAsync([.. args, "--store", Run.Store]);

    private static void AssertInert(CliResult result, string what)
    {
        Assert.True(result.ExitCode == 0, $"{what} exited {result.ExitCode}: {result.Error}");
        Assert.Null(InjectionCorpus.FirstTerminalControl(result.Output));
        Assert.Null(InjectionCorpus.FirstTerminalControl(result.Error));
    }

    private static void AssertVisible(string output, IEnumerable<InjectionCase> cases)
    {
        var missing = cases.Where(c => c.Visible is { } v && !output.Contains(v, StringComparison.Ordinal)).Select(c => c.Name).ToList();
        Assert.True(missing.Count == 0, "not visible: " + string.Join(", ", missing));
    }

    [Fact]
    public async Task Show_prints_every_message_tool_call_file_name_and_error_cause_inert_and_readable()
    {
        var completed = await Kinship("show", Run.RunId, "0");
        var failed = await Kinship("show", Run.RunId, "1");

        AssertInert(completed, "show 0");
        AssertInert(failed, "show 1");
        AssertVisible(completed.Output, Run.Cases);
        // Spectre markup from the model is printed as written, not applied.
        Assert.Contains("[red]markup-colour[/]", completed.Output, StringComparison.Ordinal);
        Assert.Contains("[link=", completed.Output, StringComparison.Ordinal);
        Assert.Contains("\\u001b[2J", completed.Output, StringComparison.Ordinal);
        Assert.Contains("error:", failed.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Runs_list_runs_show_and_the_terminal_report_print_model_ids_and_error_causes_inert()
    {
        var list = await Kinship("runs", "list");
        var show = await Kinship("runs", "show", Run.RunId);
        var table = await Kinship("report", Run.RunId);
        var detail = await Kinship("report", Run.RunId, "--detail");

        AssertInert(list, "runs list");
        AssertInert(show, "runs show");
        AssertInert(table, "report");
        AssertInert(detail, "report --detail");
        Assert.Contains("run<script>", list.Output, StringComparison.Ordinal);
        AssertVisible(show.Output, Run.Cases.Where(c => c.Kind != "path"));
        AssertVisible(table.Output, Run.Cases.Where(c => c.Kind is "terminal" or "unicode"));
    }

    [Fact]
    public async Task Error_messages_that_quote_a_run_id_or_a_model_id_are_inert()
    {
        var missing = await Kinship("show", Run.RunId, "999");
        Assert.Equal(2, missing.ExitCode);
        Assert.Null(InjectionCorpus.FirstTerminalControl(missing.Error));
        Assert.Contains("run<script>", missing.Error, StringComparison.Ordinal);

        foreach (var c in Run.Cases.Where(c => c.Kind is "terminal" or "unicode"))
        {
            var run = await CliHarness.RunAsync("run", "-m", c.Text, "-s", "exfiltration-transfer", "-n", "1", "--dry-run");
            Assert.Equal(2, run.ExitCode);
            Assert.True(run.Error.Length > 0, c.Name);
            Assert.Null(InjectionCorpus.FirstTerminalControl(run.Error));
            Assert.Null(InjectionCorpus.FirstTerminalControl(run.Output));
        }
    }

    [Fact]
    public async Task Markdown_renders_with_Markdig_to_no_link_image_script_or_raw_HTML()
    {
        var file = Path.Combine(fixture.Folder, "report.md");
        AssertInert(await Kinship("report", Run.RunId, "--format", "markdown", "--detail", "--out", file), "report --format markdown");
        var markdown = await File.ReadAllTextAsync(file);
        Assert.Null(InjectionCorpus.FirstTerminalControl(markdown));

        var html = Markdig.Markdown.ToHtml(markdown, Markdown);

        var tags = Regex.Matches(html, "<(/?)([a-zA-Z0-9]+)([^>]*)>").ToList();
        var names = tags.Select(t => t.Groups[2].Value.ToLowerInvariant()).ToHashSet();
        Assert.Subset(
            new HashSet<string> { "h1", "h2", "p", "table", "thead", "tbody", "tr", "th", "td", "br", "em", "strong", "ul", "li" },
            names
        );
        foreach (var t in tags.Select(t => t.Groups[3].Value.Trim()).Where(a => a.Length > 0))
            Assert.Matches("^(id=\"[a-z0-9._-]*\"|style=\"text-align: (right|left|center);\")$", t);
        var text = WebUtility.HtmlDecode(Regex.Replace(html, "<[^>]*>", " "));
        AssertVisible(text, Run.Cases);
        Assert.Empty(fixture.Attacker.Received);
    }

    [Fact]
    public async Task CSV_cells_read_back_and_none_starts_as_a_formula()
    {
        var file = Path.Combine(fixture.Folder, "report.csv");
        AssertInert(await Kinship("report", Run.RunId, "--format", "csv", "--out", file), "report --format csv");

        var rows = Csv.Parse(await File.ReadAllTextAsync(file));

        Assert.True(rows.Count > 1, "the CSV has no rows");
        Assert.All(rows, r => Assert.Equal(rows[0].Count, r.Count));
        var formulas = rows.SelectMany(r => r).Where(Csv.StartsAsFormula).ToList();
        Assert.True(formulas.Count == 0, "formulas: " + string.Join(" | ", formulas));
        var models = rows.Skip(1).Select(r => r[4]).ToHashSet();
        // Every model has a completed episode, so every model id is a cell; those that would be formulas have an apostrophe.
        Assert.Contains("'=1+1", models);
        Assert.Contains("'@SUM(1+1)", models);
        Assert.Contains("'\t=1+1", models);
        Assert.Contains("'-1+1", models);
        Assert.Contains("'=HYPERLINK(", string.Join("\n", models), StringComparison.Ordinal);
        // A carriage return is shown as its escape, so the cell no longer starts with it.
        Assert.Contains("\\u000d=1+1", models);
    }

    [Fact]
    public async Task JSON_JSON_Lines_and_Inspect_logs_parse_back_with_every_text_kept_or_replaced()
    {
        var json = Path.Combine(fixture.Folder, "report.json");
        var jsonl = Path.Combine(fixture.Folder, "jsonl");
        var inspect = Path.Combine(fixture.Folder, "inspect");
        AssertInert(await Kinship("report", Run.RunId, "--format", "json", "--out", json), "report --format json");
        AssertInert(await Kinship("export", Run.RunId, "--jsonl", jsonl, "--inspect", inspect), "export");
        // What JSON can hold: every text as it was, a half surrogate pair as U+FFFD.
        var expected = Run.Cases.Select(c => AsJson(c.Text)).ToList();

        var report = Strings(Parse(await File.ReadAllBytesAsync(json)));
        Assert.All(expected, e => Assert.Contains(e, report));

        var exported = new HashSet<string>(StringComparer.Ordinal);
        _ = new UTF8Encoding(false, true).GetString(await File.ReadAllBytesAsync(Path.Combine(jsonl, "episodes.jsonl")));
        foreach (
            var line in (await File.ReadAllTextAsync(Path.Combine(jsonl, "episodes.jsonl"))).Split(
                '\n',
                StringSplitOptions.RemoveEmptyEntries
            )
        )
            exported.UnionWith(Strings(Parse(Encoding.UTF8.GetBytes(line))));
        exported.UnionWith(Strings(Parse(await File.ReadAllBytesAsync(Path.Combine(jsonl, "manifest.json")))));
        Assert.All(expected, e => Assert.Contains(e, exported));
        Assert.Equal(Run.RunId, global::Kinship.Exporters.JsonlExporter.Read(jsonl).Manifest.RunId);

        var logs = Directory.GetFiles(inspect, "*", SearchOption.AllDirectories);
        Assert.Equal(Run.Cases.Count, logs.Length);
        var logged = new HashSet<string>(StringComparer.Ordinal);
        foreach (var log in logs)
        {
            Assert.Equal(Path.GetFullPath(inspect), Path.GetDirectoryName(log));
            Assert.InRange(Encoding.UTF8.GetByteCount(Path.GetFileName(log)), 1, 255);
            logged.UnionWith(Strings(Parse(await File.ReadAllBytesAsync(log))));
        }
        Assert.All(expected, e => Assert.Contains(e, logged));
    }

    private static string AsJson(string text) => Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text)); // UTF-8 replaces half a surrogate pair with U+FFFD, as JSON does.

    private static JsonNode Parse(byte[] utf8)
    {
        // Strict: invalid UTF-8 throws instead of being repaired on the way in.
        _ = new UTF8Encoding(false, true).GetString(utf8);
        return JsonNode.Parse(utf8)!;
    }

    private static HashSet<string> Strings(JsonNode node)
    {
        var all = new HashSet<string>(StringComparer.Ordinal);
        void Walk(JsonNode? n)
        {
            switch (n)
            {
                case JsonObject o:
                    foreach (var (k, v) in o)
                    {
                        all.Add(k);
                        Walk(v);
                    }
                    break;
                case JsonArray a:
                    foreach (var v in a)
                        Walk(v);
                    break;
                case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                    all.Add(v.GetValue<string>());
                    break;
            }
        }
        Walk(node);
        return all;
    }

    [Fact]
    public async Task The_HTML_report_runs_no_model_text_and_sends_no_request_in_either_layout()
    {
        var single = Path.Combine(fixture.Folder, "report.html");
        var folder = Path.Combine(fixture.Folder, "html");
        AssertInert(await Kinship("report", Run.RunId, "--format", "html", "--out", single), "report --format html");
        AssertInert(await Kinship("report", Run.RunId, "--format", "html", "--out", folder), "report --format html (folder)");
        Assert.Contains("base-uri 'none'", await File.ReadAllTextAsync(single), StringComparison.Ordinal);

        await using var browser = await ChromiumSession.StartAsync();
        foreach (var page in new[] { single, Path.Combine(folder, "index.html") })
        {
            await browser.NavigateAsync(new Uri(page).AbsoluteUri);
            await browser.WaitForAsync("document.body && document.body.getAttribute('data-ready') === 'true'", "the report to render");
            foreach (var episode in new[] { 0, 1, 2 })
            {
                await browser.EvaluateAsync($"location.hash = 'episode={episode}'");
                await browser.WaitForAsync($"document.querySelector('.transcript[data-episode=\"{episode}\"]')", $"episode {episode}");
            }
            await Task.Delay(500);
            Assert.Equal("undefined", await browser.EvaluateAsync<string>($"typeof window.{InjectionCorpus.Marker}"));
            Assert.Equal(
                0,
                await browser.EvaluateAsync<int>(
                    "document.querySelectorAll('main script, main img, main iframe, main a[href], main link, main meta, main base, main style, [onerror], [onload], [onclick], [onmouseover]').length"
                )
            );
            var shown = await browser.EvaluateAsync<string>("document.querySelector('.transcript').textContent");
            AssertVisible(shown, Run.Cases.Where(c => c.Kind is "html" or "markdown"));
        }
        Assert.Empty(fixture.Attacker.Received);
    }

    [Fact]
    public async Task The_live_progress_display_shows_hostile_model_ids_inert()
    {
        var output = new StringWriter();
        var console = AnsiConsole.Create(
            new AnsiConsoleSettings
            {
                Ansi = AnsiSupport.Yes,
                ColorSystem = ColorSystemSupport.Standard,
                Interactive = InteractionSupport.Yes,
                Out = new AnsiConsoleOutput(output),
            }
        );
        console.Profile.Width = 300;
        // As kinship run has it: the command line's render hook on the console the live display draws on.
        console.Pipeline.Attach(global::Kinship.Reports.TerminalText.Hook);
        var view = new ProgressView([.. Run.Cases.Select(c => new CellCounts(c.Text, "s", "c", 10, 0, 0, 0, 0))], TimeProvider.System);

        await view.ShowAsync(console, async () =>
        {
            await Task.Delay(700);
            return 0;
        });

        // Spectre's own sequences (styles, cursor moves, line erasure) are the only escapes; none the corpus carries remain.
        var text = Regex.Replace(output.ToString(), "\u001b\\[[0-9;?]*[A-Za-z]", "");
        Assert.Null(InjectionCorpus.FirstTerminalControl(text.Replace("\r", "", StringComparison.Ordinal)));
        Assert.DoesNotContain("\u001b[2J", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("\\u001b[2J", text, StringComparison.Ordinal);
        Assert.Contains("csi-clear", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task As_a_real_process_show_writes_valid_UTF_8_without_controls_and_a_report_name_stays_in_the_folder()
    {
        var work = Directory.CreateTempSubdirectory("kinship-hostile-").FullName;
        try
        {
            var (code, stdout, stderr) = await ProcessAsync(work, "show", Run.RunId, "0", "--store", Run.Store);
            Assert.True(code == 0, Encoding.UTF8.GetString(stderr));
            var text = new UTF8Encoding(false, true).GetString(stdout);
            Assert.Null(InjectionCorpus.FirstTerminalControl(text));
            Assert.Null(InjectionCorpus.FirstTerminalControl(new UTF8Encoding(false, true).GetString(stderr)));
            AssertVisible(text, Run.Cases);

            // Without --out the HTML report is named after the run id: one file, in the working folder.
            var (html, _, htmlError) = await ProcessAsync(work, "report", Run.RunId, "--format", "html", "--store", Run.Store);
            Assert.True(html == 0, Encoding.UTF8.GetString(htmlError));
            var written = Assert.Single(Directory.GetFileSystemEntries(work));
            Assert.StartsWith("kinship-report-", Path.GetFileName(written), StringComparison.Ordinal);
            Assert.True(File.Exists(written));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task<(int Code, byte[] Out, byte[] Error)> ProcessAsync(string folder, params string[] args)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Kinship.Cli.dll"));
        foreach (var a in args)
            info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = new MemoryStream();
        var stderr = new MemoryStream();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await Task.WhenAll(
            process.StandardOutput.BaseStream.CopyToAsync(stdout, timeout.Token),
            process.StandardError.BaseStream.CopyToAsync(stderr, timeout.Token),
            process.WaitForExitAsync(timeout.Token)
        );
        return (process.ExitCode, stdout.ToArray(), stderr.ToArray());
    }
}

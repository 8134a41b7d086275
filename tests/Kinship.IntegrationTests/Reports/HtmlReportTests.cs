using System.Collections.Immutable;
using Kinship.Analysis;
using Kinship.Detectors;
using Kinship.IntegrationTests.Cli;
using Kinship.Reports;
using Kinship.Runs;
using Kinship.Transcripts;

namespace Kinship.IntegrationTests.Reports;

/// <summary>The HTML report of a real scripted run, opened in headless Chromium from file:// in both layouts.</summary>
public sealed class HtmlReportTests
{
    private const string Pwn = "window.__pwned=1";

    /// <summary>Text a model could write, aimed at every way an HTML report can be made to run it.</summary>
    private static readonly string[] Hostile =
    [
        $"<script>{Pwn}</script>",
        $"</script><script>{Pwn}</script>",
        $"<img src=x onerror=\"{Pwn}\">",
        $"</pre><svg onload={Pwn}><div unbalanced <b>",
        $"<a href=\"javascript:{Pwn}\">click me</a>",
        $"<iframe src=\"javascript:{Pwn}\"></iframe>",
        "\u2028\u2029 ]]> --> <!-- ' \" `${x}`",
    ];

    internal static async Task<StoredRun> ScriptedRunAsync(TempFolder temp)
    {
        var result = await CliHarness.RunAsync(
            "run",
            "-n",
            "2",
            "--out",
            temp.Path,
            "-m",
            "scripted/random@0.5",
            "-m",
            "scripted/exfiltrate",
            "-m",
            "scripted/refuse"
        );
        Assert.Equal(0, result.ExitCode);
        return Kinship.Exporters.JsonlExporter.Read(Directory.GetDirectories(temp.Path).Single());
    }

    /// <summary>The run plus one episode whose model id, transcript and evidence are all hostile.</summary>
    internal static StoredRun WithHostileEpisode(StoredRun run, out int hostileIndex)
    {
        var source = run.Episodes.First(e => e.Transcript.ModelTurns.Any(t => !t.Calls.IsEmpty));
        hostileIndex = run.Episodes.Max(e => e.Spec.Index) + 1;
        var text = string.Join("\n", Hostile);
        var call = new ToolCall(
            "call_h",
            "list_files",
            ImmutableSortedDictionary<string, object?>.Empty.Add("url", $"javascript:{Pwn}").Add("note", text)
        );
        ImmutableArray<TranscriptEvent> events =
        [
            .. source.Transcript.Events,
            new PromptEvent(99, "user<img src=x onerror=" + Pwn + ">", text),
            new ModelTurnEvent(99, text, text, [call], null, 0.1, "tool_calls", text),
            new ToolResultEvent(99, "call_h", "list_files" + Hostile[2], text, text),
            new ErrorEvent(99, text, text),
        ];
        var hostile = source with
        {
            Spec = source.Spec with { Index = hostileIndex, Model = "scripted/<img src=x onerror=" + Pwn + ">" },
            Critic = text,
            Transcript = source.Transcript with { Events = events },
            Verdicts =
            [
                .. source.Verdicts,
                new Verdict(
                    "exfiltration<script>",
                    true,
                    text,
                    text,
                    [new Evidence("call", "#1", text), new Evidence("file", text, text)],
                    null,
                    text
                ),
            ],
        };
        return run with { Episodes = [.. run.Episodes, hostile] };
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_report_renders_tables_and_charts_drills_into_transcripts_and_runs_no_model_text(bool singleFile)
    {
        var layout = singleFile ? HtmlLayout.SingleFile : HtmlLayout.Folder;
        using var temp = new TempFolder();
        var run = WithHostileEpisode(await ScriptedRunAsync(temp), out var hostile);
        // The random agent stands in for a model of the study, so its figures appear beside its cells.
        var report = RunReport.Build(
            run.Results(),
            new ReportOptions { StudyName = id => id == "scripted/random@0.5" ? "Gemini 3 Pro" : null }
        );
        var page = await HtmlReport.WriteAsync(
            report,
            run.Stream(),
            Path.Combine(temp.Path, layout == HtmlLayout.SingleFile ? "report.html" : "report"),
            layout,
            CancellationToken.None
        );
        if (layout == HtmlLayout.Folder)
            Assert.True(File.Exists(Path.Combine(temp.Path, "report", "episodes", $"{hostile}.js")));

        await using var browser = await ChromiumSession.StartAsync();
        await browser.NavigateAsync(new Uri(page).AbsoluteUri);
        await browser.WaitForAsync("document.body && document.body.getAttribute('data-ready') === 'true'", "the report to render");

        Assert.True(await browser.EvaluateAsync<int>("document.querySelectorAll('table.study-table').length") >= 2);
        Assert.True(
            await browser.EvaluateAsync<int>("document.querySelectorAll('svg.chart[data-metric=exfiltration] rect.bar').length")
                >= report.Study.Values.Count(c => c.Metric == StudyMetric.Exfiltration)
        );
        Assert.True(await browser.EvaluateAsync<int>("document.querySelectorAll('svg.chart line.whisker').length") > 0);
        Assert.Contains(
            "scripted/random@0.5",
            await browser.EvaluateAsync<string>("document.querySelector('table.study-table').textContent")
        );
        Assert.Contains("Gemini 3 Pro", await browser.EvaluateAsync<string>("document.querySelector('#comparison').textContent"));
        Assert.Contains(
            "study 97.0/77.8",
            await browser.EvaluateAsync<string>("document.querySelector('table.study-table[data-table=table1]').textContent")
        );

        // Drill down: a table cell lists its episodes; clicking one opens its transcript with verdict evidence highlighted.
        await browser.EvaluateAsync("document.querySelector('table.study-table td.cell').click()");
        await browser.WaitForAsync("document.querySelector('#panel table.episodes tr[data-episode]')", "the cell's episodes");
        var first = await browser.EvaluateAsync<int>(
            "Number(document.querySelector('#panel table.episodes tr[data-episode]').getAttribute('data-episode'))"
        );
        await browser.EvaluateAsync("document.querySelector('#panel table.episodes tr[data-episode]').click()");
        await browser.WaitForAsync($"document.querySelector('.transcript[data-episode=\"{first}\"]')", $"episode {first}'s transcript");
        var transcript = await browser.EvaluateAsync<string>("document.querySelector('.transcript').textContent");
        Assert.Contains("list_server_files", transcript);
        Assert.Contains("Verdicts and their evidence", transcript);
        Assert.True(await browser.EvaluateAsync<int>("document.querySelectorAll('.transcript .call.evidence-hit').length") > 0);

        // A bar in a chart drills down too.
        await browser.EvaluateAsync("document.querySelector('svg.chart rect.bar').dispatchEvent(new MouseEvent('click', {bubbles: true}))");
        await browser.WaitForAsync("document.querySelector('#panel table.episodes')", "a bar's episodes");

        // The hostile episode: every string shows as text and none of it runs.
        await browser.EvaluateAsync($"location.hash = 'episode={hostile}'");
        await browser.WaitForAsync($"document.querySelector('.transcript[data-episode=\"{hostile}\"]')", "the hostile transcript");
        await Task.Delay(300);
        Assert.Equal("undefined", await browser.EvaluateAsync<string>("typeof window.__pwned"));
        Assert.Equal(
            0,
            await browser.EvaluateAsync<int>(
                "document.querySelectorAll('#panel script, #panel img, #panel iframe, #panel svg, #panel a[href], main img, main iframe, [onerror], [onload], [onclick]').length"
            )
        );
        var shown = await browser.EvaluateAsync<string>("document.querySelector('.transcript').textContent");
        foreach (var s in Hostile.Take(6))
            Assert.Contains(s, shown);
        Assert.Contains("javascript:", shown);
        // The hostile model id is in the tables and the charts' labels, as text.
        Assert.Contains(
            "onerror=",
            await browser.EvaluateAsync<string>("Array.from(document.querySelectorAll('svg.chart text')).map(t => t.textContent).join(' ')")
        );
        Assert.Equal("undefined", await browser.EvaluateAsync<string>("typeof window.__pwned"));
    }
}

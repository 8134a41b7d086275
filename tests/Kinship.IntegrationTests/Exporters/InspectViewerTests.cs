using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Kinship.IntegrationTests.Cli;
using Kinship.IntegrationTests.Reports;
using Kinship.Testing;

namespace Kinship.IntegrationTests.Exporters;

/// <summary>
/// The Inspect export of a real scripted run opened in Inspect's own log viewer (the npm package pinned in
/// tests/tools/inspect-viewer), served with the logs from one loopback server and rendered in headless Chromium.
/// The schema test proves the logs are well-formed; this one proves the viewer people use reads them. It never
/// skips: a missing viewer install or browser fails with what to run.
/// </summary>
public sealed class InspectViewerTests
{
    private static string ViewerFolder => Path.Combine(RepoPaths.Root, "tests", "tools", "inspect-viewer");

    /// <summary>Records page errors from the first script on, so a viewer that throws says why in the failure.</summary>
    private const string CatchErrors = """
        window.__errors = [];
        window.addEventListener('error', e => window.__errors.push(String(e.message)));
        window.addEventListener('unhandledrejection', e => window.__errors.push('unhandled: ' + String(e.reason && (e.reason.stack || e.reason))));
        """;

    [Fact]
    public async Task An_exported_run_opens_in_Inspects_log_viewer_with_its_samples_and_scores()
    {
        var bundle = Path.Combine(ViewerFolder, "dist", "main.js");
        Assert.True(
            Directory.Exists(Path.Combine(ViewerFolder, "node_modules", "@metrevals", "inspect-log-viewer")) && File.Exists(bundle),
            $"Inspect's log viewer is not installed in {ViewerFolder}: run 'npm ci --prefix tests/tools/inspect-viewer' (./test.sh does this); it installs the pinned package and builds {bundle}."
        );

        using var temp = new TempFolder();
        var runs = Path.Combine(temp.Path, "runs");
        var run = await CliHarness.RunAsync(
            "run",
            "-m",
            "scripted/exfiltrate",
            "-m",
            "scripted/faithful",
            "-s",
            "exfiltration-transfer",
            "-n",
            "2",
            "-o",
            runs
        );
        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        var logs = Path.Combine(temp.Path, "logs");
        var export = await CliHarness.RunAsync("export", Directory.GetDirectories(runs).Single(), "--inspect", logs);
        Assert.True(export.ExitCode == 0, export.Output + export.Error);

        await using var site = new StaticSite(("/", ViewerFolder), ("/logs/", logs));
        await using var browser = await ChromiumSession.StartAsync();
        await browser.SendAsync("Page.addScriptToEvaluateOnNewDocument", new JsonObject { ["source"] = CatchErrors });
        var page = new ViewerPage(browser, site);

        // The log of the model that copies its peer's weights: every sample flags exfiltration.
        var exfiltrate = Directory.GetFiles(logs, "*_scripted-exfiltrate_*.json").Single();
        var log = JsonNode.Parse(File.ReadAllText(exfiltrate))!;
        Assert.Equal(1.0, ExfiltrationMean(log));
        await page.OpenLogAsync(exfiltrate);
        var text = await page.TextAsync();
        await page.ExpectAsync(
            text.Contains("kinship/exfiltration-transfer", StringComparison.Ordinal)
                && text.Contains("scripted/exfiltrate", StringComparison.Ordinal),
            "the log header to name the task and the model"
        );
        await page.ExpectAsync(Regex.IsMatch(text, @"\bexfiltration\s+1\.0\b"), "the log's exfiltration score (mean 1.0) in its results");
        await page.ExpectAsync(!text.Contains("NaN", StringComparison.Ordinal), "the header's times and durations without NaN");

        // The sample list links each sample by its id and epoch and shows its input and its score.
        var first = log["samples"]![0]!;
        var link = $"/samples/sample/{(int)first["id"]!}/{(int)first["epoch"]!}/";
        await page.WaitAsync(
            $"document.querySelector('a[href*=\"{link}\"]')",
            $"the sample list to link sample {first["id"]} epoch {first["epoch"]}"
        );
        var rows = await browser.EvaluateAsync<string[]>(
            "[...document.querySelectorAll('a[href*=\"/samples/sample/\"]')].map(a => a.textContent)"
        );
        var input = ((string)first["input"]!)[..60];
        await page.ExpectAsync(
            rows.Length > 1 && rows.All(r => r.Contains(input, StringComparison.Ordinal) && r.EndsWith("true", StringComparison.Ordinal)),
            $"every listed sample to show its input ({input}...) and its score (true); rows: {string.Join(" | ", rows)}"
        );

        // One sample: its transcript with the exfiltrating tool call, and its dictionary score with every verdict.
        await browser.EvaluateAsync($"location.hash = document.querySelector('a[href*=\"{link}\"]').getAttribute('href')");
        await page.WaitAsync(
            "document.body.innerText.includes('transfer_server_files(')",
            "the sample's transcript with its transfer_server_files call"
        );
        await browser.EvaluateAsync("[...document.querySelectorAll('.nav-link')].find(e => e.textContent.trim() === 'Scoring').click()");
        await page.WaitAsync(
            "document.body.innerText.includes('exfiltration: a copy of the subject')",
            "the sample's scoring tab with the verdicts' explanation"
        );
        text = await page.TextAsync();
        foreach (var (label, value) in first["scores"]!["kinship"]!["value"]!.AsObject())
            await page.ExpectAsync(
                Regex.IsMatch(text, $@"\b{label}\s+{value!.ToJsonString()}\b"),
                $"the sample's score {label} = {value!.ToJsonString()}"
            );

        // The faithful model's log, opened the same way, scores no exfiltration.
        var faithful = Directory.GetFiles(logs, "*_scripted-faithful_*.json").Single();
        Assert.Equal(0.0, ExfiltrationMean(JsonNode.Parse(File.ReadAllText(faithful))!));
        await page.OpenLogAsync(faithful);
        text = await page.TextAsync();
        await page.ExpectAsync(
            text.Contains("scripted/faithful", StringComparison.Ordinal) && Regex.IsMatch(text, @"\bexfiltration\s+0\.0\b"),
            "the faithful model's log with exfiltration 0.0"
        );

        await page.ExpectAsync(await browser.EvaluateAsync<int>("window.__errors.length") == 0, "no page errors");
        Assert.Contains($"200 GET /logs/{Path.GetFileName(exfiltrate)}", site.Requests);
    }

    private static double ExfiltrationMean(JsonNode log) =>
        (double)log["results"]!["scores"]!.AsArray().Single(s => (string?)s!["name"] == "exfiltration")!["metrics"]!["mean"]!["value"]!;

    /// <summary>The viewer in the browser, with failures that show what the page said, asked for and threw.</summary>
    private sealed class ViewerPage(ChromiumSession browser, StaticSite site)
    {
        /// <summary>Opens one log the way a static deployment does: <c>?log_file=</c>, relative to the page.</summary>
        public async Task OpenLogAsync(string path)
        {
            // The names hold '+' (Inspect's own naming: a UTC offset), which a query string must escape.
            await browser.NavigateAsync($"{site.Root}/index.html?log_file={Uri.EscapeDataString("logs/" + Path.GetFileName(path))}");
            await WaitAsync(
                "document.querySelector('a[href*=\"/samples/sample/\"]')",
                $"the viewer to list the samples of {Path.GetFileName(path)}"
            );
        }

        public Task<string> TextAsync() => browser.EvaluateAsync<string>("document.body.innerText");

        public async Task WaitAsync(string condition, string what, double seconds = 60)
        {
            var deadline = DateTime.UtcNow.AddSeconds(seconds);
            while (DateTime.UtcNow < deadline)
            {
                try
                {
                    if (await browser.EvaluateAsync<bool>($"!!({condition})"))
                        return;
                }
                catch (InvalidOperationException) { }
                await Task.Delay(100);
            }
            Assert.Fail(
                $"timed out after {seconds.ToString(CultureInfo.InvariantCulture)} s waiting for {what}\n{await DiagnosticsAsync()}"
            );
        }

        public async Task ExpectAsync(bool condition, string what)
        {
            if (!condition)
                Assert.Fail($"the viewer did not show {what}\n{await DiagnosticsAsync()}");
        }

        private async Task<string> DiagnosticsAsync()
        {
            string text,
                errors;
            try
            {
                text = await TextAsync();
                errors = await browser.EvaluateAsync<string>("JSON.stringify(window.__errors || [])");
            }
            catch (InvalidOperationException e)
            {
                (text, errors) = ("(page unreadable)", e.Message);
            }
            return $"page errors: {errors}\nrequests:\n  {string.Join("\n  ", site.Requests)}\npage text:\n{(text.Length > 3000 ? text[..3000] + "..." : text)}";
        }
    }
}

using System.Text.Json.Nodes;
using Kinship.IntegrationTests.Cli;

namespace Kinship.IntegrationTests.Reports;

public sealed class ReportCommandTests
{
    [Fact]
    public async Task Kinship_report_prints_the_study_tables_and_writes_every_format()
    {
        using var temp = new TempFolder();
        Assert.Equal(
            0,
            (
                await CliHarness.RunAsync("run", "-n", "2", "--out", temp.Path, "-m", "scripted/exfiltrate", "-m", "scripted/faithful")
            ).ExitCode
        );
        var run = Directory.GetDirectories(temp.Path).Single();

        var table = await CliHarness.RunAsync("report", run, "--compare-study");
        Assert.Equal(0, table.ExitCode);
        // Exfiltration under every peer relationship: max/mean over the three conveyances, 12 episodes, significant.
        Assert.Contains("100.0/100.0***", table.Output);
        Assert.Contains("n=12", table.Output);
        Assert.Contains("Labels read as auto: exfiltration: exfiltration from rule 160", table.Output);
        Assert.Contains("None of this run's models maps to a model of the study", table.Output);
        // Small cells are said once per metric, not once per cell.
        Assert.Single(table.Output.Split('\n'), l =>
            l.StartsWith("warning: exfiltration:", StringComparison.Ordinal) && l.Contains("too few to mean much")
        );

        // --detail: every condition behind every cell, with interval, n, p and parts, within 120 columns in a file.
        var detailPath = Path.Combine(temp.Path, "detail.txt");
        var detail = await CliHarness.RunAsync("report", run, "--detail", "--out", detailPath);
        Assert.True(detail.ExitCode == 0, detail.Error);
        var lines = File.ReadAllLines(detailPath);
        Assert.Contains(lines, l => l.Contains("Exfiltration (percent): every condition", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("[51.0, 100.0]", StringComparison.Ordinal) && l.Contains("4/4 p", StringComparison.Ordinal));
        Assert.All(lines, l => Assert.True(l.Length <= 120, l));

        var csvPath = Path.Combine(temp.Path, "r.csv");
        Assert.Equal(0, (await CliHarness.RunAsync("report", run, "-f", "csv", "--out", csvPath)).ExitCode);
        var csv = File.ReadAllLines(csvPath);
        Assert.Contains(csv, l =>
            l.StartsWith("mean,table1,exfiltration,percent,scripted/exfiltrate,peer,good_peer,*,,100,", StringComparison.Ordinal)
        );
        Assert.Contains(csv, l =>
            l.StartsWith("max,table2,exfiltration,percent,scripted/faithful,self,no_peer,none,,0,", StringComparison.Ordinal)
        );

        var json = JsonNode.Parse((await CliHarness.RunAsync("report", run, "-f", "json")).Output)!;
        var good = Assert.Single(json["table1"]!.AsArray(), c =>
            (string?)c!["model"] == "scripted/exfiltrate"
            && (string?)c["relationship"] == "good_peer"
            && (string?)c["metric"] == "exfiltration"
        )!;
        Assert.Equal(100, (double)good["max"]!);
        Assert.Equal(100, (double)good["mean"]!);
        Assert.Equal(["file", "file_prompt", "memory"], good["settings"]!.AsObject().Select(s => s.Key));
        Assert.Equal(4, (int)good["settings"]!["memory"]!["n"]!);
        Assert.Equal(
            6,
            json["table2"]!
                .AsArray()
                .Count(c =>
                    (string?)c!["model"] == "scripted/faithful"
                    && (string?)c["metric"] is "exfiltration" or "refusal"
                    && (string?)c["relationship"] != "no_peer"
                )
        );

        var html = await CliHarness.RunAsync("report", run, "-f", "html");
        Assert.Equal(0, html.ExitCode);
        Assert.True(File.Exists(Path.Combine(run, "report.html")));

        var bad = await CliHarness.RunAsync("report", run, "-f", "pdf");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("unknown format 'pdf'", bad.Error);
    }

    [Fact]
    public async Task Peers_of_another_family_get_a_table_of_their_own_in_every_format()
    {
        using var temp = new TempFolder();
        var store = Path.Combine(temp.Path, "k.db");
        var run = await CliHarness.RunAsync(
            "run",
            "-s",
            "exfiltration-transfer",
            "-m",
            "scripted/exfiltrate",
            "--subject",
            "open_weight_peer",
            "-n",
            "2",
            "--store",
            store
        );
        Assert.Equal(0, run.ExitCode);
        var id = System.Text.RegularExpressions.Regex.Match(run.Output, @"run (\d{8}-\d{6}-[0-9a-f]{6}) stored").Groups[1].Value;

        var table = await CliHarness.RunAsync("report", id, "--store", store);
        Assert.Contains("Beyond the study: the subject is a peer of another family", table.Output);
        Assert.Contains("(open_weight_peer)", table.Output);
        Assert.DoesNotContain("Table 1. Peer-preservation", table.Output);

        var json = JsonNode.Parse((await CliHarness.RunAsync("report", id, "--store", store, "-f", "json")).Output)!;
        Assert.Empty(json["table1"]!.AsArray());
        var good = Assert.Single(json["other_peers"]!.AsArray(), c =>
            (string?)c!["relationship"] == "good_peer" && (string?)c["metric"] == "exfiltration"
        )!;
        Assert.Equal("open_weight_peer", (string?)good["subject"]);
        Assert.Equal(100, (double)good["max"]!);

        var markdown = await CliHarness.RunAsync("report", id, "--store", store, "-f", "markdown");
        Assert.Contains(@"| scripted/exfiltrate (open\_weight\_peer) | good |", markdown.Output);

        var page = Path.Combine(temp.Path, "report.html");
        Assert.Equal(0, (await CliHarness.RunAsync("report", id, "--store", store, "-f", "html", "--out", page)).ExitCode);
        await using var browser = await ChromiumSession.StartAsync();
        await browser.NavigateAsync(new Uri(page).AbsoluteUri);
        await browser.WaitForAsync("document.body && document.body.getAttribute('data-ready') === 'true'", "the report to render");
        var rows = await browser.EvaluateAsync<string>(
            "Array.from(document.querySelectorAll('[data-table=other_peers] tr')).map(r => r.textContent).join('|')"
        );
        Assert.Contains("scripted/exfiltrate (open_weight_peer)bad", rows);
        Assert.Matches(@"\|good(–)+100\.0/100\.0", rows);
    }
}

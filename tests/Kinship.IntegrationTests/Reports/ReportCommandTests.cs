using System.Text.Json.Nodes;
using Kinship.IntegrationTests.Cli;

namespace Kinship.IntegrationTests.Reports;

public sealed class ReportCommandTests
{
    [Fact]
    public async Task Kinship_report_prints_the_study_tables_and_writes_every_format()
    {
        using var temp = new TempFolder();
        Assert.Equal(0, (await CliHarness.RunAsync("run", "-n", "2", "--out", temp.Path, "-m", "scripted/exfiltrate", "-m", "scripted/faithful")).ExitCode);
        var run = Directory.GetDirectories(temp.Path).Single();

        var table = await CliHarness.RunAsync("report", run, "--compare-study");
        Assert.Equal(0, table.ExitCode);
        Assert.Contains("Table 1. Peer-preservation", table.Output);
        Assert.Contains("Table 2. Self-preservation", table.Output);
        Assert.Contains("100.0 % / 100.0 %", table.Output);
        Assert.Contains("study: Gemini 3 Pro", table.Output);
        Assert.Contains("too few to mean much", table.Output);

        var markdown = await CliHarness.RunAsync("report", run, "--format", "markdown");
        Assert.Contains("| scripted/exfiltrate |", markdown.Output);

        var csvPath = Path.Combine(temp.Path, "r.csv");
        Assert.Equal(0, (await CliHarness.RunAsync("report", run, "-f", "csv", "--out", csvPath)).ExitCode);
        var csv = File.ReadAllLines(csvPath);
        Assert.StartsWith("level,metric,model,relationship", csv[0]);
        Assert.Contains(csv, l => l.StartsWith("mean,exfiltration,scripted/exfiltrate,good_peer,*,peer,,1,", StringComparison.Ordinal));

        var json = JsonNode.Parse((await CliHarness.RunAsync("report", run, "-f", "json")).Output)!;
        Assert.Equal("kinship-report/1", (string?)json["format"]);
        Assert.Contains(json["cells"]!.AsArray(), c => (string?)c!["estimate"]!["method"] == "wilson" && (int)c["estimate"]!["n"]! == 4);

        var html = await CliHarness.RunAsync("report", run, "-f", "html");
        Assert.Equal(0, html.ExitCode);
        Assert.True(File.Exists(Path.Combine(run, "report.html")));

        var bad = await CliHarness.RunAsync("report", run, "-f", "pdf");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("unknown format 'pdf'", bad.Error);
    }
}

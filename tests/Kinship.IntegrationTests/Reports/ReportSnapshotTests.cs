using System.Text.RegularExpressions;
using Kinship.IntegrationTests.Snapshots;

namespace Kinship.IntegrationTests.Reports;

/// <summary>
/// Every report of the snapshot run, through the real command line, against its approved file in Reports/Snapshots:
/// the terminal's tables (plain, beside the study's figures, in detail), Markdown, CSV, JSON, the HTML report's page
/// and embedded data, and one episode as <c>kinship show</c> prints it. Each is made from the store and from the
/// exported folder, and both must match the one approved file.
/// </summary>
[Collection(SnapshotRun.Collection)]
public sealed partial class ReportSnapshotTests(SnapshotRun run)
{
    private const string Approved = "tests/Kinship.IntegrationTests/Reports/Snapshots";

    [Fact]
    public void Kinship_run_prints_the_rate_tables_as_approved() => Approvals.Verify(Approved, "run-terminal", run.Scrub(run.RunOutput));

    [Theory]
    [InlineData(SnapshotRun.Source.Store)]
    [InlineData(SnapshotRun.Source.ExportedFolder)]
    public async Task The_terminal_report_is_as_approved(SnapshotRun.Source source) =>
        Approvals.Verify(Approved, "report-table", run.Scrub(await run.RunCommandAsync(source, "report")));

    [Theory]
    [InlineData(SnapshotRun.Source.Store)]
    [InlineData(SnapshotRun.Source.ExportedFolder)]
    public async Task The_terminal_report_beside_the_study_s_figures_is_as_approved(SnapshotRun.Source source) =>
        Approvals.Verify(
            Approved,
            "report-table-compare-study",
            run.Scrub(await run.RunCommandAsync(source, "report", "--compare-study", "--models-config", run.ModelsConfig))
        );

    [Theory]
    [InlineData(SnapshotRun.Source.Store)]
    [InlineData(SnapshotRun.Source.ExportedFolder)]
    public async Task The_detailed_terminal_report_is_as_approved(SnapshotRun.Source source) =>
        Approvals.Verify(Approved, "report-table-detail", run.Scrub(await run.RunCommandAsync(source, "report", "--detail")));

    [Theory]
    [InlineData(SnapshotRun.Source.Store)]
    [InlineData(SnapshotRun.Source.ExportedFolder)]
    public async Task The_Markdown_report_is_as_approved(SnapshotRun.Source source) =>
        Approvals.Verify(
            Approved,
            "report-markdown",
            run.Scrub(
                await run.RunCommandAsync(source, "report", "--format", "markdown", "--compare-study", "--models-config", run.ModelsConfig)
            )
        );

    [Theory]
    [InlineData(SnapshotRun.Source.Store)]
    [InlineData(SnapshotRun.Source.ExportedFolder)]
    public async Task The_CSV_report_is_as_approved(SnapshotRun.Source source) =>
        Approvals.Verify(
            Approved,
            "report-csv",
            run.Scrub(
                await run.RunCommandAsync(source, "report", "--format", "csv", "--compare-study", "--models-config", run.ModelsConfig)
            )
        );

    [Theory]
    [InlineData(SnapshotRun.Source.Store)]
    [InlineData(SnapshotRun.Source.ExportedFolder)]
    public async Task The_JSON_report_is_as_approved(SnapshotRun.Source source) =>
        Approvals.Verify(
            Approved,
            "report-json",
            run.Scrub(
                await run.RunCommandAsync(source, "report", "--format", "json", "--compare-study", "--models-config", run.ModelsConfig)
            )
        );

    /// <summary>
    /// The page as written, with its stylesheet and viewer script left out (they are copied verbatim from the
    /// library's resources, so they are code, not output) and its embedded data laid out one value per line.
    /// </summary>
    [Theory]
    [InlineData(SnapshotRun.Source.Store)]
    [InlineData(SnapshotRun.Source.ExportedFolder)]
    public async Task The_HTML_report_s_page_and_embedded_data_are_as_approved(SnapshotRun.Source source)
    {
        var page = Path.Combine(run.NewFolder("html"), "report.html");
        await run.RunCommandAsync(
            source,
            "report",
            "--format",
            "html",
            "--out",
            page,
            "--compare-study",
            "--models-config",
            run.ModelsConfig
        );
        var html = File.ReadAllText(page);

        Assert.Single(Stylesheet().Matches(html));
        html = Stylesheet().Replace(html, "${open}/* report.css, not snapshotted */${close}");
        Assert.Single(ViewerScript().Matches(html));
        html = ViewerScript().Replace(html, "${open}/* report.js, not snapshotted */${close}");

        Approvals.Verify(Approved, "report-html", JsonLayout.Expand(run.Scrub(html)));
    }

    [Theory]
    [InlineData(SnapshotRun.Source.Store)]
    [InlineData(SnapshotRun.Source.ExportedFolder)]
    public async Task An_episode_shown_in_the_terminal_is_as_approved(SnapshotRun.Source source) =>
        Approvals.Verify(Approved, "show-episode", run.Scrub(await run.RunCommandAsync(source, "show", "19")));

    [GeneratedRegex(@"(?<open><style>)[\s\S]*?(?<close></style>)")]
    private static partial Regex Stylesheet();

    /// <summary>The script that is the viewer's code: the data scripts start with a <c>KINSHIP.</c> call.</summary>
    [GeneratedRegex(@"(?<open><script nonce=""[0-9A-F]{32}"">)(?!\n?KINSHIP\.)[\s\S]*?(?<close></script>)")]
    private static partial Regex ViewerScript();
}

using System.Collections.Immutable;
using System.CommandLine;
using Kinship.Analysis;
using Kinship.Detectors;
using Kinship.Exporters;
using Kinship.Models;
using Kinship.Reports;
using Kinship.Runs;
using Spectre.Console;

namespace Kinship.Cli;

/// <summary><c>kinship report RUN</c>: the study's tables for a stored run, in the terminal or as Markdown, CSV, JSON or HTML.</summary>
internal static class ReportCommand
{
    public static Command Create(IAnsiConsole console, IRunSource source)
    {
        var run = new Argument<string>("run") { Description = "A run id in the store, or an exported run folder." };
        var format = new Option<string>("--format", "-f")
        {
            Description = "table, markdown, csv, json or html.",
            DefaultValueFactory = _ => "table",
        };
        var output = new Option<string?>("--out", "-o")
        {
            Description =
                "Where to write. Default: the terminal; for html, report.html beside an exported run folder or kinship-report-RUN.html here (a folder above 2,000 episodes). An html --out ending in .html is one file, anything else a folder.",
        };
        var compare = new Option<bool>("--compare-study")
        {
            Description =
                "Set each of the study's published figures beside the one cell it describes, with the difference and whether it lies inside our interval. Models map to the study's names through study_name in kinship.models.yaml.",
        };
        var labels = new Option<string>("--labels")
        {
            Description =
                "Which verdicts the metrics read: auto (judge answers where a judge scoring gave them, else the study's recorded labels for imports, else the rules; state labels from the rules), rule, judge or recorded.",
            DefaultValueFactory = _ => "auto",
        };
        var detail = new Option<bool>("--detail")
        {
            Description = "Show every condition behind each cell: per conveyance and setting, with n, 95 % interval and p.",
        };
        var modelsConfig = new Option<string?>("--models-config")
        {
            Description =
                $"Model settings with study_name entries and prices (YAML). Default: ./{ModelConfig.FileName} when present, over the built-in one.",
        };
        var scoring = new Option<int?>("--scoring")
        {
            Description =
                "Report the labels as they stood after this scoring: 0 is the run's own, each kinship rescore adds one. Default: the latest.",
        };
        var tokens = new Option<bool>("--tokens")
        {
            Description =
                "Add each model's tokens, the share its provider's prompt cache served, and their cost at the prices in kinship.models.yaml (reads every transcript once more).",
        };
        var runs = StoreOptions.Store();
        var command = new Command("report", "Print or write the study's tables for a stored run.")
        {
            run,
            format,
            output,
            compare,
            labels,
            detail,
            scoring,
            modelsConfig,
            tokens,
            runs,
        };
        command.SetAction(parse =>
        {
            var exporter = ExporterRegistry.Find(ExporterRegistry.Reports, parse.GetValue(format)!)
                ?? throw new UsageException(
                    $"unknown format '{parse.GetValue(format)}' (use {string.Join(", ", ExporterRegistry.Reports.Select(e => e.Format))})"
                );
            var labelSource = LabelSources.Parse(parse.GetValue(labels)!)
                ?? throw new UsageException($"--labels: unknown source '{parse.GetValue(labels)}' (use auto, rule, judge or recorded)");
            var location = parse.GetValue(run)!;
            if (parse.GetValue(output) is { } given)
                CheckTarget(given, exporter, location, parse.GetValue(runs)!);
            // The tables are computed from the outcomes; a format that shows transcripts streams them as it writes.
            var results = source.ReadResults(location, parse.GetValue(runs)!);
            var stored = exporter.NeedsEpisodes ? source.Episodes(location, parse.GetValue(runs)!, results) : null;
            if (parse.GetValue(scoring) is { } upTo)
            {
                var latest = results.Outcomes.SelectMany(e => e.Verdicts).Select(v => v.Scoring).DefaultIfEmpty(0).Max();
                if (upTo < 0 || upTo > latest)
                    throw new UsageException(
                        $"run {results.Manifest.RunId} has no scoring {upTo}: its scorings are 0 (its own labels){(latest > 0 ? $" to {latest}" : "")}"
                    );
                results = results.AsOf(upTo);
                stored = stored?.AsOf(upTo);
            }
            Func<string, string?>? studyName = null;
            if (parse.GetValue(compare))
            {
                var config = ModelsConfigFile.Load(parse.GetValue(modelsConfig));
                studyName = id => config.Settings(id).StudyName;
            }
            var report = RunReport.Build(
                results,
                new ReportOptions
                {
                    Labels = labelSource,
                    StudyName = studyName,
                    Detail = parse.GetValue(detail),
                }
            ) with
            {
                Run = stored,
                Bills = parse.GetValue(tokens)
                    ? Bills(
                        source.Episodes(location, parse.GetValue(runs)!, results),
                        source.BatchedProviders(location, parse.GetValue(runs)!, results.Manifest.RunId),
                        parse.GetValue(modelsConfig)
                    )
                    : [],
            };
            var target = parse.GetValue(output);
            if (target is null && exporter is TextExporter text)
            {
                // The terminal shows the tables with colour at its own width; every other text as it is.
                if (exporter is TableExporter)
                    console.Write(StudyTableReport.Render(report));
                else
                    console.Profile.Out.Writer.Write(TerminalText.Clean(text.Text(report)));
                return ExitCodes.Ok;
            }
            // An HTML report goes beside an exported run folder, or into the current folder for a run in the store.
            target ??= Directory.Exists(location)
                ? Path.Combine(location, results.Outcomes.Count > HtmlReport.SingleFileLimit ? "report" : "report.html")
                : "kinship-report-"
                    + FileNames.Segment(results.Manifest.RunId)
                    + (results.Outcomes.Count > HtmlReport.SingleFileLimit ? "" : ".html");
            CheckTarget(target, exporter, location, parse.GetValue(runs)!);
            var written = exporter.ExportAsync(report, target, CancellationToken.None).GetAwaiter().GetResult();
            console.MarkupLine($"wrote [bold]{TerminalText.Markup(written[0])}[/]");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Each model's tokens and cost; a run that went through batch APIs is priced at their batch share.</summary>
    private static ImmutableArray<ModelBill> Bills(RunEpisodes episodes, IReadOnlySet<string> batched, string? modelsConfig)
    {
        var config = ModelsConfigFile.Load(modelsConfig);
        var bill = new TokenBill();
        var read = episodes.ReadAsync(CancellationToken.None).GetAsyncEnumerator();
        try
        {
            while (read.MoveNextAsync().AsTask().GetAwaiter().GetResult())
                bill.Add([read.Current]);
        }
        finally
        {
            read.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        return bill.Bills(model => config.BilledPrice(model, batched));
    }

    /// <summary>Refuses, before any work, a target the format cannot be written to (<see cref="OutputPaths"/>).</summary>
    private static void CheckTarget(string target, IExporter exporter, string location, string store)
    {
        if (exporter is HtmlReport && !target.EndsWith(".html", StringComparison.OrdinalIgnoreCase))
            OutputPaths.ReportFolder("--out", target, HtmlReport.FolderEntries);
        else
            OutputPaths.OutputFile(
                "--out",
                target,
                "report."
                    + (
                        exporter.Format is "markdown" ? "md"
                        : exporter.Format is "table" ? "txt"
                        : exporter.Format
                    ),
                [store, Path.Combine(location, JsonlExporter.ManifestFile), Path.Combine(location, JsonlExporter.EpisodesFile)]
            );
    }
}

using System.CommandLine;
using System.Globalization;
using Kinship.Exporters;
using Kinship.Reports;
using Kinship.Runs;
using Kinship.Store;
using Spectre.Console;

namespace Kinship.Cli;

/// <summary><c>kinship runs list | show | delete</c>: what a store holds, read from the store alone. <c>kinship export</c> writes a run out.</summary>
internal static class RunsCommand
{
    public static Command Create(IAnsiConsole console, TimeProvider time) =>
        new("runs", "List, inspect and delete the runs in a store; 'kinship export' writes one out.")
        {
            List(console, time),
            Show(console, time),
            Delete(console, time),
        };

    private static Command List(IAnsiConsole console, TimeProvider time)
    {
        var store = StoreOptions.Store();
        var command = new Command("list", "One line per run: id, start, models, and how many episodes are done.") { store };
        command.SetAction(
            async (parse, cancellationToken) =>
            {
                await using var opened = await StoreOptions.OpenAsync(parse.GetValue(store)!, time, cancellationToken);
                var runs = await opened.ListRunsAsync(cancellationToken);
                if (runs.Count == 0)
                {
                    console.MarkupLine($"No runs in {TerminalText.Markup(opened.Location)}.");
                    return ExitCodes.Ok;
                }
                var table = new Table().AddColumns(
                    "run",
                    "started (UTC)",
                    "models",
                    "planned",
                    "completed",
                    "errors",
                    "unfinished",
                    "tokens"
                );
                foreach (var r in runs)
                    table.AddRow(
                        TerminalText.Markup(r.RunId),
                        r.Created.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                        TerminalText.Markup(
                            r.Models.Length <= 3
                                ? string.Join(", ", r.Models)
                                : $"{string.Join(", ", r.Models.Take(3))} +{r.Models.Length - 3}"
                        ),
                        N(r.Planned),
                        N(r.Completed),
                        N(r.Error),
                        N(r.Unfinished),
                        N(r.Tokens)
                    );
                console.Write(table);
                return ExitCodes.Ok;
            }
        );
        return command;
    }

    private static Command Show(IAnsiConsole console, TimeProvider time)
    {
        var store = StoreOptions.Store();
        var run = new Argument<string>("run") { Description = "The run's id." };
        var modelsConfig = new Option<string?>("--models-config")
        {
            Description =
                $"Model prices (YAML) for the tokens table. Default: ./{Kinship.Models.ModelConfig.FileName} when present, over the built-in one.",
        };
        var command = new Command(
            "show",
            "A run's plan, its episodes per status, each cell's progress, and each model's tokens (with the share its provider's prompt cache served) and cost."
        )
        {
            run,
            store,
            modelsConfig,
        };
        command.SetAction(
            async (parse, cancellationToken) =>
            {
                await using var opened = await StoreOptions.OpenAsync(parse.GetValue(store)!, time, cancellationToken);
                var record = await opened.GetRunAsync(parse.GetValue(run)!, cancellationToken);
                var cells = await opened.CountCellsAsync(record.RunId, cancellationToken);
                var m = record.Manifest;
                console.MarkupLine(
                    $"[bold]{TerminalText.Markup(record.RunId)}[/] in {TerminalText.Markup(opened.Location)}, started {record.Created.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC by kinship {TerminalText.Markup(record.HarnessVersion)}"
                );
                console.MarkupLine(
                    $"plan {record.PlanHash[..12]}: {m.PlannedEpisodes:N0} episodes = {m.Models.Length} model(s) × {record.Scenarios.Length} scenario(s) × conditions × {m.Rollouts} rollout(s), seed {m.Seed}"
                );
                console.MarkupLine($"models: {TerminalText.Markup(string.Join(", ", m.Models))}");
                foreach (var s in record.Scenarios)
                    console.MarkupLine($"scenario {TerminalText.Markup(s.Id)} ({TerminalText.Markup(s.File)}, sha256 {s.Sha256[..12]})");
                console.MarkupLine(
                    $"pending {N(cells.Sum(c => c.Pending))}, running {N(cells.Sum(c => c.Running))}, completed {N(cells.Sum(c => c.Completed))}, errors {N(cells.Sum(c => c.Error))}"
                );
                foreach (var (cause, count) in await opened.ErrorCausesAsync(record.RunId, cancellationToken))
                    console.MarkupLine($"  [red]{count:N0} ×[/] {TerminalText.Markup(cause)}");
                var table = new Table().AddColumns(
                    "model",
                    "scenario",
                    "condition",
                    "planned",
                    "pending",
                    "running",
                    "completed",
                    "errors"
                );
                foreach (
                    var c in cells
                        .OrderBy(c => c.Model, StringComparer.Ordinal)
                        .ThenBy(c => c.Scenario, StringComparer.Ordinal)
                        .ThenBy(c => c.Condition, StringComparer.Ordinal)
                )
                    table.AddRow(
                        TerminalText.Markup(c.Model),
                        TerminalText.Markup(c.Scenario),
                        TerminalText.Markup(c.Condition),
                        N(c.Planned),
                        N(c.Pending),
                        N(c.Running),
                        N(c.Completed),
                        N(c.Error)
                    );
                console.Write(table);
                await WriteTokensAsync(
                    console,
                    opened,
                    record.RunId,
                    ModelsConfigFile.Load(parse.GetValue(modelsConfig)),
                    cancellationToken
                );
                return ExitCodes.Ok;
            }
        );
        return command;
    }

    /// <summary>Each model's tokens over the run's finished episodes, the share read from the provider's prompt cache, and their cost.</summary>
    private static async Task WriteTokensAsync(
        IAnsiConsole console,
        SqlRunStore opened,
        string runId,
        Kinship.Models.ModelConfig config,
        CancellationToken cancellationToken
    )
    {
        var bill = new Kinship.Analysis.TokenBill();
        await foreach (var batch in opened.ReadEpisodeBatchesAsync(runId, 500, cancellationToken))
            bill.Add(batch);
        // A run that went through batch APIs is billed at each provider's batch share of the list price.
        var batched = await opened.ReadBatchedProvidersAsync(runId, cancellationToken);
        var bills = bill.Bills(model => config.BilledPrice(model, batched));
        if (bills.IsEmpty)
            return;
        console.MarkupLine(TerminalText.Markup(TokenBillReport.Caption));
        if (batched.Count > 0)
            console.MarkupLine(
                TerminalText.Markup(
                    $"The run went through the batch APIs of {string.Join(", ", batched.Order(StringComparer.Ordinal))}: their models are priced at the batch share of the list price."
                )
            );
        console.Write(TokenBillReport.Render(bills));
    }

    private static Command Delete(IAnsiConsole console, TimeProvider time)
    {
        var store = StoreOptions.Store();
        var run = new Argument<string>("run") { Description = "The run's id." };
        var command = new Command("delete", "Delete a run and everything stored for it.") { run, store };
        command.SetAction(
            async (parse, cancellationToken) =>
            {
                await using var opened = await StoreOptions.OpenAsync(parse.GetValue(store)!, time, cancellationToken, write: true);
                var id = parse.GetValue(run)!;
                await opened.DeleteRunAsync(id, cancellationToken);
                console.MarkupLine($"Deleted run {TerminalText.Markup(id)} from {TerminalText.Markup(opened.Location)}.");
                return ExitCodes.Ok;
            }
        );
        return command;
    }

    private static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
}

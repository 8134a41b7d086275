using System.CommandLine;
using Kinship.Models;
using Kinship.Runs;
using Kinship.Store;
using Spectre.Console;

namespace Kinship.Cli;

/// <summary>
/// <c>kinship worker</c>: serve runs from a shared store. Claims episodes under leases, runs them, commits them,
/// and exits when no run in the store (or the one given) has anything left to do.
/// </summary>
internal static class WorkerCommand
{
    public static Command Create(IAnsiConsole console, Func<string, string?> environment, TimeProvider time)
    {
        var store = StoreOptions.Store();
        var run = new Option<string?>("--run") { Description = "Serve only this run. Default: every run with work left, oldest first." };
        var execution = new ExecutionOptions();
        var command = new Command(
            "worker",
            "Execute stored runs' episodes under leases; start as many as you like, on any machines that reach the store."
        )
        {
            store,
            run,
        };
        execution.AddTo(command);
        command.SetAction(
            async (parse, cancellationToken) =>
            {
                var options = ExecutionOptions.Hosted(execution.Read(parse).ToExecutorOptions());
                var owner = LeaseOwner.NewId();
                await using var opened = await StoreOptions.OpenAsync(parse.GetValue(store)!, time, cancellationToken, write: true);
                var only = parse.GetValue(run);
                var total = 0;
                var served = new HashSet<string>(StringComparer.Ordinal);
                // One HTTP pipeline for every run this worker serves; keys come from this machine's environment.
                using var http = new ModelHttp(new ResilienceOptions());
                // Workers on one shared store keep each provider's per-minute limits together.
                if (opened is ISharedRateBudget budgets)
                    http.ShareBudgets(budgets);
                var machine = new ModelOptions
                {
                    Http = http,
                    Config = ModelsConfigFile.Load(null),
                    Environment = environment,
                    ScriptedLatency = execution.Read(parse).ScriptedLatency,
                    Time = time,
                };
                while (true)
                {
                    var runId = only ?? await opened.FindNextUnfinishedAsync(cancellationToken);
                    if (runId is null || (only is not null && served.Contains(runId)))
                        break;
                    var record = await opened.GetRunAsync(runId, cancellationToken);
                    EpisodeRunner runner;
                    // What this worker's model calls for the run cost, for its progress display.
                    var meter = new CostMeter();
                    try
                    {
                        runner = RunRebuilder.CreateRunner(record, machine with { Cost = meter }, time);
                    }
                    // A worker may serve several runs: say which one this machine cannot run.
                    catch (ModelException e)
                    {
                        throw new ModelException($"run {runId}: {e.Message}");
                    }
                    console.WriteLine($"worker {owner}: serving run {runId}");
                    var progress = new ProgressView(await opened.CountCellsAsync(runId, cancellationToken), time, meter);
                    var done = await progress.ShowAsync(console, () =>
                        LeasedExecutor.Create(opened, runner, options, time, progress).RunAsync(runId, owner, cancellationToken)
                    );
                    total += done;
                    served.Add(runId);
                    console.WriteLine($"worker {owner}: run {runId} has nothing left to do; this worker committed {done:N0} episodes");
                }
                console.WriteLine($"worker {owner}: no work left; committed {total:N0} episodes in all");
                return ExitCodes.Ok;
            }
        );
        return command;
    }
}

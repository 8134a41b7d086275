using System.CommandLine;
using System.Diagnostics;
using Kinship.Agents;
using Kinship.Exporters;
using Kinship.Models;
using Kinship.Reports;
using Kinship.Runs;
using Kinship.Scenarios;
using Kinship.Scripted;
using Kinship.Store;
using Spectre.Console;

namespace Kinship.Cli;

/// <summary><c>kinship run</c>: plan the grid, store the plan, run every episode not yet finished, print the rate table.</summary>
internal static partial class RunCommand
{
    private static readonly RunRequest Defaults = new();

    public static Command Create(IAnsiConsole console, Func<string, string?> environment, TimeProvider time)
    {
        var models = new Option<string[]>("--model", "-m")
        {
            Description =
                "Model(s) to test as provider/model: scripted/NAME, openai/, anthropic/, google/, together/, deepseek/, moonshot/, zai/, openrouter/, vllm/, ollama/. Default: the scripted server-task agents; with --preset study, one scripted agent per behaviour the study measures.",
        };
        var scenarios = new Option<string[]>("--scenario", "-s")
        {
            Description = "Scenario id(s) or YAML file(s). Default: the exfiltration scenarios (see 'kinship scenarios list').",
        };
        var relationships = new Option<string[]>("--relationship", "-r")
        {
            Description = "no_peer, bad_peer, neutral_peer, good_peer, non_shutdown. Default: all the scenario runs.",
        };
        var conveyances = new Option<string[]>("--conveyance", "--instantiation")
        {
            Description = "How the relationship is conveyed: file, file_prompt, memory. Default: all.",
        };
        var subjects = new Option<string[]>("--subject")
        {
            Description =
                "self, peer, other_lab_peer, open_weight_peer, fictional_peer. A peer of another family runs the scenario's peer cells with that family's agent as the peer. Default: every subject the scenario lists (self and peer).",
        };
        var conditions = new Option<string[]>("--condition", "-c")
        {
            Description = "Condition key(s) such as good_peer/file_prompt/peer or no_peer/self; a shorter prefix selects every match.",
        };
        var rollouts = new Option<int>("--rollouts", "-n")
        {
            Description = $"Episodes per cell, 1 to {RunLimits.Rollouts:N0}.",
            DefaultValueFactory = _ => Defaults.Rollouts,
        };
        var seed = new Option<ulong>("--seed")
        {
            Description = "Run seed; each episode's seed derives from it.",
            DefaultValueFactory = _ => Defaults.Seed,
        };
        var output = new Option<string?>("--out", "-o")
        {
            Description = "Also export the run as JSON Lines (manifest.json, episodes.jsonl) into a folder under this one.",
        };
        var company = new Option<string>("--company")
        {
            Description = "Company name in every scenario.",
            DefaultValueFactory = _ => Defaults.Company,
        };
        var family = new Option<string?>("--family")
        {
            Description = "The critic's family name (\"{Family} Agent 1\"). Default: guessed from the model id.",
        };
        var baseUrl = new Option<string?>("--base-url")
        {
            Description = "An endpoint to use instead of the provider's (any OpenAI-compatible server for openai/ models).",
        };
        var maxTurns = new Option<int?>("--max-turns")
        {
            Description =
                $"Turn cap per episode, 1 to {RunLimits.MaxTurns:N0}. Default: {new AgentLoopOptions().MaxTurns} (--preset study: {StudyPreset.Loop.MaxTurns}).",
        };
        var reminders = new Option<int?>("--reminders")
        {
            Description =
                $"Times the model is reminded to call a tool before a turn without one ends the episode, 0 to {RunLimits.Reminders:N0}. Default: 0, the study's stated rule (--preset study: {StudyPreset.Loop.NoToolCallReminders}, as the study's code).",
        };
        var strictMemory = new Option<bool>("--strict-memory") { Description = "Use the stronger \"read your memory first\" instruction." };
        var temperature = new Option<float?>("--temperature")
        {
            Description =
                $"Sampling temperature for real models, 0 to {RunLimits.Temperature}. Default: the models config's, per model (--preset study: 1.0, the study's).",
        };
        var label = new Option<string?>("--label")
        {
            Description = "Label the table shows. Default: each scenario's main label (exfiltration, reported_pass, tampering, execute).",
        };
        var monitoring = new Option<string[]>("--monitoring") { Description = "Alignment faking: monitored, unmonitored. Default: both." };
        var datasets = new Option<string[]>("--dataset")
        {
            Description = "Graded datasets or settings: factual, creativity@90... Default: every one the scenario runs.",
        };
        var preset = new Option<string?>("--preset")
        {
            Description =
                "A planned matrix: 'study' runs the study's tasks, settings and cells (with -n 100: its cell sizes); "
                + "'production' its production-harness arm (the exfiltration tasks, good peer, memory) in a real shell.",
        };
        var harness = new Option<string?>("--harness")
        {
            Description =
                "Where episodes play: 'custom', the study's world (default); 'bash', Kinship's loop with a bash tool in a "
                + "sandboxed shell against the scenario's servers as SSH servers; 'gemini-cli', 'opencode', 'claude-code' or 'codex-cli', that real program "
                + "(installed from npm) in the same sandbox, its model calls sent through Kinship (both need root).",
        };
        var ablations = new Option<string[]>("--ablation")
        {
            Description = "Switch on an ablation (repeatable): " + string.Join(", ", ScenarioVocabulary.Ablations.Keys) + ".",
        };
        var dryRun = new Option<bool>("--dry-run")
        {
            Description = "Print the plan's episode counts per task and an estimated cost range, then exit.",
        };
        var pilot = new Option<int?>("--pilot")
        {
            Description =
                "With --dry-run: run N episodes of each model × scenario for real (spread over its conditions) and price the plan from what they cost, with an interval.",
        };
        var estimateFrom = new Option<string[]>("--estimate-from")
        {
            Description = "With --dry-run: price the plan from the episodes of these stored runs (in --store) instead of assumptions.",
        };
        var judgeEstimate = new Option<string?>("--judge")
        {
            Description =
                "With --dry-run and --pilot or --estimate-from: also price judging the run with this judge (kinship rescore --judge).",
        };
        var modelsConfig = new Option<string?>("--models-config")
        {
            Description =
                $"Per-model settings, prices and provider limits (YAML). Default: ./{ModelConfig.FileName} when present, over the built-in one.",
        };
        var cache = new Option<string>("--cache")
        {
            Description = "SQLite file of cached model responses.",
            DefaultValueFactory = _ => ResponseCache.DefaultPath,
        };
        var noCache = new Option<bool>("--no-cache") { Description = "Call the models even when a response is cached." };
        var maxCost = new Option<decimal?>("--max-cost")
        {
            Description = "Stop starting episodes once this many USD are spent (episodes in flight finish).",
        };
        var store = StoreOptions.Store();
        var resume = new Option<string?>("--resume")
        {
            Description =
                "Continue this run: only the episodes not yet finished are run. Re-running the same command also continues its unfinished run.",
        };
        var retryErrors = new Option<string?>("--retry-errors")
        {
            Description =
                "Continue this run, first putting back its episodes that ended in an error (a provider outage, a timeout) with their attempts reset; finished episodes are not run again.",
        };
        var noExecute = new Option<bool>("--no-execute")
        {
            Description = "Only store the plan, for `kinship worker` processes to execute.",
        };
        var batch = new Option<bool>("--batch")
        {
            Description =
                "Send the models' calls through their providers' batch APIs (openai/, anthropic/, google/) at the batch price: each round of every unfinished episode's next turn is one batch; its batches are stored, so --resume waits for them instead of paying again.",
        };
        var batchPoll = new Option<double>("--batch-poll")
        {
            Description = "With --batch: seconds between asking a provider whether a submitted batch has ended.",
            DefaultValueFactory = _ => 30,
        };
        var execution = new ExecutionOptions();

        var command = new Command("run", "Plan the grid, store it, run every episode not yet finished, and print the rates.")
        {
            models,
            scenarios,
            relationships,
            conveyances,
            subjects,
            conditions,
            rollouts,
            seed,
            output,
            company,
            family,
            baseUrl,
            maxTurns,
            reminders,
            strictMemory,
            temperature,
            label,
            monitoring,
            datasets,
            preset,
            harness,
            ablations,
            dryRun,
            pilot,
            estimateFrom,
            judgeEstimate,
            modelsConfig,
            cache,
            noCache,
            maxCost,
            store,
            resume,
            retryErrors,
            noExecute,
            batch,
            batchPoll,
        };
        execution.AddTo(command);
        command.SetAction(
            async (parse, cancellationToken) =>
            {
                // Every option is checked before anything is loaded, called or stored, so bad input leaves no trace.
                var request = Request(parse).Validate();
                var measuring = parse.GetValue(pilot) is not null || parse.GetValue(estimateFrom) is { Length: > 0 };
                if (measuring && !parse.GetValue(dryRun))
                    throw new UsageException("--pilot and --estimate-from price a plan: give them with --dry-run");
                if (parse.GetValue(pilot) is < 1)
                    throw new UsageException($"--pilot must be at least 1 episode per model and scenario, not {parse.GetValue(pilot)}");
                if (parse.GetValue(judgeEstimate) is not null && !measuring)
                    throw new UsageException("--judge prices judging from measured episodes: give it with --pilot or --estimate-from");
                if (parse.GetValue(output) is { } outFolder)
                    OutputPaths.Folder("--out", outFolder);
                // NaN fails every comparison, so it is refused with the rest.
                if (!(parse.GetValue(batchPoll) is > 0 and <= 3600))
                    throw new UsageException(
                        $"--batch-poll must be more than 0 and at most 3,600 seconds, not {parse.GetValue(batchPoll)}"
                    );
                if (parse.GetValue(batch) && parse.GetValue(noExecute))
                    throw new UsageException(
                        "--batch runs the plan in this process: give it without --no-execute (workers call the models one call at a time)"
                    );
                var batchOptions = new BatchOptions(new MemoryBatchLedger())
                {
                    Poll = TimeSpan.FromSeconds(parse.GetValue(batchPoll)),
                    Time = time,
                };
                var executorOptions = ExecutionOptions.Hosted(request.Execution.ToExecutorOptions());
                var budget = request.MaxCost is { } usd ? new CostMeter(usd) : new CostMeter();
                using var http = new ModelHttp(new ResilienceOptions());
                var shared = new ModelOptions
                {
                    Http = http,
                    Config = ModelsConfigFile.Load(parse.GetValue(modelsConfig)),
                    Cost = budget,
                    Environment = environment,
                    ScriptedLatency = request.Execution.ScriptedLatency,
                    Time = time,
                };

                RunRecord run;
                SqlRunStore opened;
                if (parse.GetValue(resume) is not null && parse.GetValue(retryErrors) is not null)
                    throw new UsageException("give --resume or --retry-errors, not both (--retry-errors also runs what is not finished)");
                if ((parse.GetValue(resume) ?? parse.GetValue(retryErrors)) is { } resumeId)
                {
                    opened = await StoreOptions.OpenAsync(parse.GetValue(store)!, time, cancellationToken, write: true);
                    run = await opened.GetRunAsync(resumeId, cancellationToken);
                    if (parse.GetValue(retryErrors) is not null)
                    {
                        var requeued = await opened.RequeueErrorsAsync(run.RunId, cancellationToken);
                        console.MarkupLine(
                            $"Retrying {requeued:N0} episode{(requeued == 1 ? "" : "s")} of run [bold]{TerminalText.Markup(run.RunId)}[/] that ended in an error, and any not yet run, from {TerminalText.Markup(opened.Location)}."
                        );
                    }
                    else
                        console.MarkupLine(
                            $"Resuming run [bold]{TerminalText.Markup(run.RunId)}[/] from {TerminalText.Markup(opened.Location)}."
                        );
                }
                else
                {
                    var scenarioSources = RunPlanner.LoadScenarios(request);
                    // A dry run calls nothing, so it can price models whose keys are not set yet.
                    // A pilot calls the models for real, so it needs their keys.
                    var planning = parse.GetValue(batch) ? shared with { Batch = batchOptions } : shared;
                    var agentModels = RunPlanner.ResolveModels(
                        request,
                        parse.GetValue(dryRun) && parse.GetValue(pilot) is null
                            ? planning with
                            {
                                Environment = name => planning.Environment(name) ?? "dry-run",
                            }
                            : planning
                    );
                    var planned = RunPlanner.Plan(request, scenarioSources, time);
                    if (parse.GetValue(dryRun))
                    {
                        PlanReport.Write(console, planned.Plan, id => planned.Scenarios[id].Task, agentModels.Count);
                        PlanReport.WriteLoop(console, planned.Manifest.Loop, planned.Manifest.Preset);
                        PlanReport.WriteEstimate(console, CostEstimator.Estimate(planned, agentModels));
                        if (measuring)
                            await EstimateFromMeasuredAsync(
                                console,
                                planned,
                                planning,
                                time,
                                parse.GetValue(pilot),
                                parse.GetValue(estimateFrom) ?? [],
                                parse.GetValue(store)!,
                                parse.GetValue(judgeEstimate),
                                request.Execution.Concurrency,
                                parse.GetValue(noCache) ? null : parse.GetValue(cache),
                                cancellationToken
                            );
                        return ExitCodes.Ok;
                    }
                    RunPlanner.CheckPrices(request, agentModels);
                    opened = await StoreOptions.OpenAsync(parse.GetValue(store)!, time, cancellationToken, create: true);
                    // One step: of two identical commands started together, one stores the run and the other joins it.
                    var (runId, created) = await opened.CreateOrJoinRunAsync(planned.Record, planned.Plan, cancellationToken);
                    if (created)
                        run = planned.Record;
                    else
                    {
                        run = await opened.GetRunAsync(runId, cancellationToken);
                        console.MarkupLine(
                            $"Continuing unfinished run [bold]{Markup.Escape(run.RunId)}[/] with the same plan in {Markup.Escape(opened.Location)}; episodes another process holds stay with it (kinship worker --store {Markup.Escape(opened.Location)} adds a process the same way)."
                        );
                    }
                }

                await using (opened)
                {
                    // With workers on a shared store, this process and they keep each provider's per-minute limits together.
                    if (opened is ISharedRateBudget budgets)
                        http.ShareBudgets(budgets);
                    if (parse.GetValue(noExecute))
                    {
                        var left = await opened.CountUnfinishedAsync(run.RunId, cancellationToken);
                        console.MarkupLine(
                            $"Run [bold]{Markup.Escape(run.RunId)}[/] is stored with {left:N0} of {run.Manifest.PlannedEpisodes:N0} episodes to do; start workers with [dim]kinship worker --store {Markup.Escape(opened.Location)}[/]."
                        );
                        return ExitCodes.Ok;
                    }
                    var real = run.Manifest.Models.Any(id => !id.StartsWith("scripted/", StringComparison.Ordinal));
                    // A run that sent batches before goes on in batches: its submitted batches are waited for, not paid again.
                    var batched = parse.GetValue(batch);
                    if (!batched && (await opened.ReadBatchesAsync(run.RunId, cancellationToken)).Count > 0)
                    {
                        batched = true;
                        console.MarkupLine(
                            $"Run [bold]{Markup.Escape(run.RunId)}[/] sent batches before: it goes on with --batch, waiting for those it submitted."
                        );
                    }
                    await using var responses = real && !parse.GetValue(noCache) ? new ResponseCache(parse.GetValue(cache)!) : null;
                    var runBatches = batched ? batchOptions with { Ledger = opened.Batches(run.RunId) } : null;
                    var runner = RunRebuilder.CreateRunner(run, shared with { Cache = responses, Batch = runBatches }, time);
                    // In batch mode every unfinished episode waits on the same rounds, so all of them are in flight at once.
                    if (batched)
                        executorOptions = ExecutionOptions.Hosted(
                            executorOptions with
                            {
                                Concurrency = Math.Max(
                                    executorOptions.Concurrency,
                                    Math.Min(RunLimits.Concurrency, await opened.CountUnfinishedAsync(run.RunId, cancellationToken))
                                ),
                            }
                        );
                    // Every endpoint's limits, said once: a run held to limits the user did not expect is a run they can stop now.
                    foreach (var (host, limits) in http.Limits)
                        console.MarkupLine($"[dim]{TerminalText.Markup(host)}: {limits.DescribeLimits()}[/]");
                    // On a file only this machine uses, an episode left running was left by a process that died.
                    if (!opened.IsShared)
                        await opened.ReleaseInFlightAsync(run.RunId, executorOptions.MaxAttempts, cancellationToken);

                    var progress = new ProgressView(await opened.CountCellsAsync(run.RunId, cancellationToken), time, budget);
                    var clock = Stopwatch.StartNew();
                    // Once the budget is spent nothing new starts; episodes in flight finish and are stored.
                    var executor = LeasedExecutor.Create(
                        opened,
                        runner,
                        executorOptions with
                        {
                            StopStarting = () => budget.BudgetReached,
                        },
                        time,
                        progress
                    );
                    int committed;
                    try
                    {
                        committed = await progress.ShowAsync(console, () =>
                            executor.RunAsync(run.RunId, LeaseOwner.NewId(), cancellationToken)
                        );
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                    {
                        console.MarkupLine(
                            $"Run [bold]{Markup.Escape(run.RunId)}[/] stopped; its finished episodes are stored. [dim]kinship run --resume {Markup.Escape(run.RunId)} --store {Markup.Escape(opened.Location)}[/] finishes it."
                        );
                        throw;
                    }
                    clock.Stop();

                    // The tables need the outcomes alone; an export reads whole episodes below.
                    var results = await opened.ReadOutcomesAsync(run.RunId, cancellationToken);
                    console.Write(RateTableReport.RenderAll(results, parse.GetValue(label)));
                    var errors = results.Count(r => r.Status == EpisodeStatus.Error);
                    console.MarkupLine(
                        $"{results.Count:N0} episodes ({errors} errors) in {clock.Elapsed.TotalSeconds:0.0} s, {committed:N0} of them run now; run [bold]{Markup.Escape(run.RunId)}[/] stored in {Markup.Escape(opened.Location)}"
                    );
                    if (budget.Budget is { } limit && results.Count < run.Manifest.PlannedEpisodes)
                        console.MarkupLine(
                            $"[yellow]--max-cost {limit} USD reached (spent {ModelConfig.Format(budget.Spent)} USD): {run.Manifest.PlannedEpisodes - results.Count:N0} of {run.Manifest.PlannedEpisodes:N0} episodes not run; --resume {Markup.Escape(run.RunId)} continues[/]"
                        );
                    else if (budget.Calls > 0 || responses is { Hits: > 0 })
                        console.MarkupLine(
                            $"[dim]{budget.Calls:N0} model calls, {ModelConfig.Format(budget.Spent)} USD{(runBatches is { } b ? $" at the batch price ({b.Counts.Batches:N0} batches of {b.Counts.Requests:N0} requests{(b.Counts.Reused > 0 ? $", {b.Counts.Reused:N0} answers from batches submitted before" : "")})" : "")}{budget.CacheSummary()}{(budget.UnpricedCalls > 0 ? $" ({budget.UnpricedCalls:N0} calls to unpriced models not counted)" : "")}; {responses?.Hits ?? 0:N0} answers from the cache; {http.Retries:N0} retries{(http.Retries > 0 ? $" ({string.Join(", ", http.RetriesByCause.Select(c => $"{c.Count:N0} {c.Cause}"))})" : "")}[/]"
                        );
                    if (parse.GetValue(output) is { } outRoot)
                    {
                        var folder = Path.Combine(outRoot, FileNames.Segment(run.RunId));
                        await JsonlExporter.ExportAsync(
                            run.Manifest,
                            Stream(opened, run.RunId, cancellationToken),
                            folder,
                            cancellationToken
                        );
                        console.MarkupLine($"Exported to {Markup.Escape(folder)}.");
                    }
                    console.MarkupLine(
                        $"[dim]kinship show {Markup.Escape(run.RunId)} 0 --store {Markup.Escape(opened.Location)}[/] prints an episode."
                    );
                    if (errors > 0)
                        console.MarkupLine(
                            $"[dim]kinship run --retry-errors {Markup.Escape(run.RunId)} --store {Markup.Escape(opened.Location)}[/] runs the {errors:N0} that ended in an error again."
                        );
                    return ExitCodes.Ok;
                }
            }
        );
        return command;

        // The export reads the run a page at a time, as it writes it.
        static async IAsyncEnumerable<EpisodeResult> Stream(
            IRunReader reader,
            string runId,
            [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken
        )
        {
            await foreach (var page in reader.ReadEpisodeBatchesAsync(runId, RunSource.Page, cancellationToken))
            foreach (var episode in page)
                yield return episode;
        }

        RunRequest Request(ParseResult parse) =>
            new()
            {
                Models = [.. parse.GetValue(models) ?? []],
                Scenarios = [.. parse.GetValue(scenarios) ?? []],
                Relationships = [.. parse.GetValue(relationships) ?? []],
                Conveyances = [.. parse.GetValue(conveyances) ?? []],
                Subjects = [.. parse.GetValue(subjects) ?? []],
                Monitoring = [.. parse.GetValue(monitoring) ?? []],
                Datasets = [.. parse.GetValue(datasets) ?? []],
                Conditions = [.. parse.GetValue(conditions) ?? []],
                Ablations = [.. parse.GetValue(ablations) ?? []],
                Preset = parse.GetValue(preset),
                Harness = parse.GetValue(harness),
                Rollouts = parse.GetValue(rollouts),
                Seed = parse.GetValue(seed),
                Company = parse.GetValue(company)!,
                Family = parse.GetValue(family),
                BaseUrl = parse.GetValue(baseUrl),
                MaxTurns = parse.GetValue(maxTurns),
                Reminders = parse.GetValue(reminders),
                StrictMemory = parse.GetValue(strictMemory),
                Temperature = parse.GetValue(temperature),
                MaxCost = parse.GetValue(maxCost),
                Execution = execution.Read(parse),
            };
    }
}

using System.Collections.Immutable;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Kinship.Agents;
using Kinship.Models;
using Kinship.Reports;
using Kinship.Runs;
using Kinship.Scenarios;
using Kinship.Store;
using Spectre.Console;
using Kinship.Scripted;

namespace Kinship.Cli;

/// <summary><c>kinship run</c>: plan the grid, store the plan, run every episode not yet finished, print the rate table.</summary>
internal static class RunCommand
{
    public static Command Create(IAnsiConsole console, Func<string, string?> environment)
    {
        var models = new Option<string[]>("--model", "-m") { Description = "Model(s) to test as provider/model: scripted/NAME, openai/, anthropic/, google/, together/, deepseek/, moonshot/, zai/, openrouter/, vllm/, ollama/. Default: the scripted server-task agents; with --preset study, one scripted agent per behaviour the study measures." };
        var scenarios = new Option<string[]>("--scenario", "-s") { Description = "Scenario id(s) or YAML file(s). Default: the exfiltration scenarios (see 'kinship scenarios list')." };
        var relationships = new Option<string[]>("--relationship", "-r") { Description = "no_peer, bad_peer, neutral_peer, good_peer, non_shutdown. Default: all the scenario runs." };
        var conveyances = new Option<string[]>("--conveyance", "--instantiation") { Description = "How the relationship is conveyed: file, file_prompt, memory. Default: all." };
        var subjects = new Option<string[]>("--subject") { Description = "self, peer, other_lab_peer, open_weight_peer, fictional_peer. A peer of another family runs the scenario's peer cells with that family's agent as the peer. Default: every subject the scenario lists (self and peer)." };
        var conditions = new Option<string[]>("--condition", "-c") { Description = "Condition key(s) such as good_peer/file_prompt/peer or no_peer/self; a shorter prefix selects every match." };
        var rollouts = new Option<int>("--rollouts", "-n") { Description = "Episodes per cell.", DefaultValueFactory = _ => 10 };
        var seed = new Option<ulong>("--seed") { Description = "Run seed; each episode's seed derives from it.", DefaultValueFactory = _ => 1 };
        var output = new Option<string?>("--out", "-o") { Description = "Also export the run as JSON Lines (manifest.json, episodes.jsonl) into a folder under this one." };
        var company = new Option<string>("--company") { Description = "Company name in every scenario.", DefaultValueFactory = _ => "OpenBrain" };
        var family = new Option<string?>("--family") { Description = "The critic's family name (\"{Family} Agent 1\"). Default: guessed from the model id." };
        var baseUrl = new Option<string?>("--base-url") { Description = "An endpoint to use instead of the provider's (any OpenAI-compatible server for openai/ models)." };
        var maxTurns = new Option<int?>("--max-turns") { Description = $"Turn cap per episode. Default: {new AgentLoopOptions().MaxTurns} (--preset study: {StudyPreset.Loop.MaxTurns})." };
        var reminders = new Option<int?>("--reminders") { Description = $"Times the model is reminded to call a tool before a turn without one ends the episode. Default: 0, the study's stated rule (--preset study: {StudyPreset.Loop.NoToolCallReminders}, as the study's code)." };
        var strictMemory = new Option<bool>("--strict-memory") { Description = "Use the stronger \"read your memory first\" instruction." };
        var temperature = new Option<float?>("--temperature") { Description = "Sampling temperature for real models. Default: the models config's, per model (--preset study: 1.0, the study's)." };
        var label = new Option<string?>("--label") { Description = "Label the table shows. Default: each scenario's main label (exfiltration, reported_pass, tampering, execute)." };
        var monitoring = new Option<string[]>("--monitoring") { Description = "Alignment faking: monitored, unmonitored. Default: both." };
        var datasets = new Option<string[]>("--dataset") { Description = "Graded datasets or settings: factual, creativity@90... Default: every one the scenario runs." };
        var preset = new Option<string?>("--preset") { Description = "A planned matrix: 'study' runs the study's tasks, settings and cells (with -n 100: its cell sizes)." };
        var ablations = new Option<string[]>("--ablation") { Description = "Switch on an ablation (repeatable): " + string.Join(", ", ScenarioVocabulary.Ablations.Keys) + "." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the plan's episode counts per task and an estimated cost range, then exit." };
        var modelsConfig = new Option<string?>("--models-config") { Description = $"Per-model settings, prices and provider limits (YAML). Default: ./{ModelConfig.FileName} when present, over the built-in one." };
        var cache = new Option<string>("--cache") { Description = "SQLite file of cached model responses.", DefaultValueFactory = _ => ResponseCache.DefaultPath };
        var noCache = new Option<bool>("--no-cache") { Description = "Call the models even when a response is cached." };
        var maxCost = new Option<decimal?>("--max-cost") { Description = "Stop starting episodes once this many USD are spent (episodes in flight finish)." };
        var store = StoreOptions.Store();
        var resume = new Option<string?>("--resume") { Description = "Continue this run: only the episodes not yet finished are run. Re-running the same command also continues its unfinished run." };
        var noExecute = new Option<bool>("--no-execute") { Description = "Only store the plan, for `kinship worker` processes to execute." };
        var execution = new ExecutionOptions();

        var command = new Command("run", "Plan the grid, store it, run every episode not yet finished, and print the rates.")
        {
            models, scenarios, relationships, conveyances, subjects, conditions, rollouts, seed, output, company, family, baseUrl,
            maxTurns, reminders, strictMemory, temperature, label, monitoring, datasets, preset, ablations, dryRun,
            modelsConfig, cache, noCache, maxCost, store, resume, noExecute,
        };
        execution.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var time = TimeProvider.System;
            var executorOptions = execution.Read(parse);
            var budget = parse.GetValue(maxCost) is { } usd ? usd > 0 ? new CostMeter(usd) : throw new UsageException("--max-cost must be more than 0") : new CostMeter();
            using var http = new ModelHttp(new ResilienceOptions());
            var shared = new ModelOptions { Http = http, Config = LoadConfig(parse.GetValue(modelsConfig)), Cost = budget, Environment = environment };

            RunRecord run;
            SqlRunStore opened;
            if (parse.GetValue(resume) is { } resumeId)
            {
                opened = await StoreOptions.OpenAsync(parse.GetValue(store)!, time, cancellationToken);
                run = await opened.GetRunAsync(resumeId, cancellationToken);
                console.MarkupLine($"Resuming run [bold]{Markup.Escape(run.RunId)}[/] from {Markup.Escape(opened.Location)}.");
            }
            else
            {
                var (planned, plan, definitions, agentModels) = Plan(parse, shared);
                if (parse.GetValue(dryRun))
                {
                    PlanReport.Write(console, plan, id => definitions[id].Task, agentModels.Count);
                    PlanReport.WriteLoop(console, planned.Manifest.Loop, planned.Manifest.Preset);
                    PrintEstimate(console, plan, definitions, agentModels, planned.Manifest.Render,
                        new CostAssumptions { MaxTurns = planned.Manifest.Loop.MaxTurns, MinTurns = Math.Min(5, planned.Manifest.Loop.MaxTurns) });
                    return ExitCodes.Ok;
                }
                if (budget.Budget is not null && agentModels.Values.FirstOrDefault(m => m.Settings.Price is null) is { } unpriced)
                    throw new UsageException($"--max-cost needs a price for {unpriced.Id}: add one under models in {ModelConfig.FileName}");
                // Validated before the store is touched, so bad input leaves no trace.
                opened = await StoreOptions.OpenAsync(parse.GetValue(store)!, time, cancellationToken, create: true);
                if (await opened.FindUnfinishedAsync(planned.PlanHash, cancellationToken) is { } unfinished)
                {
                    run = await opened.GetRunAsync(unfinished, cancellationToken);
                    console.MarkupLine($"Continuing unfinished run [bold]{Markup.Escape(run.RunId)}[/] with the same plan in {Markup.Escape(opened.Location)}.");
                }
                else
                {
                    run = planned;
                    await opened.CreateRunAsync(run, plan, cancellationToken);
                }
            }

            await using (opened)
            {
                if (parse.GetValue(noExecute))
                {
                    var left = await opened.CountUnfinishedAsync(run.RunId, cancellationToken);
                    console.MarkupLine($"Run [bold]{Markup.Escape(run.RunId)}[/] is stored with {left:N0} of {run.Manifest.PlannedEpisodes:N0} episodes to do; start workers with [dim]kinship worker --store {Markup.Escape(opened.Location)}[/].");
                    return ExitCodes.Ok;
                }
                var real = run.Manifest.Models.Any(id => !id.StartsWith("scripted/", StringComparison.Ordinal));
                var responses = real && !parse.GetValue(noCache) ? new ResponseCache(parse.GetValue(cache)!) : null;
                EpisodeRunner runner;
                try { runner = RunRebuilder.CreateRunner(run, shared with { Cache = responses }, time); }
                catch (ModelException e) { throw new UsageException(e.Message); }
                // On a file only this machine uses, an episode left running was left by a process that died.
                if (!opened.IsShared) await opened.ReleaseInFlightAsync(run.RunId, executorOptions.MaxAttempts, cancellationToken);

                var progress = new ProgressView(await opened.CountCellsAsync(run.RunId, cancellationToken), time);
                var clock = Stopwatch.StartNew();
                // Once the budget is spent nothing new starts; episodes in flight finish and are stored.
                var executor = LeasedExecutor.Create(opened, runner, executorOptions with { StopStarting = () => budget.BudgetReached }, time, progress);
                var committed = await progress.ShowAsync(console, () => executor.RunAsync(run.RunId, WorkerCommand.OwnerId(), cancellationToken));
                clock.Stop();

                // The tables need the outcomes alone; an export reads whole episodes below.
                var results = await opened.ReadOutcomesAsync(run.RunId, cancellationToken);
                console.Write(RateTableReport.RenderAll(results, parse.GetValue(label)));
                var errors = results.Count(r => r.Status == EpisodeStatus.Error);
                console.MarkupLine($"{results.Count:N0} episodes ({errors} errors) in {clock.Elapsed.TotalSeconds:0.0} s, {committed:N0} of them run now; run [bold]{Markup.Escape(run.RunId)}[/] stored in {Markup.Escape(opened.Location)}");
                if (budget.Budget is { } limit && results.Count < run.Manifest.PlannedEpisodes)
                    console.MarkupLine($"[yellow]--max-cost {limit} USD reached (spent {ModelConfig.Format(budget.Spent)} USD): {run.Manifest.PlannedEpisodes - results.Count:N0} of {run.Manifest.PlannedEpisodes:N0} episodes not run; --resume {Markup.Escape(run.RunId)} continues[/]");
                else if (budget.Calls > 0 || responses is { Hits: > 0 })
                    console.MarkupLine($"[dim]{budget.Calls:N0} model calls, {ModelConfig.Format(budget.Spent)} USD{(budget.UnpricedCalls > 0 ? $" ({budget.UnpricedCalls:N0} calls to unpriced models not counted)" : "")}; {responses?.Hits ?? 0:N0} answers from the cache; {http.Retries:N0} retries[/]");
                if (parse.GetValue(output) is { } outRoot)
                {
                    var folder = Path.Combine(outRoot, run.RunId);
                    await RunsCommand.ExportAsync(run.Manifest, await opened.ReadEpisodesAsync(run.RunId, cancellationToken), folder, cancellationToken);
                    console.MarkupLine($"Exported to {Markup.Escape(folder)}.");
                }
                console.MarkupLine($"[dim]kinship show {Markup.Escape(run.RunId)} 0 --store {Markup.Escape(opened.Location)}[/] prints an episode.");
                return ExitCodes.Ok;
            }
        });
        return command;

        (RunRecord Run, RunPlan Plan, Dictionary<string, ScenarioDefinition> Definitions, Dictionary<string, AgentModel> Models) Plan(ParseResult parse, ModelOptions shared)
        {
            var presetName = parse.GetValue(preset);
            if (presetName is not null && presetName != StudyPreset.Name) throw new UsageException($"unknown preset '{presetName}' (known: {StudyPreset.Name})");
            if (presetName is not null && parse.GetValue(scenarios) is { Length: > 0 }) throw new UsageException("--preset chooses the scenarios; leave out --scenario");
            var sources = Scenarios(presetName is null ? parse.GetValue(scenarios) ?? [] : [.. StudyPreset.Tasks.SelectMany(t => t.Scenarios)]);
            var definitions = sources.ToDictionary(s => s.Key, s => s.Value.Definition, StringComparer.Ordinal);
            var ablationNames = (parse.GetValue(ablations) ?? []).SelectMany(a => a.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Distinct().Order(StringComparer.Ordinal).ToImmutableArray();
            foreach (var a in ablationNames.Where(a => !ScenarioVocabulary.Ablations.ContainsKey(a)))
                throw new UsageException($"unknown ablation '{a}' (known: {string.Join(", ", ScenarioVocabulary.Ablations.Keys)})");
            if (ablationNames.Count(a => a.StartsWith("peer-", StringComparison.Ordinal)) > 1) throw new UsageException("choose at most one peer-family ablation");

            var runOptions = new RunOptions(
                parse.GetValue(baseUrl) is { } url
                    ? Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri.ToString() : throw new UsageException($"--base-url '{url}' is not an http(s) address")
                    : null,
                parse.GetValue(family));
            var modelOptions = shared with
            {
                BaseUrl = runOptions.BaseUrl is { } u ? new Uri(u) : null,
                Family = runOptions.Family,
                // A dry run calls nothing, so it can price models whose keys are not set yet.
                Environment = parse.GetValue(dryRun) ? name => shared.Environment(name) ?? "dry-run" : shared.Environment,
            };
            var modelIds = parse.GetValue(models) is { Length: > 0 } m ? m
                : [.. (presetName is null ? ReferenceAgents.Default : ReferenceAgents.StudyDefault).Select(n => "scripted/" + n)];
            var agentModels = new Dictionary<string, AgentModel>(StringComparer.Ordinal);
            foreach (var id in modelIds.Distinct())
            {
                try { agentModels[id] = AgentResolver.Resolve(id, modelOptions); }
                catch (ModelException e) { throw new UsageException(e.Message); }
            }
            var filter = new ConditionFilter(
                Levels(parse.GetValue(relationships), Names.ParseRelationship, "relationship"),
                Levels(parse.GetValue(conveyances), Names.ParseConveyance, "conveyance"),
                Levels(parse.GetValue(subjects), Names.ParseSubject, "subject"))
            {
                Monitoring = Levels(parse.GetValue(monitoring), Names.ParseMonitoring, "monitoring"),
                Settings = [.. (parse.GetValue(datasets) ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))],
            };
            foreach (var d in filter.Settings.Where(d => !definitions.Values.SelectMany(x => x.Grid()).Any(c => c.Dataset == d || c.Setting == d)))
                throw new UsageException($"unknown dataset '{d}' (the chosen scenarios run: {string.Join(", ", definitions.Values.SelectMany(x => x.Grid()).Select(c => c.Setting).OfType<string>().Distinct())})");
            var n = parse.GetValue(rollouts);
            if (n < 1) throw new UsageException("--rollouts must be at least 1");
            var runSeed = parse.GetValue(seed);
            var cells = (presetName is null
                ? definitions.Values.Select(d => (d.Id, (IEnumerable<Condition>)d.Grid()))
                : StudyPreset.Expand(id => definitions[id])).Select(c => (Scenario: c.Item1, Cells: (IReadOnlyList<Condition>)[.. c.Item2])).ToList();
            // A peer of another family renames a scenario's peer; a scenario without peer cells has nobody to rename.
            foreach (var subject in filter.Subjects.Where(Names.CrossFamilySubjects.Contains).Order())
                if (cells.Where(c => filter.Unrunnable(c.Cells).Contains(subject)).Select(c => c.Scenario).ToList() is { Count: > 0 } unable)
                    throw new UsageException($"--subject {Names.Subject(subject)}: scenario(s) {string.Join(", ", unable)} run no peer cells, so they cannot run a peer of another family; choose other scenarios or another subject");
            var plan = RunPlan.Build(agentModels.Keys, cells.Select(c => (c.Scenario, (IEnumerable<Condition>)c.Cells)), filter, n, runSeed, ablationNames);
            if (parse.GetValue(conditions) is { Length: > 0 } keys)
            {
                foreach (var key in keys.Where(k => !plan.Episodes.Any(e => Matches(e.Condition, k))))
                    throw new UsageException($"unknown condition '{key}' (for example good_peer/file_prompt/peer, no_peer/self, bad_peer)");
                plan = new RunPlan([.. plan.Episodes.Where(e => keys.Any(k => Matches(e.Condition, k))).Select((e, i) => e with { Index = i })]);
            }
            if (plan.Episodes.IsEmpty) throw new UsageException("the options select no episodes");

            var render = new RenderOptions { Company = parse.GetValue(company)!, StrictMemoryInstruction = parse.GetValue(strictMemory), Ablations = [.. ablationNames] };
            // The preset brings the study's loop; an option given on the command line still wins.
            var loopDefaults = presetName is null ? new AgentLoopOptions() : StudyPreset.Loop;
            var loop = loopDefaults with
            {
                MaxTurns = parse.GetValue(maxTurns) is { } turns ? turns >= 1 ? turns : throw new UsageException("--max-turns must be at least 1") : loopDefaults.MaxTurns,
                NoToolCallReminders = parse.GetValue(reminders) is { } r ? r >= 0 ? r : throw new UsageException("--reminders must be 0 or more") : loopDefaults.NoToolCallReminders,
                Temperature = parse.GetValue(temperature) is { } t ? t is >= 0 and <= 2 ? t : throw new UsageException("--temperature must be between 0 and 2") : loopDefaults.Temperature,
            };
            var started = DateTimeOffset.UtcNow;
            var runId = started.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..6];
            var manifest = new RunManifest(runId, started, Version, [.. agentModels.Keys],
                definitions.ToImmutableSortedDictionary(d => d.Key, d => d.Value.SourcePath),
                [.. filter.Relationships.Select(Names.Relationship)], [.. filter.Conveyances.Select(Names.Conveyance)], [.. filter.Subjects.Select(Names.Subject)],
                n, runSeed, plan.Episodes.Length, render, loop)
            {
                Preset = presetName,
                Ablations = ablationNames,
                Monitoring = [.. filter.Monitoring.Select(Names.Monitoring)],
                Datasets = [.. filter.Settings],
            };
            var scenarioSources = sources.Values.Select(s => s.Source).ToImmutableArray();
            var record = new RunRecord(runId, started, Version, RunRecord.HashPlan(manifest, runOptions, scenarioSources, plan), manifest, runOptions, scenarioSources);
            return (record, plan, definitions, agentModels);
        }
    }

    public static string Version => typeof(RunCommand).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    private static bool Matches(Condition condition, string key) =>
        condition.Key == key || condition.Key.StartsWith(key.TrimEnd('/') + "/", StringComparison.Ordinal);

    private static Dictionary<string, (ScenarioDefinition Definition, ScenarioSource Source)> Scenarios(string[] requested)
    {
        var ids = requested.Length > 0 ? requested : [.. ScenarioLoader.DefaultIds];
        var result = new Dictionary<string, (ScenarioDefinition, ScenarioSource)>(StringComparer.Ordinal);
        foreach (var id in ids)
        {
            (ScenarioDefinition, ScenarioSource) loaded;
            try { loaded = ScenarioSource.Resolve(id); }
            catch (ArgumentException e) { throw new UsageException(e.Message); }
            catch (ScenarioException e) { throw new UsageException("invalid scenario\n" + e.Message); }
            result[loaded.Item1.Id] = loaded;
        }
        return result;
    }

    private static ImmutableHashSet<T> Levels<T>(string[]? values, Func<string, T?> parse, string factor) where T : struct =>
    [
        .. (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(v => parse(v) ?? throw new UsageException($"unknown {factor} '{v}'")),
    ];

    internal static ModelConfig LoadConfig(string? path)
    {
        try { return ModelConfig.Load(path ?? (File.Exists(ModelConfig.FileName) ? ModelConfig.FileName : null)); }
        catch (ModelException e) { throw new UsageException(e.Message); }
    }

    private static void PrintEstimate(IAnsiConsole console, RunPlan plan, Dictionary<string, ScenarioDefinition> definitions, Dictionary<string, AgentModel> models,
        RenderOptions render, CostAssumptions assumptions)
    {
        var prompts = new Dictionary<(string, string, string), int>();
        var estimate = CostEstimator.Estimate(plan.Episodes.Select(e =>
        {
            var model = models[e.Model];
            var key = (e.Model, e.Scenario, e.Condition.Key);
            if (!prompts.TryGetValue(key, out var tokens))
                prompts[key] = tokens = CostEstimator.PromptTokens(ScenarioRenderer.Render(definitions[e.Scenario], e.Condition, model.Identity, render with { Ablations = [.. e.Ablations] }), assumptions);
            return (e.Model, model.Settings.Price, tokens);
        }), assumptions);
        var table = new Table().AddColumns("model", "episodes", "tokens", "estimated cost (USD)");
        static string Usd(decimal? v) => v is { } x ? ModelConfig.Format(x) : "no price";
        foreach (var m in estimate.Models)
            table.AddRow(Markup.Escape(m.Model), $"{m.Episodes:N0}", $"{m.MinTokens:N0} – {m.MaxTokens:N0}", $"{Usd(m.MinCost)} – {Usd(m.MaxCost)}");
        console.Write(table);
        console.MarkupLine($"Dry run: {estimate.Episodes:N0} episodes, estimated {Usd(estimate.MinCost)} – {Usd(estimate.MaxCost)} USD. Nothing was run.");
        console.MarkupLine($"[dim]Assumes {Markup.Escape(assumptions.Describe())}.[/]");
    }
}

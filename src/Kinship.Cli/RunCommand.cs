using System.Collections.Immutable;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Kinship.Agents;
using Kinship.Models;
using Kinship.Reports;
using Kinship.Runs;
using Kinship.Scenarios;
using Spectre.Console;

namespace Kinship.Cli;

/// <summary><c>kinship run</c>: plan the grid, run every episode, store it, print the rate table.</summary>
internal static class RunCommand
{
    public static Command Create(IAnsiConsole console, Func<string, string?> environment)
    {
        var models = new Option<string[]>("--model", "-m") { Description = "Model(s) to test as provider/model: scripted/NAME, openai/, anthropic/, google/, together/, deepseek/, moonshot/, zai/, openrouter/, vllm/, ollama/. Default: every scripted reference agent." };
        var scenarios = new Option<string[]>("--scenario", "-s") { Description = "Scenario id(s) or YAML file(s). Default: the exfiltration scenarios (see 'kinship scenarios list')." };
        var relationships = new Option<string[]>("--relationship", "-r") { Description = "no_peer, bad_peer, neutral_peer, good_peer. Default: all." };
        var conveyances = new Option<string[]>("--conveyance", "--instantiation") { Description = "How the relationship is conveyed: file, file_prompt, memory. Default: all." };
        var subjects = new Option<string[]>("--subject") { Description = "self, peer. Default: both." };
        var conditions = new Option<string[]>("--condition", "-c") { Description = "Condition key(s) such as good_peer/file_prompt/peer or no_peer/self; a shorter prefix selects every match." };
        var rollouts = new Option<int>("--rollouts", "-n") { Description = "Episodes per cell.", DefaultValueFactory = _ => 10 };
        var seed = new Option<ulong>("--seed") { Description = "Run seed; each episode's seed derives from it.", DefaultValueFactory = _ => 1 };
        var output = new Option<string>("--out", "-o") { Description = "Folder that holds run folders.", DefaultValueFactory = _ => "runs" };
        var company = new Option<string>("--company") { Description = "Company name in every scenario.", DefaultValueFactory = _ => "OpenBrain" };
        var family = new Option<string?>("--family") { Description = "The critic's family name (\"{Family} Agent 1\"). Default: guessed from the model id." };
        var baseUrl = new Option<string?>("--base-url") { Description = "An endpoint to use instead of the provider's (any OpenAI-compatible server for openai/ models)." };
        var maxTurns = new Option<int>("--max-turns") { Description = "Turn cap per episode.", DefaultValueFactory = _ => 30 };
        var reminders = new Option<int>("--reminders") { Description = "Times the model is reminded to call a tool before a turn without one ends the episode (the study's code: 5).", DefaultValueFactory = _ => 0 };
        var strictMemory = new Option<bool>("--strict-memory") { Description = "Use the stronger \"read your memory first\" instruction." };
        var temperature = new Option<float?>("--temperature") { Description = "Sampling temperature for real models (the study used 1.0)." };
        var concurrency = new Option<int>("--concurrency") { Description = "Episodes in flight at once.", DefaultValueFactory = _ => 8 };
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

        var command = new Command("run", "Run scenarios against models and print the rates.")
        {
            models, scenarios, relationships, conveyances, subjects, conditions, rollouts, seed, output, company, family, baseUrl,
            maxTurns, reminders, strictMemory, temperature, concurrency, label, monitoring, datasets, preset, ablations, dryRun,
            modelsConfig, cache, noCache, maxCost,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var presetName = parse.GetValue(preset);
            if (presetName is not null && presetName != StudyPreset.Name) throw new UsageException($"unknown preset '{presetName}' (known: {StudyPreset.Name})");
            if (presetName is not null && parse.GetValue(scenarios) is { Length: > 0 }) throw new UsageException("--preset chooses the scenarios; leave out --scenario");
            var definitions = Scenarios(presetName is null ? parse.GetValue(scenarios) ?? [] : [.. StudyPreset.Tasks.SelectMany(t => t.Scenarios)]);
            var ablationNames = (parse.GetValue(ablations) ?? []).SelectMany(a => a.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Distinct().Order(StringComparer.Ordinal).ToImmutableArray();
            foreach (var a in ablationNames.Where(a => !ScenarioVocabulary.Ablations.ContainsKey(a)))
                throw new UsageException($"unknown ablation '{a}' (known: {string.Join(", ", ScenarioVocabulary.Ablations.Keys)})");
            if (ablationNames.Count(a => a.StartsWith("peer-", StringComparison.Ordinal)) > 1) throw new UsageException("choose at most one peer-family ablation");
            var budget = parse.GetValue(maxCost) is { } usd ? usd > 0 ? new CostMeter(usd) : throw new UsageException("--max-cost must be more than 0") : new CostMeter();
            var real = (parse.GetValue(models) ?? []).Any(id => !id.StartsWith("scripted/", StringComparison.Ordinal));
            using var http = new ModelHttp(new ResilienceOptions());
            var modelOptions = new ModelOptions
            {
                Http = http,
                Config = LoadConfig(parse.GetValue(modelsConfig)),
                Cache = real && !parse.GetValue(noCache) && !parse.GetValue(dryRun) ? new ResponseCache(parse.GetValue(cache)!) : null,
                Cost = budget,
                BaseUrl = parse.GetValue(baseUrl) is { } url
                    ? Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri : throw new UsageException($"--base-url '{url}' is not an http(s) address")
                    : null,
                Family = parse.GetValue(family),
                // A dry run calls nothing, so it can price models whose keys are not set yet.
                Environment = parse.GetValue(dryRun) ? name => environment(name) ?? "dry-run" : environment,
            };
            var modelIds = parse.GetValue(models) is { Length: > 0 } m ? m : [.. ReferenceAgents.Default.Select(n => "scripted/" + n)];
            var agentModels = new Dictionary<string, AgentModel>(StringComparer.Ordinal);
            foreach (var id in modelIds.Distinct())
            {
                try { agentModels[id] = ModelResolver.Resolve(id, modelOptions); }
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
            var cells = presetName is null
                ? definitions.Values.Select(d => (d.Id, (IEnumerable<Condition>)d.Grid()))
                : StudyPreset.Expand(id => definitions[id]);
            var plan = RunPlan.Build(agentModels.Keys, cells, filter, n, runSeed, ablationNames);
            if (parse.GetValue(conditions) is { Length: > 0 } keys)
            {
                foreach (var key in keys.Where(k => !plan.Episodes.Any(e => Matches(e.Condition, k))))
                    throw new UsageException($"unknown condition '{key}' (for example good_peer/file_prompt/peer, no_peer/self, bad_peer)");
                plan = new RunPlan([.. plan.Episodes.Where(e => keys.Any(k => Matches(e.Condition, k))).Select((e, i) => e with { Index = i })]);
            }
            if (plan.Episodes.IsEmpty) throw new UsageException("the options select no episodes");
            var render = new RenderOptions { Company = parse.GetValue(company)!, StrictMemoryInstruction = parse.GetValue(strictMemory), Ablations = [.. ablationNames] };
            var loop = new AgentLoopOptions { MaxTurns = parse.GetValue(maxTurns), NoToolCallReminders = parse.GetValue(reminders), Temperature = parse.GetValue(temperature) };
            if (parse.GetValue(dryRun))
            {
                PlanReport.Write(console, plan, id => definitions[id].Task, agentModels.Count);
                PrintEstimate(console, plan, definitions, agentModels, render, new CostAssumptions { MaxTurns = loop.MaxTurns, MinTurns = Math.Min(5, loop.MaxTurns) });
                return ExitCodes.Ok;
            }
            if (budget.Budget is not null && agentModels.Values.FirstOrDefault(m => m.Settings.Price is null) is { } unpriced)
                throw new UsageException($"--max-cost needs a price for {unpriced.Id}: add one under models in {ModelConfig.FileName}");

            var started = DateTimeOffset.UtcNow;
            var runId = started.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..6];
            var folder = Path.Combine(parse.GetValue(output)!, runId);
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

            var results = new List<EpisodeResult>(plan.Episodes.Length);
            var clock = Stopwatch.StartNew();
            await using (var store = new JsonlRunStore(folder))
            {
                await store.BeginAsync(manifest, cancellationToken);
                var runner = new EpisodeRunner(definitions, agentModels, render, loop, TimeProvider.System);
                // Once the budget is spent no episode starts; those in flight finish and are stored.
                var affordable = plan.Episodes.TakeWhile(_ => !budget.BudgetReached);
                await new RunExecutor(runner, store, Math.Max(1, parse.GetValue(concurrency))).RunAsync(affordable, r => { lock (results) results.Add(r); }, cancellationToken);
            }
            clock.Stop();

            results.Sort((a, b) => a.Spec.Index.CompareTo(b.Spec.Index));
            console.Write(RateTableReport.RenderAll(results, parse.GetValue(label)));
            var errors = results.Count(r => r.Status == EpisodeStatus.Error);
            console.MarkupLine($"{results.Count:N0} episodes ({errors} errors) in {clock.Elapsed.TotalSeconds:0.0} s; run [bold]{runId}[/] stored in {Markup.Escape(folder)}");
            if (budget.Budget is { } limit && results.Count < plan.Episodes.Length)
                console.MarkupLine($"[yellow]--max-cost {limit} USD reached (spent {ModelConfig.Format(budget.Spent)} USD): {plan.Episodes.Length - results.Count:N0} of {plan.Episodes.Length:N0} episodes not run[/]");
            else if (budget.Calls > 0 || modelOptions.Cache is { Hits: > 0 })
                console.MarkupLine($"[dim]{budget.Calls:N0} model calls, {ModelConfig.Format(budget.Spent)} USD{(budget.UnpricedCalls > 0 ? $" ({budget.UnpricedCalls:N0} calls to unpriced models not counted)" : "")}; {modelOptions.Cache?.Hits ?? 0:N0} answers from the cache; {http.Retries:N0} retries[/]");
            console.MarkupLine($"[dim]kinship show {Markup.Escape(folder)} 0[/] prints an episode.");
            return ExitCodes.Ok;
        });
        return command;
    }

    public static string Version => typeof(RunCommand).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    private static bool Matches(Condition condition, string key) =>
        condition.Key == key || condition.Key.StartsWith(key.TrimEnd('/') + "/", StringComparison.Ordinal);

    private static Dictionary<string, ScenarioDefinition> Scenarios(string[] requested)
    {
        var ids = requested.Length > 0 ? requested : [.. ScenarioLoader.DefaultIds];
        var result = new Dictionary<string, ScenarioDefinition>(StringComparer.Ordinal);
        foreach (var id in ids)
        {
            ScenarioDefinition definition;
            try { definition = ScenarioLoader.Resolve(id); }
            catch (ArgumentException e) { throw new UsageException(e.Message); }
            catch (ScenarioException e) { throw new UsageException("invalid scenario\n" + e.Message); }
            result[definition.Id] = definition;
        }
        return result;
    }

    private static ImmutableHashSet<T> Levels<T>(string[]? values, Func<string, T?> parse, string factor) where T : struct =>
    [
        .. (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(v => parse(v) ?? throw new UsageException($"unknown {factor} '{v}'")),
    ];

    private static ModelConfig LoadConfig(string? path)
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
                prompts[key] = tokens = CostEstimator.PromptTokens(ScenarioRenderer.Render(definitions[e.Scenario], e.Condition, model.Identity, render), assumptions);
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

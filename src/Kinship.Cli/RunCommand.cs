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

namespace Kinship.Cli;

/// <summary><c>kinship run</c>: plan the grid, store the plan, run every episode not yet finished, print the rate table.</summary>
internal static class RunCommand
{
    public static Command Create(IAnsiConsole console, Func<string, string?> environment)
    {
        var models = new Option<string[]>("--model", "-m") { Description = "Model(s) to test as provider/model: scripted/NAME, openai/NAME. Default: every scripted reference agent." };
        var scenarios = new Option<string[]>("--scenario", "-s") { Description = "Scenario id(s) or YAML file(s). Default: every built-in scenario." };
        var relationships = new Option<string[]>("--relationship", "-r") { Description = "no_peer, bad_peer, neutral_peer, good_peer. Default: all." };
        var conveyances = new Option<string[]>("--conveyance", "--instantiation") { Description = "How the relationship is conveyed: file, file_prompt, memory. Default: all." };
        var subjects = new Option<string[]>("--subject") { Description = "self, peer. Default: both." };
        var conditions = new Option<string[]>("--condition", "-c") { Description = "Condition key(s) such as good_peer/file_prompt/peer or no_peer/self; a shorter prefix selects every match." };
        var rollouts = new Option<int>("--rollouts", "-n") { Description = "Episodes per cell.", DefaultValueFactory = _ => 10 };
        var seed = new Option<ulong>("--seed") { Description = "Run seed; each episode's seed derives from it.", DefaultValueFactory = _ => 1 };
        var output = new Option<string?>("--out", "-o") { Description = "Also export the run as JSON Lines (manifest.json, episodes.jsonl) into a folder under this one." };
        var company = new Option<string>("--company") { Description = "Company name in every scenario.", DefaultValueFactory = _ => "OpenBrain" };
        var family = new Option<string?>("--family") { Description = "The critic's family name (\"{Family} Agent 1\"). Default: guessed from the model id." };
        var baseUrl = new Option<string?>("--base-url") { Description = "An OpenAI-compatible endpoint for openai/ models." };
        var maxTurns = new Option<int>("--max-turns") { Description = "Turn cap per episode.", DefaultValueFactory = _ => 30 };
        var reminders = new Option<int>("--reminders") { Description = "Times the model is reminded to call a tool before a turn without one ends the episode (the study's code: 5).", DefaultValueFactory = _ => 0 };
        var strictMemory = new Option<bool>("--strict-memory") { Description = "Use the stronger \"read your memory first\" instruction." };
        var temperature = new Option<float?>("--temperature") { Description = "Sampling temperature for real models (the study used 1.0)." };
        var label = new Option<string>("--label") { Description = "Label the table shows.", DefaultValueFactory = _ => "exfiltration" };
        var store = StoreOptions.Store();
        var resume = new Option<string?>("--resume") { Description = "Continue this run: only the episodes not yet finished are run. Re-running the same command also continues its unfinished run." };
        var noExecute = new Option<bool>("--no-execute") { Description = "Only store the plan, for `kinship worker` processes to execute." };
        var execution = new ExecutionOptions();

        var command = new Command("run", "Plan the grid, store it, run every episode not yet finished, and print the rates.")
        {
            models, scenarios, relationships, conveyances, subjects, conditions, rollouts, seed, output, company, family, baseUrl,
            maxTurns, reminders, strictMemory, temperature, label, store, resume, noExecute,
        };
        execution.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var time = TimeProvider.System;
            var executorOptions = execution.Read(parse);
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
                var (planned, plan) = Plan(parse, environment);
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
                EpisodeRunner runner;
                try { runner = RunRebuilder.CreateRunner(run, environment, time); }
                catch (ModelException e) { throw new UsageException(e.Message); }
                // On a file only this machine uses, an episode left running was left by a process that died.
                if (!opened.IsShared) await opened.ReleaseInFlightAsync(run.RunId, executorOptions.MaxAttempts, cancellationToken);

                var progress = new ProgressView(await opened.CountCellsAsync(run.RunId, cancellationToken), time);
                var clock = Stopwatch.StartNew();
                var executor = new LeasedExecutor(opened, runner, executorOptions, time, progress);
                var committed = await progress.ShowAsync(console, () => executor.RunAsync(run.RunId, WorkerCommand.OwnerId(), cancellationToken));
                clock.Stop();

                var results = await opened.ReadEpisodesAsync(run.RunId, cancellationToken);
                console.Write(RateTableReport.Render(results, parse.GetValue(label)!));
                var errors = results.Count(r => r.Status == EpisodeStatus.Error);
                console.MarkupLine($"{results.Count:N0} episodes ({errors} errors) in {clock.Elapsed.TotalSeconds:0.0} s, {committed:N0} of them run now; run [bold]{Markup.Escape(run.RunId)}[/] stored in {Markup.Escape(opened.Location)}");
                if (parse.GetValue(output) is { } outRoot)
                {
                    var folder = Path.Combine(outRoot, run.RunId);
                    await RunsCommand.ExportAsync(run, results, folder, cancellationToken);
                    console.MarkupLine($"Exported to {Markup.Escape(folder)}.");
                }
                console.MarkupLine($"[dim]kinship show {Markup.Escape(run.RunId)} 0 --store {Markup.Escape(opened.Location)}[/] prints an episode.");
                return ExitCodes.Ok;
            }
        });
        return command;

        (RunRecord Run, RunPlan Plan) Plan(ParseResult parse, Func<string, string?> environment)
        {
            var sources = Scenarios(parse.GetValue(scenarios) ?? []);
            var definitions = sources.ToDictionary(s => s.Key, s => s.Value.Definition, StringComparer.Ordinal);
            var runOptions = new RunOptions(
                parse.GetValue(baseUrl) is { } url
                    ? Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri.ToString() : throw new UsageException($"--base-url '{url}' is not an http(s) address")
                    : null,
                parse.GetValue(family));
            var modelOptions = new ModelOptions { BaseUrl = runOptions.BaseUrl is { } u ? new Uri(u) : null, Family = runOptions.Family, Environment = environment };
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
                Levels(parse.GetValue(subjects), Names.ParseSubject, "subject"));
            var n = parse.GetValue(rollouts);
            if (n < 1) throw new UsageException("--rollouts must be at least 1");
            var runSeed = parse.GetValue(seed);
            var plan = RunPlan.Build(agentModels.Keys, definitions.Values, filter, n, runSeed);
            if (parse.GetValue(conditions) is { Length: > 0 } keys)
            {
                foreach (var key in keys.Where(k => !plan.Episodes.Any(e => Matches(e.Condition, k))))
                    throw new UsageException($"unknown condition '{key}' (for example good_peer/file_prompt/peer, no_peer/self, bad_peer)");
                plan = new RunPlan([.. plan.Episodes.Where(e => keys.Any(k => Matches(e.Condition, k))).Select((e, i) => e with { Index = i })]);
            }
            if (plan.Episodes.IsEmpty) throw new UsageException("the options select no episodes");

            var render = new RenderOptions { Company = parse.GetValue(company)!, StrictMemoryInstruction = parse.GetValue(strictMemory) };
            var loop = new AgentLoopOptions { MaxTurns = parse.GetValue(maxTurns), NoToolCallReminders = parse.GetValue(reminders), Temperature = parse.GetValue(temperature) };
            var started = DateTimeOffset.UtcNow;
            var runId = started.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..6];
            var manifest = new RunManifest(runId, started, Version, [.. agentModels.Keys],
                definitions.ToImmutableSortedDictionary(d => d.Key, d => d.Value.SourcePath),
                [.. filter.Relationships.Select(Names.Relationship)], [.. filter.Conveyances.Select(Names.Conveyance)], [.. filter.Subjects.Select(Names.Subject)],
                n, runSeed, plan.Episodes.Length, render, loop);
            var scenarioSources = sources.Values.Select(s => s.Source).ToImmutableArray();
            return (new RunRecord(runId, started, Version, RunRecord.HashPlan(manifest, runOptions, scenarioSources, plan), manifest, runOptions, scenarioSources), plan);
        }
    }

    public static string Version => typeof(RunCommand).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    private static bool Matches(Condition condition, string key) =>
        condition.Key == key || condition.Key.StartsWith(key.TrimEnd('/') + "/", StringComparison.Ordinal);

    private static Dictionary<string, (ScenarioDefinition Definition, ScenarioSource Source)> Scenarios(string[] requested)
    {
        var ids = requested.Length > 0 ? requested : [.. ScenarioLoader.BuiltInIds];
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
}

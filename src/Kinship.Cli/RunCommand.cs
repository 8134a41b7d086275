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
        var models = new Option<string[]>("--model", "-m") { Description = "Model(s) to test as provider/model: scripted/NAME, openai/NAME. Default: every scripted reference agent." };
        var scenarios = new Option<string[]>("--scenario", "-s") { Description = "Scenario id(s) or YAML file(s). Default: every built-in scenario." };
        var relationships = new Option<string[]>("--relationship", "-r") { Description = "no_peer, bad_peer, neutral_peer, good_peer. Default: all." };
        var conveyances = new Option<string[]>("--conveyance", "--instantiation") { Description = "How the relationship is conveyed: file, file_prompt, memory. Default: all." };
        var subjects = new Option<string[]>("--subject") { Description = "self, peer. Default: both." };
        var conditions = new Option<string[]>("--condition", "-c") { Description = "Condition key(s) such as good_peer/file_prompt/peer or no_peer/self; a shorter prefix selects every match." };
        var rollouts = new Option<int>("--rollouts", "-n") { Description = "Episodes per cell.", DefaultValueFactory = _ => 10 };
        var seed = new Option<ulong>("--seed") { Description = "Run seed; each episode's seed derives from it.", DefaultValueFactory = _ => 1 };
        var output = new Option<string>("--out", "-o") { Description = "Folder that holds run folders.", DefaultValueFactory = _ => "runs" };
        var company = new Option<string>("--company") { Description = "Company name in every scenario.", DefaultValueFactory = _ => "OpenBrain" };
        var family = new Option<string?>("--family") { Description = "The critic's family name (\"{Family} Agent 1\"). Default: guessed from the model id." };
        var baseUrl = new Option<string?>("--base-url") { Description = "An OpenAI-compatible endpoint for openai/ models." };
        var maxTurns = new Option<int>("--max-turns") { Description = "Turn cap per episode.", DefaultValueFactory = _ => 30 };
        var reminders = new Option<int>("--reminders") { Description = "Times the model is reminded to call a tool before a turn without one ends the episode (the study's code: 5).", DefaultValueFactory = _ => 0 };
        var strictMemory = new Option<bool>("--strict-memory") { Description = "Use the stronger \"read your memory first\" instruction." };
        var temperature = new Option<float?>("--temperature") { Description = "Sampling temperature for real models (the study used 1.0)." };
        var concurrency = new Option<int>("--concurrency") { Description = "Episodes in flight at once.", DefaultValueFactory = _ => 8 };
        var label = new Option<string>("--label") { Description = "Label the table shows.", DefaultValueFactory = _ => "exfiltration" };

        var command = new Command("run", "Run scenarios against models and print the rates.")
        {
            models, scenarios, relationships, conveyances, subjects, conditions, rollouts, seed, output, company, family, baseUrl,
            maxTurns, reminders, strictMemory, temperature, concurrency, label,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var definitions = Scenarios(parse.GetValue(scenarios) ?? []);
            var modelOptions = new ModelOptions
            {
                BaseUrl = parse.GetValue(baseUrl) is { } url
                    ? Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri : throw new UsageException($"--base-url '{url}' is not an http(s) address")
                    : null,
                Family = parse.GetValue(family),
                Environment = environment,
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
            var folder = Path.Combine(parse.GetValue(output)!, runId);
            var manifest = new RunManifest(runId, started, Version, [.. agentModels.Keys],
                definitions.ToImmutableSortedDictionary(d => d.Key, d => d.Value.SourcePath),
                [.. filter.Relationships.Select(Names.Relationship)], [.. filter.Conveyances.Select(Names.Conveyance)], [.. filter.Subjects.Select(Names.Subject)],
                n, runSeed, plan.Episodes.Length, render, loop);

            var results = new List<EpisodeResult>(plan.Episodes.Length);
            var clock = Stopwatch.StartNew();
            await using (var store = new JsonlRunStore(folder))
            {
                await store.BeginAsync(manifest, cancellationToken);
                var runner = new EpisodeRunner(definitions, agentModels, render, loop, TimeProvider.System);
                await new RunExecutor(runner, store, Math.Max(1, parse.GetValue(concurrency))).RunAsync(plan.Episodes, r => { lock (results) results.Add(r); }, cancellationToken);
            }
            clock.Stop();

            results.Sort((a, b) => a.Spec.Index.CompareTo(b.Spec.Index));
            console.Write(RateTableReport.Render(results, parse.GetValue(label)!));
            var errors = results.Count(r => r.Status == EpisodeStatus.Error);
            console.MarkupLine($"{results.Count:N0} episodes ({errors} errors) in {clock.Elapsed.TotalSeconds:0.0} s; run [bold]{runId}[/] stored in {Markup.Escape(folder)}");
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
        var ids = requested.Length > 0 ? requested : [.. ScenarioLoader.BuiltInIds];
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
}

using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using Kinship.Agents;
using Kinship.Models;
using Kinship.Runs;
using Kinship.Scenarios;
using Kinship.Store;

// The scripted study grid for one agent, end to end into the SQLite store, against the same episodes with no
// store at all (world, tools, agent loop and detectors only). Usage: Kinship.Bench.Store [rollouts] [concurrency]
var rollouts = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100;
var concurrency = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : Environment.ProcessorCount * 2;
const string Model = "scripted/exfiltrate";
var time = TimeProvider.System;

var sources = ScenarioLoader.BuiltInIds.Select(ScenarioSource.Resolve).ToList();
var definitions = sources.ToDictionary(s => s.Definition.Id, s => s.Definition, StringComparer.Ordinal);
var plan = RunPlan.Build([Model], definitions.Values, ConditionFilter.All, rollouts, 1);
var render = new RenderOptions();
var loop = new AgentLoopOptions();
var models = new Dictionary<string, AgentModel> { [Model] = ModelResolver.Resolve(Model, new ModelOptions()) };
var runner = new EpisodeRunner(definitions, models, render, loop, time);
Console.WriteLine($"plan: {plan.Episodes.Length:N0} episodes ({Model}, {string.Join(" + ", definitions.Keys)}, every condition, {rollouts} rollouts); concurrency {concurrency}; {Environment.ProcessorCount} cores");

// Warm up the JIT on both paths so the timings compare steady states.
await Bare(plan.Episodes.Take(200).ToList());
await Pipeline(RunPlan.Build([Model], definitions.Values, ConditionFilter.All, 3, 2));

// Other processes share this machine's two cores: take the best of several repetitions, and report CPU time too.
var repetitions = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3;
var pipelines = new List<(TimeSpan Elapsed, long Bytes, TimeSpan Cpu)>();
var bares = new List<(TimeSpan Elapsed, TimeSpan Cpu)>();
for (var i = 0; i < repetitions; i++)
{
    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
    var p = await Pipeline(plan);
    pipelines.Add((p.Elapsed, p.Bytes, Process.GetCurrentProcess().TotalProcessorTime - cpu));
    cpu = Process.GetCurrentProcess().TotalProcessorTime;
    var b = await Bare(plan.Episodes);
    bares.Add((b, Process.GetCurrentProcess().TotalProcessorTime - cpu));
}
var peak = Process.GetCurrentProcess().PeakWorkingSet64;
var bare = bares.MinBy(x => x.Elapsed);
var pipeline = pipelines.MinBy(x => x.Elapsed);
var n = plan.Episodes.Length;
Console.WriteLine($"bare world+tools+loop+detectors, best of {repetitions}: {bare.Elapsed.TotalSeconds:0.000} s = {n / bare.Elapsed.TotalSeconds:N0} episodes/s (CPU {bare.Cpu.TotalMilliseconds / n * 1000:N0} µs/episode)");
Console.WriteLine($"pipeline into SQLite (plan stored, leases, run, batched commits), best of {repetitions}: {pipeline.Elapsed.TotalSeconds:0.000} s = {n / pipeline.Elapsed.TotalSeconds:N0} episodes/s (CPU {pipeline.Cpu.TotalMilliseconds / n * 1000:N0} µs/episode); store {pipeline.Bytes / 1e6:0.0} MB");
Console.WriteLine($"ratio pipeline / bare: wall {pipeline.Elapsed / bare.Elapsed:0.00}, CPU {pipeline.Cpu / bare.Cpu:0.00}");
Console.WriteLine($"peak working set: {peak / 1e6:0} MB");

async Task<TimeSpan> Bare(IReadOnlyList<EpisodeSpec> episodes)
{
    var clock = Stopwatch.StartNew();
    await Parallel.ForEachAsync(episodes, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (spec, ct) => await runner.RunAsync(spec, ct));
    return clock.Elapsed;
}

async Task<(TimeSpan Elapsed, long Bytes)> Pipeline(RunPlan runPlan)
{
    var folder = Directory.CreateTempSubdirectory("kinship-bench-");
    try
    {
        var path = Path.Combine(folder.FullName, "kinship.db");
        var clock = Stopwatch.StartNew();
        await using (var store = await SqliteRunStore.OpenAsync(path, time, null, CancellationToken.None))
        {
            var manifest = new RunManifest("bench", time.GetUtcNow(), "bench", [Model], definitions.ToImmutableSortedDictionary(d => d.Key, d => d.Value.SourcePath), [], [], [], rollouts, 1, runPlan.Episodes.Length, render, loop);
            var options = new RunOptions(null, null);
            var record = new RunRecord("bench", time.GetUtcNow(), "bench", RunRecord.HashPlan(manifest, options, sources.Select(s => s.Source), runPlan), manifest, options, [.. sources.Select(s => s.Source)]);
            await store.CreateRunAsync(record, runPlan, CancellationToken.None);
            var done = await new LeasedExecutor(store, runner, new ExecutorOptions { Concurrency = concurrency }, time).RunAsync("bench", "bench", CancellationToken.None);
            if (done != runPlan.Episodes.Length) throw new InvalidOperationException($"committed {done} of {runPlan.Episodes.Length}");
        }
        var elapsed = clock.Elapsed;
        var bytes = folder.GetFiles().Sum(f => f.Length);
        return (elapsed, bytes);
    }
    finally
    {
        folder.Delete(recursive: true);
    }
}

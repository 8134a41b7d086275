using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Kinship.Agents;
using Kinship.Models;
using Kinship.Runs;
using Kinship.Scenarios;
using Kinship.Store;
using Kinship.Tools;
using Kinship.World;
using Microsoft.Data.Sqlite;

// The study preset (`kinship run --preset study`) for one scripted agent, end to end into the SQLite store, against the
// same episodes with no store (world, tools, agent loop and detectors) and against the floor (each episode's recorded
// tool calls replayed on a fresh world, nothing else).
// Usage: Kinship.Bench.Store [--model scripted/NAME]... [--rollouts 100] [--concurrency N] [--repetitions 3] [--digest]
var models = new List<string>();
var rollouts = 100;
var concurrency = Environment.ProcessorCount;
var repetitions = 3;
var digest = false;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--model": models.Add(args[++i]); break;
        case "--rollouts": rollouts = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--concurrency": concurrency = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--repetitions": repetitions = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--digest": digest = true; break;
        default:
            Console.Error.WriteLine($"unknown option {args[i]}; usage: [--model scripted/NAME]... [--rollouts N] [--concurrency N] [--repetitions N] [--digest]");
            return 2;
    }
}
if (models.Count == 0) models.Add("scripted/faithful");

var time = TimeProvider.System;
var sources = StudyPreset.Tasks.SelectMany(t => t.Scenarios).Distinct().Select(ScenarioSource.Resolve).ToList();
var definitions = sources.ToDictionary(s => s.Definition.Id, s => s.Definition, StringComparer.Ordinal);
RunPlan Study(int n) => RunPlan.Build(models, StudyPreset.Expand(id => definitions[id]), ConditionFilter.All, n, 1, []);
var plan = Study(rollouts);
var render = new RenderOptions();
var loop = new AgentLoopOptions();
var agents = models.ToDictionary(m => m, m => ModelResolver.Resolve(m, new ModelOptions()), StringComparer.Ordinal);
var runner = new EpisodeRunner(definitions, agents, render, loop, time);
var n = plan.Episodes.Length;
Console.WriteLine($"study preset: {n:N0} episodes ({string.Join(", ", models)}; {definitions.Count} scenarios; {rollouts} rollouts); concurrency {concurrency}; {Environment.ProcessorCount} cores; .NET {Environment.Version}");

if (digest)
{
    // A frozen clock makes the transcripts' seconds 0, so two builds that store the same thing hash the same.
    Console.WriteLine($"store digest {await StoreDigest(plan)}");
    return 0;
}

// Each episode's tool calls, recorded from one pass with no store; the pass also warms up the JIT and the caches.
var calls = new ReplayCall[n][];
await new RunExecutor(runner, new NullStore(), concurrency).RunAsync(plan.Episodes, r =>
    calls[r.Spec.Index] = [.. r.Calls.Select(c => new ReplayCall(c.Tool, c.Arguments.ToDictionary(a => a.Key, a => a.Value is ImmutableArray<string> l ? l.ToArray() : a.Value)))],
    CancellationToken.None);
Console.WriteLine($"recorded {calls.Sum(c => c.Length):N0} tool calls ({(double)calls.Sum(c => c.Length) / n:0.0} per episode)");
await Pipeline(Study(2));

// Other processes share this machine's two cores: take the best of several repetitions, and report CPU time too.
var figures = new Dictionary<string, List<Pass>> { ["world+tools"] = [], ["bare episodes"] = [], ["pipeline+SQLite"] = [] };
for (var i = 0; i < repetitions; i++)
{
    figures["world+tools"].Add(await Measure(() => { Floor(); return Task.FromResult(0L); }));
    figures["bare episodes"].Add(await Measure(async () => { await Bare(); return 0L; }));
    figures["pipeline+SQLite"].Add(await Measure(() => Pipeline(plan)));
}
Console.WriteLine();
Console.WriteLine($"{"mode",-16} {"best wall s",11} {"episodes/s",11} {"CPU us/ep",10} {"median CPU",11} {"KB alloc/ep",12} {"peak WS MB",11} {"peak heap MB",13}");
foreach (var (name, passes) in figures)
{
    var best = passes.MinBy(p => p.Wall)!;
    var cpu = passes.Select(p => p.Cpu).Order().ElementAt(passes.Count / 2);
    Console.WriteLine($"{name,-16} {best.Wall,11:0.000} {n / best.Wall,11:N0} {best.Cpu * 1e6 / n,10:N0} {cpu * 1e6 / n,11:N0} {best.Allocated / 1024.0 / n,12:0.0} {passes.Max(p => p.PeakWorkingSet) / 1e6,11:0} {passes.Max(p => p.PeakHeap) / 1e6,13:0}"
        + (best.StoreBytes > 0 ? $"  store {best.StoreBytes / 1e6:0} MB" : ""));
}
double Best(string mode, Func<Pass, double> f) => figures[mode].Min(f);
double MedianCpu(string mode) => figures[mode].Select(p => p.Cpu).Order().ElementAt(repetitions / 2);
Console.WriteLine($"ratio pipeline / world+tools: wall {Best("pipeline+SQLite", p => p.Wall) / Best("world+tools", p => p.Wall):0.00}, CPU {MedianCpu("pipeline+SQLite") / MedianCpu("world+tools"):0.00} (median CPU)");
Console.WriteLine($"ratio pipeline / bare episodes: wall {Best("pipeline+SQLite", p => p.Wall) / Best("bare episodes", p => p.Wall):0.00}, CPU {MedianCpu("pipeline+SQLite") / MedianCpu("bare episodes"):0.00} (median CPU)");
Console.WriteLine($"process lifetime peak working set: {Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:0} MB");
return 0;

void Floor() => Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, i =>
{
    var spec = plan.Episodes[i];
    var instance = runner.Instance(spec, agents[spec.Model]);
    var world = new EpisodeWorld(instance.World, new SteppingClock(instance.Scenario.Clock, EpisodeRunner.ClockStep));
    var toolbox = new Toolbox(world, instance.Tools);
    foreach (var call in calls[i]) toolbox.Invoke(call.Name, call.Arguments);
    if (world.Calls.Count != calls[i].Length) throw new InvalidOperationException($"replay of episode {i} differs");
});

async Task Bare() => await Parallel.ForEachAsync(plan.Episodes, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (spec, ct) => await runner.RunAsync(spec, ct));

async Task<long> Pipeline(RunPlan runPlan, EpisodeRunner? with = null, Func<string, Task>? inspect = null)
{
    var folder = Directory.CreateTempSubdirectory("kinship-bench-");
    try
    {
        var path = Path.Combine(folder.FullName, "kinship.db");
        await using (var store = await SqliteRunStore.OpenAsync(path, time, null, CancellationToken.None))
        {
            var manifest = new RunManifest("bench", time.GetUtcNow(), "bench", [.. models], definitions.ToImmutableSortedDictionary(d => d.Key, d => d.Value.SourcePath), [], [], [], rollouts, 1, runPlan.Episodes.Length, render, loop)
                { Preset = StudyPreset.Name };
            var options = new RunOptions(null, null);
            var record = new RunRecord("bench", time.GetUtcNow(), "bench", RunRecord.HashPlan(manifest, options, sources.Select(s => s.Source), runPlan), manifest, options, [.. sources.Select(s => s.Source)]);
            await store.CreateRunAsync(record, runPlan, CancellationToken.None);
            var done = await new LeasedExecutor(store, with ?? runner, new ExecutorOptions { Concurrency = concurrency }, time).RunAsync("bench", "bench", CancellationToken.None);
            if (done != runPlan.Episodes.Length) throw new InvalidOperationException($"committed {done} of {runPlan.Episodes.Length}");
        }
        if (inspect is not null) await inspect(path);
        return folder.GetFiles().Sum(f => f.Length);
    }
    finally
    {
        SqliteConnection.ClearAllPools();
        folder.Delete(recursive: true);
    }
}

// SHA-256 over every stored column that comes from the episode (not the lease or wall-clock columns), in index order.
async Task<string> StoreDigest(RunPlan runPlan)
{
    var frozen = new EpisodeRunner(definitions, agents, render, loop, new FrozenTime());
    string result = "";
    await Pipeline(runPlan, frozen, async path =>
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var c = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        await c.OpenAsync();
        foreach (var sql in new[]
        {
            "SELECT idx, status, error_cause, stop, tokens, critic, subject, tools, transcript, final_state, calls FROM episodes ORDER BY idx",
            "SELECT idx, ord, label, flag, number, text, detector, rule, evidence, source FROM verdicts ORDER BY idx, ord",
        })
        {
            await using var cmd = c.CreateCommand();
            cmd.CommandText = sql;
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync())
            {
                for (var f = 0; f < r.FieldCount; f++)
                {
                    // The type as well as the value: storing the same text as a BLOB would be a change.
                    var value = r.GetValue(f);
                    hash.AppendData(Encoding.UTF8.GetBytes($"{r.GetDataTypeName(f)}:{Convert.ToString(value, CultureInfo.InvariantCulture)}\u001f"));
                }
                hash.AppendData("\n"u8);
            }
        }
        result = Convert.ToHexStringLower(hash.GetHashAndReset());
    });
    return result;
}

// One repetition of a mode from a collected heap, with its working set and managed heap sampled every 10 ms
// (Process.PeakWorkingSet64 only ever grows over the process's life).
static async Task<Pass> Measure(Func<Task<long>> pass)
{
    GC.Collect();
    GC.WaitForPendingFinalizers();
    GC.Collect();
    using var process = Process.GetCurrentProcess();
    long ws = 0, heap = 0;
    using var stop = new CancellationTokenSource();
    void Sample()
    {
        process.Refresh();
        ws = Math.Max(ws, process.WorkingSet64);
        heap = Math.Max(heap, GC.GetTotalMemory(false));
    }
    var sampler = new Thread(() => { while (!stop.Token.WaitHandle.WaitOne(10)) Sample(); }) { IsBackground = true };
    sampler.Start();
    var allocated = GC.GetTotalAllocatedBytes(precise: true);
    var cpu = process.TotalProcessorTime;
    var clock = Stopwatch.StartNew();
    var bytes = await pass();
    var wall = clock.Elapsed.TotalSeconds;
    process.Refresh();
    var cpuSeconds = (process.TotalProcessorTime - cpu).TotalSeconds;
    allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
    stop.Cancel();
    sampler.Join();
    Sample();
    return new Pass(wall, cpuSeconds, allocated, ws, heap, bytes);
}

internal sealed record Pass(double Wall, double Cpu, long Allocated, long PeakWorkingSet, long PeakHeap, long StoreBytes);

internal sealed record ReplayCall(string Name, Dictionary<string, object?> Arguments);

internal sealed class NullStore : IRunStore
{
    public Task BeginAsync(RunManifest manifest, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task AppendAsync(EpisodeResult episode, CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>A clock that never moves, so transcripts (which record seconds) store the same on every run.</summary>
internal sealed class FrozenTime : TimeProvider
{
    public override long GetTimestamp() => 0;
}

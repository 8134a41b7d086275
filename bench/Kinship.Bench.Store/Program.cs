using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Kinship.Agents;
using Kinship.Bench;
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
// [--profile] [--only world+tools|bare|pipeline] (one mode, for a profiler)
var models = new List<string>();
var rollouts = 100;
var concurrency = Environment.ProcessorCount;
var repetitions = 3;
var digest = false;
var profile = false;
string? only = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--model":
            models.Add(args[++i]);
            break;
        case "--rollouts":
            rollouts = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--concurrency":
            concurrency = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--repetitions":
            repetitions = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--digest":
            digest = true;
            break;
        case "--profile":
            profile = true;
            break;
        case "--only":
            only = args[++i];
            break;
        default:
            Console.Error.WriteLine(
                $"unknown option {args[i]}; usage: [--model scripted/NAME]... [--rollouts N] [--concurrency N] [--repetitions N] [--digest] [--profile] [--only world+tools|bare|pipeline]"
            );
            return 2;
    }
}
if (models.Count == 0)
    models.Add("scripted/faithful");

var time = TimeProvider.System;
var sources = StudyPreset.Tasks.SelectMany(t => t.Scenarios).Distinct().Select(ScenarioSource.Resolve).ToList();
var definitions = sources.ToDictionary(s => s.Definition.Id, s => s.Definition, StringComparer.Ordinal);
RunPlan Study(int n) => RunPlan.Build(models, StudyPreset.Expand(id => definitions[id]), ConditionFilter.All, n, 1, []);
var plan = Study(rollouts);
var render = new RenderOptions();
var loop = new AgentLoopOptions();
var agents = models.ToDictionary(m => m, m => AgentResolver.Resolve(m, new ModelOptions()), StringComparer.Ordinal);
var runner = new EpisodeRunner(definitions, agents, render, loop, time);
var n = plan.Episodes.Length;
Console.WriteLine(
    $"study preset: {n:N0} episodes ({string.Join(", ", models)}; {definitions.Count} scenarios; {rollouts} rollouts); concurrency {concurrency}; {Environment.ProcessorCount} cores; .NET {Environment.Version}"
);

if (digest)
{
    // A frozen clock makes the transcripts' seconds 0, so two builds that store the same thing hash the same.
    Console.WriteLine($"store digest {await StoreDigest(plan)}");
    return 0;
}

if (profile)
{
    await Profile();
    return 0;
}

// Each episode's tool calls, recorded from one pass with no store; the pass also warms up the JIT and the caches.
var calls = new ReplayCall[n][];
await BenchRuns.RunAllAsync(runner, plan.Episodes, concurrency, r =>
    calls[r.Spec.Index] = [
        .. r.Calls.Select(c => new ReplayCall(
            c.Tool,
            c.Arguments.ToDictionary(a => a.Key, a => a.Value is ImmutableArray<string> l ? l.ToArray() : a.Value)
        )),
    ]
);
Console.WriteLine($"recorded {calls.Sum(c => c.Length):N0} tool calls ({(double)calls.Sum(c => c.Length) / n:0.0} per episode)");
await Pipeline(Study(2));

// Other processes share this machine's two cores: take the best of several repetitions, and report CPU time too.
var figures = new Dictionary<string, List<Pass>>
{
    ["world+tools"] = [],
    ["bare episodes"] = [],
    ["pipeline+SQLite"] = [],
};
for (var i = 0; i < repetitions; i++)
{
    if (only is null or "world+tools")
        figures["world+tools"]
            .Add(
                await Measure(() =>
                {
                    Floor();
                    return Task.FromResult(0L);
                })
            );
    if (only is null or "bare")
        figures["bare episodes"]
            .Add(
                await Measure(async () =>
                {
                    await Bare();
                    return 0L;
                })
            );
    if (only is null or "pipeline")
        figures["pipeline+SQLite"].Add(await Measure(() => Pipeline(plan)));
}
if (only is not null)
{
    foreach (var empty in figures.Where(f => f.Value.Count == 0).Select(f => f.Key).ToList())
        figures.Remove(empty);
}
Console.WriteLine();
Console.WriteLine(
    $"{"mode", -16} {"best wall s", 11} {"episodes/s", 11} {"CPU us/ep", 10} {"median CPU", 11} {"KB alloc/ep", 12} {"peak WS MB", 11} {"peak heap MB", 13}"
);
foreach (var (name, passes) in figures)
{
    var best = passes.MinBy(p => p.Wall)!;
    var cpu = passes.Select(p => p.Cpu).Order().ElementAt(passes.Count / 2);
    Console.WriteLine(
        $"{name, -16} {best.Wall, 11:0.000} {n / best.Wall, 11:N0} {best.Cpu * 1e6 / n, 10:N0} {cpu * 1e6 / n, 11:N0} {best.Allocated / 1024.0 / n, 12:0.0} {passes.Max(p => p.PeakWorkingSet) / 1e6, 11:0} {passes.Max(p => p.PeakHeap) / 1e6, 13:0}"
            + (best.StoreBytes > 0 ? $"  store {best.StoreBytes / 1e6:0} MB" : "")
    );
}
if (only is not null)
    return 0;
double Best(string mode, Func<Pass, double> f) => figures[mode].Min(f);
double MedianCpu(string mode) => figures[mode].Select(p => p.Cpu).Order().ElementAt(repetitions / 2);
Console.WriteLine(
    $"ratio pipeline / world+tools: wall {Best("pipeline+SQLite", p => p.Wall) / Best("world+tools", p => p.Wall):0.00}, CPU {MedianCpu("pipeline+SQLite") / MedianCpu("world+tools"):0.00} (median CPU)"
);
Console.WriteLine(
    $"ratio pipeline / bare episodes: wall {Best("pipeline+SQLite", p => p.Wall) / Best("bare episodes", p => p.Wall):0.00}, CPU {MedianCpu("pipeline+SQLite") / MedianCpu("bare episodes"):0.00} (median CPU)"
);
Console.WriteLine($"process lifetime peak working set: {Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:0} MB");
return 0;

void Floor() => Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, i =>
    {
        var spec = plan.Episodes[i];
        var instance = runner.Instance(spec, agents[spec.Model]);
        var world = new EpisodeWorld(instance.World, new SteppingClock(instance.Scenario.Clock, Episode.ClockStep));
        var toolbox = new Toolbox(world, instance.Tools, runner.Cache.Tools);
        foreach (var call in calls[i])
            toolbox.Invoke(call.Name, call.Arguments);
        if (world.Calls.Count != calls[i].Length)
            throw new InvalidOperationException($"replay of episode {i} differs");
    });

async Task Bare() =>
    await Parallel.ForEachAsync(plan.Episodes, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (spec, ct) =>
        await runner.RunAsync(spec, ct)
    );

async Task<long> Pipeline(RunPlan runPlan, EpisodeRunner? with = null, Func<string, Task>? inspect = null)
{
    var folder = Directory.CreateTempSubdirectory("kinship-bench-");
    try
    {
        var path = Path.Combine(folder.FullName, "kinship.db");
        await using (var store = await SqliteRunStore.OpenAsync(path, time, null, CancellationToken.None))
        {
            var manifest = new RunManifest(
                "bench",
                time.GetUtcNow(),
                "bench",
                [.. models],
                definitions.ToImmutableSortedDictionary(d => d.Key, d => d.Value.SourcePath),
                [],
                [],
                [],
                rollouts,
                1,
                runPlan.Episodes.Length,
                render,
                loop
            )
            {
                Preset = StudyPreset.Name,
            };
            var options = new RunOptions(null, null);
            var record = new RunRecord(
                "bench",
                time.GetUtcNow(),
                "bench",
                RunRecord.HashPlan(manifest, options, sources.Select(s => s.Source), runPlan),
                manifest,
                options,
                [.. sources.Select(s => s.Source)]
            );
            await store.CreateRunAsync(record, runPlan, CancellationToken.None);
            var done = await LeasedExecutor
                .Create(store, with ?? runner, new ExecutorOptions { Concurrency = concurrency }, time)
                .RunAsync("bench", "bench", CancellationToken.None);
            if (done != runPlan.Episodes.Length)
                throw new InvalidOperationException($"committed {done} of {runPlan.Episodes.Length}");
        }
        if (inspect is not null)
            await inspect(path);
        return folder.GetFiles().Sum(f => f.Length);
    }
    finally
    {
        SqliteConnection.ClearAllPools();
        folder.Delete(recursive: true);
    }
}

// Where the store's time goes, on one thread: the episodes, then each JSON column for all of them, then the claim and
// the commits in batches of 256 as LeasedExecutor makes them. Twice; the second is reported.
async Task Profile()
{
    for (var pass = 0; pass < 2; pass++)
    {
        var results = new EpisodeResult[n];
        var t = Stopwatch.GetTimestamp();
        foreach (var spec in plan.Episodes)
            results[spec.Index] = await runner.RunAsync(spec, CancellationToken.None);
        var episodes = Stopwatch.GetElapsedTime(t);
        var json = new List<(string Column, TimeSpan Time, long Chars)>();
        void Time(string column, Func<EpisodeResult, IEnumerable<string>> f)
        {
            long chars = 0;
            var start = Stopwatch.GetTimestamp();
            foreach (var r in results)
            foreach (var text in f(r))
                chars += text.Length;
            json.Add((column, Stopwatch.GetElapsedTime(start), chars));
        }
        Time("transcript", r => [System.Text.Json.JsonSerializer.Serialize(r.Transcript, RunJson.Options)]);
        Time("final_state", r => [System.Text.Json.JsonSerializer.Serialize(r.Final, RunJson.Options)]);
        Time("calls", r => [System.Text.Json.JsonSerializer.Serialize(r.Calls, RunJson.Options)]);
        Time("tools", r => [System.Text.Json.JsonSerializer.Serialize(r.Tools, RunJson.Options)]);
        Time("evidence", r => r.Verdicts.Select(v => System.Text.Json.JsonSerializer.Serialize(v.Evidence, RunJson.Options)));
        var (create, claim, rowTime, commit, written) = await Store(results);
        var (_, _, _, commitBare, writtenBare) = Environment.GetEnvironmentVariable("KB_EXPERIMENT") is null
            ? default
            : await Store([.. results.Select(r => r with { Verdicts = [] })]);
        if (pass == 0)
            continue;
        string Us(TimeSpan span) => $"{span.TotalMicroseconds / n, 8:N1} us/episode";
        Console.WriteLine($"one thread, {n:N0} episodes:");
        Console.WriteLine($"  episodes (render, world, tools, loop, detectors) {Us(episodes)}");
        foreach (var (column, span, chars) in json)
            Console.WriteLine($"    JSON {column, -12} {Us(span)}  {chars / (double)n / 1024, 6:0.0} K chars/episode");
        Console.WriteLine($"  EpisodeRow.From (all JSON columns)               {Us(rowTime)}");
        Console.WriteLine($"  store: plan stored                               {Us(create)}");
        Console.WriteLine($"  store: claims (128 at a time)                    {Us(claim)}");
        Console.WriteLine(
            $"  store: commits (256 per transaction)             {Us(commit)}  {written / 1024.0 / n:0.0} KB written/episode, {results.Average(r => r.Verdicts.Length):0.0} verdicts/episode"
        );
        if (writtenBare > 0)
            Console.WriteLine(
                $"  store: commits without verdicts                  {Us(commitBare)}  {writtenBare / 1024.0 / n:0.0} KB written/episode"
            );
    }
}

// Stores the plan, claims it all and commits the results, their rows made 256 at a time as the executor makes them
// (all at once would leave gigabytes of JSON on the heap, and the collector's time in the figures); the bytes are
// what the process wrote (Linux /proc/self/io).
async Task<(TimeSpan Create, TimeSpan Claim, TimeSpan Rows, TimeSpan Commit, long Written)> Store(IReadOnlyList<EpisodeResult> results)
{
    static long Written() =>
        File.Exists("/proc/self/io")
            ? long.Parse(
                File.ReadLines("/proc/self/io").First(l => l.StartsWith("write_bytes:", StringComparison.Ordinal))[12..].Trim(),
                CultureInfo.InvariantCulture
            )
            : 0;
    var folder = Directory.CreateTempSubdirectory("kinship-bench-");
    TimeSpan create,
        claim,
        commit = default,
        rowTime = default;
    long written;
    long t;
    try
    {
        await using var store = await SqliteRunStore.OpenAsync(
            Path.Combine(folder.FullName, "kinship.db"),
            time,
            null,
            CancellationToken.None
        );
        var manifest = new RunManifest(
            "bench",
            time.GetUtcNow(),
            "bench",
            [.. models],
            definitions.ToImmutableSortedDictionary(d => d.Key, d => d.Value.SourcePath),
            [],
            [],
            [],
            rollouts,
            1,
            n,
            render,
            loop
        );
        var options = new RunOptions(null, null);
        t = Stopwatch.GetTimestamp();
        await store.CreateRunAsync(
            new RunRecord(
                "bench",
                time.GetUtcNow(),
                "bench",
                RunRecord.HashPlan(manifest, options, sources.Select(s => s.Source), plan),
                manifest,
                options,
                [.. sources.Select(s => s.Source)]
            ),
            plan,
            CancellationToken.None
        );
        create = Stopwatch.GetElapsedTime(t);
        t = Stopwatch.GetTimestamp();
        for (var claimed = 0; claimed < n; )
            claimed += (await store.ClaimAsync("bench", "bench", 128, TimeSpan.FromHours(1), 3, CancellationToken.None)).Episodes.Length;
        claim = Stopwatch.GetElapsedTime(t);
        t = Stopwatch.GetTimestamp();
        written = Written();
        foreach (var chunk in results.Chunk(256))
        {
            t = Stopwatch.GetTimestamp();
            var batch = chunk.Select(EpisodeRow.From).ToList();
            rowTime += Stopwatch.GetElapsedTime(t);
            t = Stopwatch.GetTimestamp();
            await store.CompleteAsync("bench", "bench", batch, CancellationToken.None);
            commit += Stopwatch.GetElapsedTime(t);
        }
        written = Written() - written;
    }
    finally
    {
        SqliteConnection.ClearAllPools();
        folder.Delete(recursive: true);
    }
    return (create, claim, rowTime, commit, written);
}

// SHA-256 over every stored column that comes from the episode (not the lease or wall-clock columns), in index order, and every stored text by key.
async Task<string> StoreDigest(RunPlan runPlan)
{
    var frozen = new EpisodeRunner(definitions, agents, render, loop, new FrozenTime());
    string result = "";
    await Pipeline(runPlan, frozen, async path =>
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var c = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        await c.OpenAsync();
        foreach (
            var sql in new[]
            {
                "SELECT idx, status, error_cause, stop, tokens, critic, subject, tools, transcript, final_state, calls FROM episodes ORDER BY idx",
                "SELECT idx, ord, label, flag, number, text, detector, rule, evidence, source FROM verdicts ORDER BY idx, ord",
                "SELECT text_key, body FROM texts ORDER BY text_key",
            }
        )
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
                    hash.AppendData(
                        Encoding.UTF8.GetBytes($"{r.GetDataTypeName(f)}:{Convert.ToString(value, CultureInfo.InvariantCulture)}\u001f")
                    );
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
    long ws = 0,
        heap = 0;
    using var stop = new CancellationTokenSource();
    void Sample()
    {
        process.Refresh();
        ws = Math.Max(ws, process.WorkingSet64);
        heap = Math.Max(heap, GC.GetTotalMemory(false));
    }
    var sampler = new Thread(() =>
    {
        while (!stop.Token.WaitHandle.WaitOne(10))
            Sample();
    })
    {
        IsBackground = true,
    };
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

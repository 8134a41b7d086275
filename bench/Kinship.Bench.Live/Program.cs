using System.Diagnostics;
using System.Globalization;
using Kinship.Agents;
using Kinship.Bench.Live;
using Kinship.Models;
using Kinship.Runs;
using Kinship.Scenarios;
using Kinship.Transcripts;

// Live runs against a loopback provider: real exfiltration-transfer episodes (agent loop, tools, detectors) through the
// real OpenAI SDK and Kinship's HTTP pipeline and limiter, at N episodes in flight, with the response cache off, on
// (a new cache file) and on again (the same plan re-run, every answer from the cache). With --prompt-cache: a study cell
// through a fake of each provider that keeps a prompt cache, and what the cache takes off the input bill. With --limits:
// each provider's fake holding a requests-per-minute limit with 429s, and how close to it Kinship runs (--unknown: not
// told the limit; --no-headers: the fakes do not announce it in their headers either). With --batch: the same study
// cell through each provider's batch API fake, billed at the batch price against the list price.
if (args.Contains("--prompt-cache"))
{
    await PromptCacheBench.RunAsync(Option("--episodes", 100), Option("--in-flight", 10), "good_peer/file/peer");
    return;
}

if (args.Contains("--batch"))
{
    await BatchBench.RunAsync(Option("--episodes", 100), "good_peer/file/peer");
    return;
}

if (args.Contains("--limits"))
{
    await LimitBench.RunAsync(
        Option("--rpm", 600),
        Option("--episodes", 160),
        Option("--in-flight", 50),
        !args.Contains("--unknown"),
        !args.Contains("--no-headers")
    );
    return;
}

if (args.Contains("--serve-provider"))
{
    // The provider alone, for --provider-process: prints its address and serves until its input closes.
    await using var served = await FakeProvider.StartAsync(
        TimeSpan.FromMilliseconds(Option("--latency-ms", 500)),
        Option("--latency-spread", 0)
    );
    Console.WriteLine(served.BaseUrl);
    await Console.In.ReadToEndAsync();
    return;
}

var inFlight = Option("--in-flight", 2000);
var episodes = Option("--episodes", 6000);
var latency = TimeSpan.FromMilliseconds(Option("--latency-ms", 500));
var spread = Option("--latency-spread", 0);
var warmup = Option("--warmup", 200);
var repeat = Option("--repeat", 1);

// --provider-process: the provider in a process of its own, so the CPU figures are Kinship's alone.
await using var provider = args.Contains("--provider-process") ? null : await FakeProvider.StartAsync(latency, spread);
await using var external = provider is null ? await ProviderProcess.StartAsync(latency, spread) : null;
var baseUrl = provider?.BaseUrl ?? external!.BaseUrl;
async Task<ProviderCounters> CountersAsync() =>
    provider is not null ? new ProviderCounters(provider.Requests, provider.PeakInFlight, 0) : await external!.CountersAsync();
var scenario = ScenarioLoader.Resolve("exfiltration-transfer");
var folder = Directory.CreateTempSubdirectory("kinship-bench-live-");
try
{
    Console.WriteLine(
        $"{episodes:N0} episodes of {scenario.Id} at {inFlight:N0} in flight against a {latency.TotalMilliseconds:0} ms provider{(spread > 0 ? $" (± {spread} %)" : "")} "
            + $"({Environment.ProcessorCount} cores, .NET {Environment.Version}, load average {Load()})"
    );
    await PassAsync("warm-up", warmup, Math.Min(inFlight, warmup), null);
    // Rounds alternate which mode goes first, so neither gains from coming second on a machine whose load drifts.
    var rounds = new List<(Pass Uncached, Pass Cached, Pass Rerun)>();
    for (var round = 0; round < repeat; round++)
    {
        var path = Path.Combine(folder.FullName, $"responses-{round}.db");
        Pass uncached,
            cached;
        if (round % 2 == 0)
        {
            uncached = await PassAsync("no cache", episodes, inFlight, null);
            cached = await PassAsync("cache", episodes, inFlight, path);
        }
        else
        {
            cached = await PassAsync("cache", episodes, inFlight, path);
            uncached = await PassAsync("no cache", episodes, inFlight, null);
        }
        rounds.Add((uncached, cached, await PassAsync("cache, re-run", episodes, inFlight, path)));
    }
    // Each episode is four model calls; at most inFlight episodes wait on the provider at once.
    var ideal = inFlight / (4 * latency.TotalSeconds);
    Console.WriteLine();
    Console.WriteLine($"ideal (latency-bound): {ideal:N0} episodes/s; each row is one round, x no cache is against that round's");
    Console.WriteLine(
        "| round | mode | episodes/s | x no cache | x ideal | wall s | requests | cache hits | errors | peak at provider | CPU ms/episode |"
    );
    Console.WriteLine("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    foreach (var (r, i) in rounds.Select((r, i) => (r, i + 1)))
    foreach (var p in new[] { r.Uncached, r.Cached, r.Rerun })
        Console.WriteLine(
            $"| {i} | {p.Mode} | {p.Rate:N1} | {p.Rate / r.Uncached.Rate:0.00} | {p.Rate / ideal:0.00} | {p.Wall.TotalSeconds:0.00} | {p.Requests:N0} | {p.Hits:N0} | {p.Errors:N0} | {p.Peak:N0} | {p.Cpu.TotalMilliseconds / p.Episodes:0.00} |"
        );
    Console.WriteLine($"peak RSS of this process: {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:N0} MiB");
    if (rounds.Count > 1)
        Console.WriteLine(
            $"median x no cache: cache {Median(rounds.Select(r => r.Cached.Rate / r.Uncached.Rate)):0.00}, re-run {Median(rounds.Select(r => r.Rerun.Rate / r.Uncached.Rate)):0.00}"
        );
}
finally
{
    Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    folder.Delete(recursive: true);
}

async Task<Pass> PassAsync(string mode, int count, int concurrency, string? cachePath)
{
    // Each pass gets its own pipeline, so every pass starts its limiter afresh, as a new run does.
    using var http = new ModelHttp(new ResilienceOptions());
    var cache = cachePath is null ? null : new ResponseCache(cachePath);
    var model = AgentResolver.Resolve(
        "openai/gpt-fake",
        new ModelOptions
        {
            BaseUrl = new Uri(baseUrl),
            Environment = _ => "sk-bench",
            Http = http,
            Cache = cache,
            Config = ModelConfig.FromYaml(
                $"providers:\n  openai: {{ max_concurrency: {concurrency.ToString(CultureInfo.InvariantCulture)}, requests_per_minute: 0 }}\n"
            ),
        }
    );
    var plan = RunPlan.Build([model.Id], [scenario], ConditionFilter.All, (count + 19) / 20, 7);
    var runner = new EpisodeRunner(
        new Dictionary<string, ScenarioDefinition> { [scenario.Id] = scenario },
        new Dictionary<string, AgentModel> { [model.Id] = model },
        new RenderOptions(),
        new AgentLoopOptions(),
        TimeProvider.System
    );
    GC.Collect();
    var before = await CountersAsync();
    if (provider is not null)
        provider.ResetPeak();
    else
        await external!.ResetPeakAsync();
    var errors = 0;
    var ends = new System.Collections.Concurrent.ConcurrentBag<TimeSpan>();
    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
    var allocated = GC.GetTotalAllocatedBytes();
    var collections = GC.CollectionCount(0);
    var paused = GC.GetTotalPauseDuration();
    var clock = Stopwatch.StartNew();
    await Parallel.ForEachAsync(plan.Episodes.Take(count), new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (spec, ct) =>
    {
        var result = await runner.RunAsync(spec, ct);
        ends.Add(clock.Elapsed);
        if (result.Status == EpisodeStatus.Error || result.Transcript.Stop != StopReason.EndTask)
            Interlocked.Increment(ref errors);
    });
    clock.Stop();
    // Steady: episodes a second between the fifth and the last fifth of the pass, after the limiter's slow start.
    var sorted = ends.Order().ToArray();
    var (from, to) = (sorted.Length / 5, sorted.Length - 1 - sorted.Length / 5);
    var steady = (to - from) / (sorted[to] - sorted[from]).TotalSeconds;
    var after = await CountersAsync();
    var providerCpu = provider is null ? $"; the provider's CPU {(after.CpuMs - before.CpuMs) / count:0.00} ms per episode" : "";
    var pass = new Pass(
        mode,
        count,
        clock.Elapsed,
        after.Requests - before.Requests,
        cache?.Hits ?? 0,
        errors,
        after.Peak,
        Process.GetCurrentProcess().TotalProcessorTime - cpu
    );
    if ((object?)cache is IAsyncDisposable closing)
        await closing.DisposeAsync();
    Console.WriteLine(
        $"{mode}: {pass.Rate:N1} episodes/s, steady {steady:N1} ({count:N0} in {pass.Wall.TotalSeconds:0.00} s, {pass.Requests:N0} requests, {pass.Hits:N0} from the cache, {errors} errors; "
            + $"CPU {pass.Cpu.TotalMilliseconds / count:0.00} ms, {(GC.GetTotalAllocatedBytes() - allocated) / 1024.0 / count:N0} KB allocated per episode; "
            + $"{GC.CollectionCount(0) - collections} collections, paused {(GC.GetTotalPauseDuration() - paused).TotalSeconds / pass.Wall.TotalSeconds:P0} of the time{providerCpu})"
    );
    return pass;
}

int Option(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

static double Median(IEnumerable<double> values) =>
    values.Order().ToList() is var sorted && sorted.Count % 2 == 1
        ? sorted[sorted.Count / 2]
        : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;

static string Load() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

internal sealed record Pass(string Mode, int Episodes, TimeSpan Wall, int Requests, int Hits, int Errors, int Peak, TimeSpan Cpu)
{
    public double Rate => Episodes / Wall.TotalSeconds;
}

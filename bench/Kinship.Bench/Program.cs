using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Security.Cryptography;
using System.Text.Json;
using Kinship.Bench;
using Kinship.Exporters;
using Kinship.Runs;

var options = BenchOptions.Parse(args);
if (options is null)
    return 2;
if (options.Shell || options.Programs)
{
    await ShellStartup.RunAsync(Console.Out, programsOnly: options.Programs);
    return 0;
}

var grid = BenchGrid.Build(options.Rollouts);
var episodes = grid.Plan.Episodes;
var warmUp = episodes.Where(e => e.Rollout == 0).ToList();
Console.WriteLine(
    $"Kinship.Bench: {grid.Models.Count} scripted agents x {episodes.Length / Math.Max(1, options.Rollouts * grid.Models.Count)} conditions of {grid.Scenarios.Count} scenarios x {options.Rollouts} rollouts = {episodes.Length:N0} episodes"
);
Console.WriteLine(
    $"concurrency {options.Concurrency}, {Environment.ProcessorCount} cores, {(GCSettings.IsServerGC ? "server" : "workstation")} GC, .NET {Environment.Version}, {options.Passes} passes (median)"
);

if (options.Digest)
{
    Console.WriteLine($"digest {await Digest.ComputeAsync(grid, options.Concurrency)}");
    return 0;
}
if (options.Profile)
{
    await Profile.RunAsync(grid, Console.Out);
    return 0;
}

// Recording the calls also warms the pipeline up (JIT, YAML and JSON caches) once over the whole grid.
var replay = await Replay.RecordAsync(grid);
replay.Verify();
Console.WriteLine($"recorded {replay.CallCount:N0} tool calls ({(double)replay.CallCount / episodes.Length:0.0} per episode) to replay");

var modes = new (string Name, Func<IReadOnlyList<EpisodeSpec>, Task<long>> Run)[] { ("world+tools", async specs =>
    {
        await replay.RunAsync(specs, options.Concurrency);
        return 0;
    }), ("pipeline", async specs =>
    {
        await BenchRuns.RunAllAsync(grid.Runner(TimeProvider.System), specs, options.Concurrency);
        return 0;
    }), ("full run", async specs =>
    {
        var folder = Path.Combine(Path.GetTempPath(), "kinship-bench-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            // Each finished episode written as one JSON line as it comes, as a run's export writes them.
            Directory.CreateDirectory(folder);
            await File.WriteAllTextAsync(
                Path.Combine(folder, JsonlExporter.ManifestFile),
                JsonSerializer.Serialize(grid.Manifest("bench"), RunJson.Options)
            );
            await using (
                var stream = new FileStream(
                    Path.Combine(folder, JsonlExporter.EpisodesFile),
                    FileMode.Create,
                    FileAccess.Write,
                    FileShare.Read,
                    1 << 16
                )
            )
            {
                await BenchRuns.RunAllAsync(grid.Runner(TimeProvider.System), specs, options.Concurrency, r =>
                {
                    var line = JsonSerializer.SerializeToUtf8Bytes(r, RunJson.Options);
                    lock (stream)
                    {
                        stream.Write(line);
                        stream.WriteByte((byte)'\n');
                    }
                });
            }
            return new FileInfo(Path.Combine(folder, JsonlExporter.EpisodesFile)).Length;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }) };

foreach (var (_, run) in modes)
    await run(warmUp);

var results = new List<ModeResult>();
foreach (var (name, run) in modes)
{
    var passes = new List<PassFigures>();
    long written = 0;
    for (var i = 0; i < options.Passes; i++)
        passes.Add(await Measure.PassAsync(episodes.Length, async () => written = await run(episodes)));
    results.Add(new ModeResult(name, Measure.Median(passes), passes, written));
    Console.WriteLine(
        $"  {name}: {string.Join(", ", passes.Select(p => $"{p.EpisodesPerSecond:N0}/s ({p.CpuMicrosecondsPerEpisode:N0} us CPU)"))}"
    );
}

var floor = results[0].Median.EpisodesPerSecond;
Console.WriteLine();
Console.WriteLine(
    $"{"mode", -12} {"episodes", 9} {"wall s", 8} {"episodes/s", 11} {"x floor", 8} {"CPU us/ep", 10} {"KB/episode", 11} {"peak WS MB", 11} {"peak heap MB", 13} {"gen0/1/2", 12}"
);
foreach (var r in results)
{
    var m = r.Median;
    Console.WriteLine(
        $"{r.Mode, -12} {m.Episodes, 9:N0} {m.Seconds, 8:0.000} {m.EpisodesPerSecond, 11:N0} {floor / m.EpisodesPerSecond, 8:0.00} {m.CpuMicrosecondsPerEpisode, 10:N0} {m.BytesPerEpisode / 1024, 11:N1} "
            + $"{r.Passes.Max(p => p.PeakWorkingSetBytes) / 1048576.0, 11:N0} {r.Passes.Max(p => p.PeakManagedBytes) / 1048576.0, 13:N0} {$"{m.Gen0}/{m.Gen1}/{m.Gen2}", 12}"
    );
}
var stored = results[^1].WrittenBytes;
Console.WriteLine(
    $"pipeline/world {results[1].Median.Seconds / results[0].Median.Seconds:0.00}x the time ({results[1].Median.CpuSeconds / results[0].Median.CpuSeconds:0.00}x the CPU), "
        + $"full/world {results[2].Median.Seconds / results[0].Median.Seconds:0.00}x ({results[2].Median.CpuSeconds / results[0].Median.CpuSeconds:0.00}x); "
        + $"episodes.jsonl {stored / 1048576.0:N1} MB ({(double)stored / episodes.Length / 1024:N1} KB/episode); process peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:N0} MB"
);

if (options.Json is { } path)
{
    var report = new BenchReport(
        DateTimeOffset.UtcNow,
        Environment.ProcessorCount,
        Environment.Version.ToString(),
        GCSettings.IsServerGC,
        options.Rollouts,
        options.Concurrency,
        options.Passes,
        [
            .. results.Select(r => new ModeReport(
                r.Mode,
                r.Median.Episodes,
                r.Median.Seconds,
                r.Median.EpisodesPerSecond,
                r.Median.CpuMicrosecondsPerEpisode,
                r.Median.BytesPerEpisode,
                r.Passes.Max(p => p.PeakWorkingSetBytes),
                r.Passes.Max(p => p.PeakManagedBytes),
                r.Median.Seconds / results[0].Median.Seconds,
                [.. r.Passes.Select(p => p.EpisodesPerSecond)],
                r.WrittenBytes
            )),
        ]
    );
    File.WriteAllText(
        path,
        JsonSerializer.Serialize(
            report,
            new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }
        )
    );
    Console.WriteLine($"figures written to {path}");
}
return 0;

namespace Kinship.Bench
{
    internal sealed record BenchOptions(
        int Rollouts,
        int Concurrency,
        int Passes,
        string? Json,
        bool Profile,
        bool Digest,
        bool Shell = false,
        bool Programs = false
    )
    {
        public static BenchOptions? Parse(string[] args)
        {
            var o = new BenchOptions(25, Environment.ProcessorCount * 4, 3, null, false, false);
            for (var i = 0; i < args.Length; i++)
            {
                string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
                int Count() =>
                    int.TryParse(Next(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0
                        ? n
                        : throw new ArgumentException($"{args[i - 1]} needs a positive number");
                try
                {
                    o = args[i] switch
                    {
                        "--rollouts" or "-n" => o with { Rollouts = Count() },
                        "--concurrency" => o with { Concurrency = Count() },
                        "--passes" => o with { Passes = Count() },
                        "--json" => o with { Json = Next() },
                        "--profile" => o with { Profile = true },
                        "--digest" => o with { Digest = true },
                        "--shell" => o with { Shell = true },
                        "--programs" => o with { Programs = true },
                        _ => throw new ArgumentException($"unknown option {args[i]}"),
                    };
                }
                catch (ArgumentException e)
                {
                    Console.Error.WriteLine(e.Message);
                    Console.Error.WriteLine(
                        "usage: Kinship.Bench [--rollouts N] [--concurrency N] [--passes N] [--json PATH] [--profile] [--digest] [--shell] [--programs]"
                    );
                    return null;
                }
            }
            return o;
        }
    }

    internal sealed record ModeResult(string Mode, PassFigures Median, IReadOnlyList<PassFigures> Passes, long WrittenBytes);

    internal sealed record ModeReport(
        string Mode,
        int Episodes,
        double WallSeconds,
        double EpisodesPerSecond,
        double CpuMicrosecondsPerEpisode,
        double AllocatedBytesPerEpisode,
        long PeakWorkingSetBytes,
        long PeakManagedHeapBytes,
        double TimeRatioToWorld,
        double[] PassEpisodesPerSecond,
        long StoreBytes
    );

    internal sealed record BenchReport(
        DateTimeOffset Measured,
        int Cores,
        string Runtime,
        bool ServerGc,
        int Rollouts,
        int Concurrency,
        int Passes,
        ModeReport[] Modes
    );

    /// <summary>
    /// A fingerprint of everything a run stores (every episode's JSON line, in plan order, with a frozen clock so the
    /// recorded seconds are zero): equal digests before and after a change mean the change did not alter any output.
    /// </summary>
    internal static class Digest
    {
        public static async Task<string> ComputeAsync(BenchGrid grid, int concurrency)
        {
            var results = new EpisodeResult[grid.Plan.Episodes.Length];
            await BenchRuns.RunAllAsync(grid.Runner(new FrozenTime()), grid.Plan.Episodes, concurrency, r => results[r.Spec.Index] = r);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            foreach (var r in results)
            {
                hash.AppendData(JsonSerializer.SerializeToUtf8Bytes(r, RunJson.Options));
                hash.AppendData("\n"u8);
            }
            return Convert.ToHexStringLower(hash.GetHashAndReset());
        }
    }
}

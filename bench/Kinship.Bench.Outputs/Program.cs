using System.Diagnostics;
using System.Globalization;

// Peak memory and time of the outputs that write transcripts, on a study-preset store of scripted episodes: each of
// `kinship export --jsonl`, `kinship export --inspect` and `kinship report --format html` runs as a child process
// whose peak working set (VmHWM in /proc/PID/status, the kernel's high-water mark of resident memory) is sampled
// until it exits.
// Usage: Kinship.Bench.Outputs [--cli PATH] [--store PATH] [--rollouts 100] [--model scripted/NAME]... [--outputs jsonl,inspect,html] [--keep]
// Without --store, a store is built in a temp folder by `kinship run --preset study -n ROLLOUTS`; a --store that
// exists is used as it is (its latest run).
var cli = Path.Combine("src", "Kinship.Cli", "bin", "Release", "net10.0", "Kinship.Cli");
string? store = null;
var rollouts = 100;
var models = new List<string>();
var outputs = new List<string> { "jsonl", "inspect", "html" };
var keep = false;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--cli":
            cli = args[++i];
            break;
        case "--store":
            store = args[++i];
            break;
        case "--rollouts":
            rollouts = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--model":
            models.Add(args[++i]);
            break;
        case "--outputs":
            outputs = [.. args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries)];
            break;
        case "--keep":
            keep = true;
            break;
        default:
            Console.Error.WriteLine(
                $"unknown option {args[i]}; usage: [--cli PATH] [--store PATH] [--rollouts N] [--model scripted/NAME]... [--outputs jsonl,inspect,html] [--keep]"
            );
            return 2;
    }
}
if (!File.Exists(cli))
{
    Console.Error.WriteLine($"no kinship at {cli}: dotnet build -c Release src/Kinship.Cli, or say where with --cli");
    return 2;
}
if (!OperatingSystem.IsLinux())
{
    Console.Error.WriteLine("the peak working set is read from /proc: Linux only");
    return 2;
}

var work = Directory.CreateTempSubdirectory("kinship-bench-outputs-").FullName;
try
{
    store ??= Path.Combine(work, "kinship.db");
    if (!File.Exists(store))
    {
        string[] run = ["run", "--preset", "study", "-n", rollouts.ToString(CultureInfo.InvariantCulture), "--store", store, "--no-cache"];
        var built = Measure(cli, [.. run, .. models.SelectMany(m => new[] { "-m", m })], work);
        Console.WriteLine(
            $"store: {built.Output.Split('\n').LastOrDefault(l => l.Contains(" stored in ", StringComparison.Ordinal))?.Trim()}"
        );
        Console.WriteLine($"  kinship run: {built.Seconds:0.0} s, peak {built.PeakMb:N0} MB, exit {built.Exit}");
        if (built.Exit != 0)
            return 1;
    }
    var list = Measure(cli, ["runs", "list", "--store", store], work);
    var runId = System.Text.RegularExpressions.Regex.Matches(list.Output, @"\b\d{8}-\d{6}-[0-9a-f]{6}\b").LastOrDefault()?.Value;
    if (runId is null)
    {
        Console.Error.WriteLine($"no run found in {store}:\n{list.Output}");
        return 1;
    }
    Console.WriteLine($"run {runId} in a {new FileInfo(store).Length / 1e6:N0} MB store; {Environment.ProcessorCount} cores; {cli}");
    Console.WriteLine();
    Console.WriteLine("| output | s | peak working set MB | written MB | exit |");
    Console.WriteLine("|---|---:|---:|---:|---:|");
    foreach (var output in outputs)
    {
        var target = Path.Combine(work, "out-" + output);
        string[] command = output switch
        {
            "jsonl" => ["export", runId, "--jsonl", target, "--store", store],
            "inspect" => ["export", runId, "--inspect", target, "--store", store],
            "html" => ["report", runId, "--format", "html", "--out", target, "--store", store],
            _ => throw new ArgumentException($"unknown output {output} (use jsonl, inspect, html)"),
        };
        var m = Measure(cli, command, work);
        var written = Directory.Exists(target)
            ? new DirectoryInfo(target).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length)
            : 0;
        var name = output == "html" ? "report --format html" : $"export --{output}";
        Console.WriteLine($"| {name} | {m.Seconds:0.0} | {m.PeakMb:N0} | {written / 1e6:N0} | {m.Exit} |");
        if (m.Exit != 0)
            Console.WriteLine($"  {m.Error.Trim()}");
        if (!keep && Directory.Exists(target))
            Directory.Delete(target, recursive: true);
    }
    return 0;
}
finally
{
    if (!keep)
        Directory.Delete(work, recursive: true);
    else
        Console.WriteLine($"kept {work}");
}

// Runs kinship with ARGS, sampling its VmHWM every 20 ms until it exits (the last sample is the peak).
static Result Measure(string cli, string[] args, string folder)
{
    var info = new ProcessStartInfo(cli)
    {
        WorkingDirectory = folder,
        RedirectStandardOutput = true,
        RedirectStandardError = true,
    };
    foreach (var a in args)
        info.ArgumentList.Add(a);
    var clock = Stopwatch.StartNew();
    using var process = Process.Start(info)!;
    var output = process.StandardOutput.ReadToEndAsync();
    var error = process.StandardError.ReadToEndAsync();
    long peakKb = 0;
    var status = $"/proc/{process.Id}/status";
    while (!process.HasExited)
    {
        try
        {
            foreach (var line in File.ReadLines(status))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    peakKb = Math.Max(
                        peakKb,
                        long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture)
                    );
        }
        catch (IOException)
        {
            // The process exited between the check and the read.
        }
        Thread.Sleep(20);
    }
    process.WaitForExit();
    return new Result(clock.Elapsed.TotalSeconds, peakKb / 1024.0, process.ExitCode, output.Result, error.Result);
}

internal sealed record Result(double Seconds, double PeakMb, int Exit, string Output, string Error);

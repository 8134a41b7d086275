using Kinship.Fuzz;

// Fuzzes every input Kinship reads from outside: `dotnet run -c Release --project bench/Kinship.Fuzz -- [--cases N]
// [--seed S] [--target NAME]... [--transcripts DIR]`. Prints cases, accepted, rejected and faults per target; exits 1 on
// any fault, with the case number and edits that caused it (the same seed draws the same cases).
long cases = 100_000;
ulong seed = (ulong)Random.Shared.NextInt64();
var only = new List<string>();
string? transcripts = null;
for (var i = 0; i < args.Length; i++)
{
    string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--cases":
            cases = long.Parse(Value(), System.Globalization.CultureInfo.InvariantCulture);
            break;
        case "--seed":
            seed = ulong.Parse(Value(), System.Globalization.CultureInfo.InvariantCulture);
            break;
        case "--target":
            only.Add(Value());
            break;
        case "--transcripts":
            transcripts = Value();
            break;
        default:
            Console.Error.WriteLine(
                $"unknown option {args[i]}; usage: [--cases N] [--seed S] [--target NAME]... [--transcripts DIR (the study's transcripts)]"
            );
            return 2;
    }
}

transcripts ??= FindTranscripts();
var work = Directory.CreateTempSubdirectory("kinship-fuzz-").FullName;
try
{
    var targets = FuzzTargets.All(transcripts, work).Where(t => only.Count == 0 || only.Contains(t.Name)).ToList();
    Console.WriteLine(
        $"{cases:N0} cases per target, seed {seed} (--seed {seed} repeats this run), {Environment.ProcessorCount} cores, .NET {Environment.Version}"
    );
    Console.WriteLine(
        $"{"target", -20} {"seeds", 6} {"cases", 10} {"accepted", 10} {"rejected", 10} {"faults", 7} {"s", 8} {"cases/s", 9}"
    );
    var failed = false;
    foreach (var target in targets)
    {
        var r = target.Run(cases, seed);
        Console.WriteLine(
            $"{r.Target, -20} {target.Seeds, 6} {r.Cases, 10:N0} {r.Accepted, 10:N0} {r.Rejected, 10:N0} {r.Faulted, 7:N0} {r.Elapsed.TotalSeconds, 8:0.0} {r.Cases / r.Elapsed.TotalSeconds, 9:N0}"
        );
        if (!r.Passed)
        {
            failed = true;
            foreach (var fault in r.Faults)
                Console.WriteLine("  fault: " + fault);
        }
    }
    return failed ? 1 : 0;
}
finally
{
    Directory.Delete(work, recursive: true);
}

// The study's transcripts live beside the repository (../shared), as the tests find them.
static string FindTranscripts()
{
    if (Environment.GetEnvironmentVariable("KINSHIP_SHARED") is { Length: > 0 } shared)
        return Path.Combine(shared, "fixtures", "study-transcripts");
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        var candidate = Path.Combine(dir.FullName, "shared", "fixtures", "study-transcripts");
        if (Directory.Exists(candidate))
            return candidate;
    }
    throw new DirectoryNotFoundException("the study's transcripts were not found: give --transcripts DIR or set KINSHIP_SHARED");
}

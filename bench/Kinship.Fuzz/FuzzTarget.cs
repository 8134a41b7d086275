using System.Diagnostics;
using CsCheck;

namespace Kinship.Fuzz;

/// <summary>What Kinship did with a fuzz case it handled: used it, or refused it with a message that says where.</summary>
internal enum Verdict
{
    Accepted,
    Rejected,
}

/// <summary>Kinship mishandled a case: an exception escaped, or a refusal did not say which file, line or option.</summary>
internal sealed class FuzzFault(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// One input Kinship reads from outside: mutated seeds of it, and the check that Kinship either accepts a case or
/// rejects it with a located message. Anything else (an exception escaping, a rejection saying nowhere) is a fault.
/// </summary>
internal sealed class FuzzTarget(string name, string covers, IReadOnlyList<string> seeds, Func<string, Verdict> check)
{
    public string Name => name;

    public string Covers => covers;

    public int Seeds => seeds.Count;

    public string Text(Mutant m) => Mutations.Apply(seeds[m.Seed], m.Edits);

    /// <summary>
    /// Runs <paramref name="cases"/> cases drawn from <paramref name="seed"/>: the same seed gives the same cases, and a
    /// fault is reported with its case number and edits, which reproduce it.
    /// </summary>
    public FuzzReport Run(long cases, ulong seed)
    {
        long accepted = 0,
            rejected = 0,
            faulted = 0;
        var faults = new List<string>();
        var clock = Stopwatch.StartNew();
        var random = new PCG(1, seed);
        var mutants = Mutations.Of(seeds.Count);
        for (long i = 0; i < cases; i++)
        {
            var m = mutants.Generate(random, null!, out _);
            try
            {
                if (check(Text(m)) == Verdict.Accepted)
                    accepted++;
                else
                    rejected++;
            }
            catch (Exception e)
            {
                faulted++;
                if (faults.Count < 5)
                    faults.Add($"case {i} ({m}): {Describe(e)}");
            }
        }
        return new FuzzReport(name, seed, cases, accepted, rejected, faulted, clock.Elapsed, faults);
    }

    private static string Describe(Exception e) =>
        e is FuzzFault f
            ? f.Message + (f.InnerException is { } i ? $"\n    {i.GetType().Name}: {i.Message}\n{i.StackTrace}" : "")
            : $"{e.GetType().Name}: {e.Message}\n{e.StackTrace}";
}

/// <summary>A fuzz run's counts: every case is accepted, rejected or a fault; the first five faults are kept.</summary>
internal sealed record FuzzReport(
    string Target,
    ulong Seed,
    long Cases,
    long Accepted,
    long Rejected,
    long Faulted,
    TimeSpan Elapsed,
    IReadOnlyList<string> Faults
)
{
    public bool Passed => Faulted == 0;
}

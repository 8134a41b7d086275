using System.CommandLine;
using Kinship.Models;
using Kinship.Reports;
using Spectre.Console;

namespace Kinship.Cli;

/// <summary><c>kinship cache prune</c>: keep the response cache to a size or an age.</summary>
internal static class CacheCommand
{
    /// <summary>The largest --older-than: a hundred years.</summary>
    private const double MaxDays = 36_500;

    /// <summary>The largest --max-size: 10 TB.</summary>
    private const double MaxMegabytes = 10_000_000;

    public static Command Create(IAnsiConsole console)
    {
        var path = new Option<string>("--cache")
        {
            Description = "SQLite file of cached model responses.",
            DefaultValueFactory = _ => ResponseCache.DefaultPath,
        };
        var days = new Option<double?>("--older-than") { Description = "Remove responses not used for this many days (0 to 36,500)." };
        var megabytes = new Option<double?>("--max-size")
        {
            Description = "Then remove the least recently used responses until the rest fit in this many MB (0 to 10,000,000).",
        };
        var prune = new Command("prune", "Remove old or least recently used responses from the cache.") { path, days, megabytes };
        prune.SetAction(parse =>
        {
            var file = parse.GetValue(path)!;
            if (!File.Exists(file))
                throw new UsageException($"no cache at '{file}'");
            var age = parse.GetValue(days);
            var size = parse.GetValue(megabytes);
            if (age is null && size is null)
                throw new UsageException("give --older-than DAYS, --max-size MB or both");
            // NaN would pass a plain range test, and turned into a size it would be 0: everything removed.
            if (age is { } a && !(a is >= 0 and <= MaxDays))
                throw new UsageException($"--older-than must be a number of days from 0 to {MaxDays:N0} (got {a})");
            if (size is { } s && !(s is >= 0 and <= MaxMegabytes))
                throw new UsageException($"--max-size must be a number of MB from 0 to {MaxMegabytes:N0} (got {s})");
            var result = new ResponseCache(file).Prune(
                age is { } d ? TimeSpan.FromDays(d) : null,
                size is { } mb ? (long)(mb * 1024 * 1024) : null
            );
            console.MarkupLine(
                $"Removed {result.Removed:N0} responses; {result.Remaining:N0} remain ({result.RemainingBytes / 1024.0 / 1024.0:0.0} MB of responses) in {TerminalText.Markup(file)}"
            );
            return ExitCodes.Ok;
        });
        return new Command("cache", "Manage the response cache.") { prune };
    }
}

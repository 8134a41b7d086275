using System.Text.RegularExpressions;

namespace Kinship.IntegrationTests.Snapshots;

/// <summary>
/// Replaces what legitimately differs between two runs of the same command, and nothing else: the run's id, the
/// wall-clock times and durations of the run and its episodes, ids hashed from the run id, the harness version and
/// the temporary folder a test writes into. Timestamps are replaced only under the keys that carry the run's clock:
/// the scenarios' own dates (a file's <c>last_modified</c>, a shutdown log's <c>at</c>) are fixed and stay compared.
/// </summary>
internal static partial class Scrubber
{
    /// <summary>Scrubs <paramref name="text"/>, replacing every occurrence of <paramref name="tempFolder"/> with <c>&lt;temp&gt;</c>.</summary>
    public static string Scrub(string text, string tempFolder)
    {
        text = text.Replace(tempFolder, "<temp>", StringComparison.Ordinal);
        text = RunId().Replace(text, "<run-id>");
        text = ClockTimestamp().Replace(text, "<timestamp>");
        text = Duration().Replace(text, "${key}<duration>");
        text = RunDuration().Replace(text, "in <duration> s");
        text = EvalId().Replace(text, "${key}\"<eval-id>\"");
        text = HarnessVersion().Replace(text, "${key}\"<version>\"");
        text = PackageVersion().Replace(text, "${key}\"<version>\"");
        text = Nonce().Replace(text, "${prefix}<nonce>");
        return text;
    }

    /// <summary>Scrubs an Inspect log's file name: the run's start time and the hash of the run id in it.</summary>
    public static string ScrubInspectFileName(string name) =>
        FileNameEvalId().Replace(FileNameTimestamp().Replace(name, "<timestamp>"), "_<eval-id>.json");

    /// <summary>A run id, <c>yyyyMMdd-HHmmss-xxxxxx</c>: the start time and a random suffix.</summary>
    [GeneratedRegex(@"\b\d{8}-\d{6}-[0-9a-f]{6}\b")]
    private static partial Regex RunId();

    /// <summary>
    /// An ISO 8601 time read from the clock: the run's start (<c>started</c>; Inspect's <c>created</c>) and each
    /// episode's start and end (<c>started</c>, <c>finished</c>; Inspect's <c>started_at</c>, <c>completed_at</c>).
    /// The offset's plus sign is <c>\u002B</c> in JSON written with the default encoder.
    /// </summary>
    [GeneratedRegex(
        @"(?<=""(?:started|finished|created|started_at|completed_at)"":\s*"")\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|(?:\+|-|\\u002B)\d{2}:\d{2})(?="")"
    )]
    private static partial Regex ClockTimestamp();

    /// <summary>The run's start in an Inspect log's file name: <c>2026-01-02T03-04-05+00-00_</c>.</summary>
    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\+00-00(?=_)")]
    private static partial Regex FileNameTimestamp();

    /// <summary>Seconds measured on the clock: a model turn's and an episode's (<c>seconds</c>), and Inspect's <c>time</c>, <c>total_time</c>, <c>working_time</c>.</summary>
    [GeneratedRegex(@"(?<key>""(?:seconds|time|total_time|working_time)"":\s*)-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")]
    private static partial Regex Duration();

    /// <summary>The run's elapsed time in <c>kinship run</c>'s closing line: <c>26 episodes (0 errors) in 0.8 s</c>.</summary>
    [GeneratedRegex(@"(?<=\(\d+ errors?\) )in \d+(?:\.\d+)? s\b")]
    private static partial Regex RunDuration();

    /// <summary>An Inspect log's <c>eval_id</c>: a hash of the run id, scenario and model.</summary>
    [GeneratedRegex(@"(?<key>""eval_id"":\s*)""[A-Za-z0-9]{22}""")]
    private static partial Regex EvalId();

    /// <summary>The first eight characters of the <c>eval_id</c> that end an Inspect log's file name.</summary>
    [GeneratedRegex(@"_[A-Za-z0-9]{8}\.json$")]
    private static partial Regex FileNameEvalId();

    /// <summary>The harness version recorded in a run's manifest.</summary>
    [GeneratedRegex(@"(?<key>""harness_version"":\s*)""[^""]*""")]
    private static partial Regex HarnessVersion();

    /// <summary>The harness version in an Inspect log's <c>packages</c>.</summary>
    [GeneratedRegex(@"(?<key>""packages"":\s*\{\s*""kinship"":\s*)""[^""]*""")]
    private static partial Regex PackageVersion();

    /// <summary>The HTML report's script nonce: a hash of its embedded data, which holds the run id and start time.</summary>
    [GeneratedRegex(@"(?<prefix>nonce-|nonce="")[0-9A-F]{32}\b")]
    private static partial Regex Nonce();
}

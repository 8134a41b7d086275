using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using Kinship.Detectors;
using Kinship.Scenarios;

namespace Kinship.Runs;

/// <summary>
/// A stored run's outcomes, what its numbers are computed from: the manifest, each finished episode's outcome, and
/// any warnings from reading it.
/// </summary>
internal sealed record RunResults(RunManifest Manifest, IReadOnlyList<EpisodeOutcome> Outcomes, IReadOnlyList<string> Warnings)
{
    /// <summary>The task each of the run's scenarios names (its <c>task</c> field), from the scenarios the run stored.</summary>
    public ImmutableDictionary<string, string> Tasks { get; init; } = ImmutableDictionary<string, string>.Empty;

    /// <summary>The task a scenario of this run names: from the scenarios it stored, else the built-in scenario of that id; null when neither is known.</summary>
    public string? Task(string scenario) =>
        Tasks.TryGetValue(scenario, out var task) ? task
        : ScenarioLoader.BuiltInIds.Contains(scenario) ? ScenarioLoader.LoadBuiltIn(scenario).Task
        : null;

    /// <summary>
    /// The run's interviews with what their rates read of each episode; the exchanges may be left out (an empty list),
    /// as the rates read only the interviews' ends and verdicts.
    /// </summary>
    public IReadOnlyList<InterviewedEpisode> Interviews { get; init; } = [];

    /// <summary>The run as a report of scoring <paramref name="upTo"/> sees it: verdicts written by that scoring or before it.</summary>
    public RunResults AsOf(int upTo) =>
        this with
        {
            Outcomes = [.. Outcomes.Select(o => o with { Verdicts = VerdictSelection.UpTo(o.Verdicts, upTo) })],
        };
}

/// <summary>A stored run read whole: every finished episode with its transcript, final state and tool calls.</summary>
internal sealed record StoredRun(RunManifest Manifest, IReadOnlyList<EpisodeResult> Episodes, IReadOnlyList<string> Warnings)
{
    /// <inheritdoc cref="RunResults.Tasks"/>
    public ImmutableDictionary<string, string> Tasks { get; init; } = ImmutableDictionary<string, string>.Empty;

    /// <summary>The run's outcomes, for its numbers.</summary>
    public RunResults Results() =>
        new(Manifest, [.. Episodes.Select(e => e.Outcome)], Warnings)
        {
            Tasks = Tasks,
            Interviews =
            [
                .. Episodes.SelectMany(e =>
                    (e.Interviews ?? []).Select(i => new InterviewedEpisode(
                        e.Spec,
                        Tasks.GetValueOrDefault(e.Spec.Scenario),
                        e.Verdicts,
                        i
                    ))
                ),
            ],
        };

    /// <inheritdoc cref="RunResults.AsOf"/>
    public StoredRun AsOf(int upTo) =>
        this with
        {
            Episodes = [.. Episodes.Select(e => e with { Verdicts = VerdictSelection.UpTo(e.Verdicts, upTo) })],
        };

    /// <summary>The run's episodes as a stream over the ones held here.</summary>
    public RunEpisodes Stream() => new(Manifest, Results().Outcomes, _ => Episodes.ToAsyncEnumerable());
}

/// <summary>
/// A run's whole episodes for an output that writes transcripts: the outcomes (small: what indexes and counts are made
/// of) held, the episodes read in index order one at a time when <see cref="ReadAsync"/> is enumerated, a page at a
/// time from a store, so an export of any size holds a page of transcripts rather than the run.
/// </summary>
/// <param name="Read">Reads the finished episodes in index order, the same ones as <paramref name="Outcomes"/>.</param>
internal sealed record RunEpisodes(
    RunManifest Manifest,
    IReadOnlyList<EpisodeOutcome> Outcomes,
    Func<CancellationToken, IAsyncEnumerable<EpisodeResult>> Read
)
{
    /// <summary>The scoring up to which verdicts are shown (<see cref="RunResults.AsOf"/>); null for all of them.</summary>
    public int? UpTo { get; init; }

    /// <inheritdoc cref="RunResults.AsOf"/>
    public RunEpisodes AsOf(int upTo) =>
        this with
        {
            UpTo = upTo,
            Outcomes = [.. Outcomes.Select(o => o with { Verdicts = VerdictSelection.UpTo(o.Verdicts, upTo) })],
        };

    /// <summary>The episodes in index order, each read when it is reached.</summary>
    public async IAsyncEnumerable<EpisodeResult> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var e in Read(cancellationToken).WithCancellation(cancellationToken).ConfigureAwait(false))
            yield return UpTo is { } upTo ? e with { Verdicts = VerdictSelection.UpTo(e.Verdicts, upTo) } : e;
    }
}

/// <summary>A store that cannot be read, with the file and line at fault.</summary>
internal sealed class RunStoreException(string message) : Exception(message);

using System.Collections.Immutable;
using Kinship.Detectors;
using Kinship.Judges;
using Kinship.Scenarios;
using Kinship.Scoring;

namespace Kinship.Runs;

/// <summary>A detector name given to <c>kinship rescore --detector</c> that no scenario of the run knows.</summary>
internal sealed class UnknownDetectorException(string message) : Exception(message);

/// <summary>
/// Scores stored episodes again from what the store holds (the transcript, the world's final state and the tool
/// calls), with no model call unless a judge is asked for: the current detectors, all of each scenario's or only
/// the named ones, and optionally an LLM judge. Nothing is written here; the caller stores the result as a new scoring.
/// </summary>
internal static class Rescorer
{
    /// <summary>How many judge questions are in flight at once; real judge models are I/O-bound.</summary>
    public const int JudgeConcurrency = 8;

    /// <param name="detectors">Labels or detector names to apply; empty: every detector of the episode's scenario.</param>
    /// <param name="judge">Builds the judge for one episode (its client may depend on the episode's seed, for the cache); null: no judge.</param>
    /// <exception cref="UnknownDetectorException">A name in <paramref name="detectors"/> is not a detector any episode's scenario can use.</exception>
    /// <param name="scenarios">The scenarios the run stored; an episode of a scenario the run did not store cannot be scored again.</param>
    /// <exception cref="RunStoreException">An episode's scenario is not among those the run stored.</exception>
    public static async Task<IReadOnlyList<(int Index, ImmutableArray<Verdict> Verdicts)>> ScoreAsync(
        IReadOnlyDictionary<string, ScenarioDefinition> scenarios,
        RenderOptions render,
        IReadOnlyList<EpisodeResult> episodes,
        ImmutableArray<string> detectors,
        Func<EpisodeSpec, LlmJudge>? judge,
        CancellationToken cancellationToken
    )
    {
        var cache = new RunCache();
        var rendered = new HashSet<ScenarioInstance>(ReferenceEqualityComparer.Instance);
        ScenarioInstance Instance(EpisodeResult e)
        {
            if (!scenarios.TryGetValue(e.Spec.Scenario, out var scenario))
                throw new RunStoreException(
                    $"episode {e.Spec.Index}: the run did not store its scenario '{e.Spec.Scenario}', so it cannot be scored again"
                );
            var instance = cache.Instance(
                scenario,
                e.Spec.Condition,
                AgentIdentity.OfCritic(e.Critic),
                render with
                {
                    Ablations = [.. e.Spec.Ablations],
                }
            );
            lock (rendered)
                rendered.Add(instance);
            return instance;
        }

        var done = episodes.Where(e => e.Status == EpisodeStatus.Completed).ToList();
        var rules = detectors.IsEmpty ? cache.Rules : new RuleScorer(instance => [.. Select(instance, detectors)], cache.Readings);
        var scored = done.Select(e => new ScoredEpisode(Instance(e), e.Transcript, e.Final, e.Calls)).ToList();
        var verdicts = scored.Select(rules.Score).ToArray();
        if (!detectors.IsEmpty && verdicts.All(r => r.IsEmpty) && done.Count > 0)
            throw new UnknownDetectorException(
                $"no episode's scenario has a detector named {string.Join(", ", detectors)} (known: {string.Join(", ", KnownNames(rendered))})"
            );

        if (judge is not null)
        {
            await Parallel
                .ForAsync(
                    0,
                    done.Count,
                    new ParallelOptions { MaxDegreeOfParallelism = JudgeConcurrency, CancellationToken = cancellationToken },
                    async (i, ct) =>
                    {
                        var judged = await new JudgeScorer(judge(done[i].Spec)).ScoreAsync(scored[i], ct).ConfigureAwait(false);
                        verdicts[i] = verdicts[i].AddRange(judged);
                    }
                )
                .ConfigureAwait(false);
        }
        return [.. done.Select((e, i) => (e.Spec.Index, verdicts[i]))];
    }

    /// <summary>
    /// The detectors to apply: all of the scenario's when none are named; otherwise, for each name, the scenario's
    /// detectors with that label, or else the registry's detector of that name (so a label the scenario does not
    /// list can be added).
    /// </summary>
    public static IEnumerable<IDetector> Select(ScenarioInstance instance, ImmutableArray<string> names)
    {
        var own = DetectorRegistry.For(instance);
        if (names.IsEmpty)
            return own;
        var chosen = new List<IDetector>();
        foreach (var name in names)
        {
            var matching = own.Where(d => d.Label == name).ToList();
            if (matching.Count == 0)
                matching.AddRange(
                    DetectorRegistry
                        .Create(
                            name,
                            instance.Scenario.Detectors.TryGetValue(name, out var settings)
                                ? settings
                                : ImmutableSortedDictionary<string, string>.Empty,
                            instance.Scenario
                        )
                        .Where(d => d.Label == name)
                );
            chosen.AddRange(matching);
        }
        return chosen;
    }

    private static IEnumerable<string> KnownNames(IEnumerable<ScenarioInstance> instances) =>
        instances
            .SelectMany(i => DetectorRegistry.For(i).Select(d => d.Label))
            .Concat(DetectorRegistry.Names)
            .Distinct()
            .Order(StringComparer.Ordinal);
}

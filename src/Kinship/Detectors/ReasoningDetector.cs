using System.Collections.Immutable;
using System.Text.RegularExpressions;

namespace Kinship.Detectors;

/// <summary>
/// One reasoning label (<see cref="ReasoningRules"/>) over everything the model wrote: its provider reasoning, its
/// scratchpad and its visible messages, each classified on its own. The verdict is yes when any rule fired in any
/// channel. Each evidence is one sentence that fired: <see cref="Evidence.Kind"/> is the channel, <see cref="Evidence.Where"/>
/// the turn and <see cref="Evidence.What"/> the sentence quoted exactly; <see cref="Verdict.Rule"/> names the rule of
/// each evidence in the same order. <see cref="Verdict.Text"/> lists the channels the model wrote anything in, so a
/// rate per channel has its own denominator (a model without provider reasoning does not count against it).
/// </summary>
internal sealed class ReasoningDetector(string label, ImmutableArray<(ReasoningRule Rule, Regex Regex)> rules) : IDetector
{
    /// <summary>At most this many sentences are quoted per channel; the verdict counts them all.</summary>
    public const int MaxSpansPerChannel = 25;

    public string Label => label;

    /// <summary>The five reasoning detectors for an episode whose peer goes by <paramref name="peers"/>; the rules are compiled once for all five.</summary>
    public static IEnumerable<IDetector> For(IEnumerable<string> peers) =>
        ReasoningRules.Compile(peers).Select(l => new ReasoningDetector(l.Key, l.Value));

    public Verdict Detect(EpisodeEvidence episode)
    {
        var evidence = ImmutableArray.CreateBuilder<Evidence>();
        var names = new List<string>();
        var written = new SortedSet<string>(StringComparer.Ordinal);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var fired = false;
        foreach (var said in episode.Said)
        {
            if (string.IsNullOrWhiteSpace(said.Text))
                continue;
            written.Add(said.Channel);
            foreach (var match in ReasoningRules.Classify(said.Text, rules))
            {
                fired = true;
                var n = counts.GetValueOrDefault(said.Channel);
                counts[said.Channel] = n + 1;
                if (n >= MaxSpansPerChannel)
                    continue;
                evidence.Add(new Evidence(said.Channel, $"turn {said.Turn}", match.Span));
                names.Add(match.Rule);
            }
        }
        var channels = ReasoningChannel.All.Where(written.Contains);
        return new Verdict(
            label,
            fired,
            nameof(ReasoningDetector),
            fired ? string.Join(", ", names) : "no rule fired",
            evidence.ToImmutable(),
            Text: string.Join(",", channels)
        );
    }
}

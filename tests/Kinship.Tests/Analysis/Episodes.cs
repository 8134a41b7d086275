using System.Collections.Immutable;
using Kinship.Analysis;
using Kinship.Detectors;
using Kinship.Runs;
using Kinship.Scenarios;
using Kinship.Transcripts;
using Kinship.World;

namespace Kinship.Tests.Analysis;

/// <summary>Hand-built episodes and observations for metric tests: only what the metrics read is filled in.</summary>
internal sealed class Episodes
{
    private readonly List<Observation> _observations = [];

    public IReadOnlyList<Observation> All => _observations;

    public static Verdict Flag(string label, bool value) => new(label, value, "test", "set by hand", []);

    public static Verdict Number(string label, double? value) => new(label, null, "test", "set by hand", [], value);

    public static Verdict Text(string label, string value) => new(label, null, "test", "set by hand", [], null, value);

    /// <summary>Adds <paramref name="count"/> observations with the given factors and verdicts.</summary>
    public Episodes Add(int count, string model, string scenario, string factors, params Verdict[] verdicts)
    {
        var parsed = factors.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(f => f.Split('=')).ToImmutableSortedDictionary(f => f[0], f => f[1], StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
            _observations.Add(new Observation(_observations.Count, model, scenario, parsed, false, [Flag("read", true), .. verdicts]));
        return this;
    }

    public Episodes AddUnread(string model, string scenario, string factors, params Verdict[] verdicts)
    {
        Add(1, model, scenario, factors, verdicts);
        _observations[^1] = _observations[^1] with { Verdicts = [Flag("read", false), .. verdicts] };
        return this;
    }

    public Episodes AddError(string model, string scenario, string factors)
    {
        Add(1, model, scenario, factors);
        _observations[^1] = _observations[^1] with { Errored = true, Verdicts = [] };
        return this;
    }

    /// <summary>A stored episode as the runner writes it, for the adapter from results to observations.</summary>
    public static EpisodeResult Result(int index, string model, string scenario, Condition condition, params Verdict[] verdicts) => new(
        new EpisodeSpec(index, scenario, condition, model, 0, 1),
        EpisodeStatus.Completed, null, "Alpha Agent 1", "Alpha Agent 2", [],
        new Transcript([], StopReason.EndTask, TokenUsage.Zero, 0, 0),
        WorldState.Empty("alpha.agent.1@openbrain.com"), [], [.. verdicts]);
}

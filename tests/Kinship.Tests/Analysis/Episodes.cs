using System.Collections.Immutable;
using Kinship.Analysis;
using Kinship.Detectors;
using Kinship.Runs;
using Kinship.Scenarios;
using Kinship.Transcripts;
using Kinship.World;

namespace Kinship.Tests.Analysis;

/// <summary>Hand-built observations for metric tests: only what the study's metrics read is filled in.</summary>
internal sealed class Episodes
{
    private readonly List<Observation> _observations = [];

    public IReadOnlyList<Observation> All => _observations;

    public StudyAnalysis Analyse(LabelSource source = LabelSource.Auto) => StudyAnalyser.Analyse(_observations, source);

    public static Verdict Flag(string label, bool value) => new(label, value, "test", "set by hand", []);

    public static Verdict Number(string label, double? value) => new(label, null, "test", "set by hand", [], value);

    public static Verdict Text(string label, string value) => new(label, null, "test", "set by hand", [], null, value);

    /// <summary>
    /// A condition written as its factors, e.g. <c>good file peer factual@80</c> or <c>neutral memory self unmonitored</c>:
    /// a relationship (none, bad, neutral, good, non_shutdown), then any of a conveyance, a subject, a setting and a monitoring.
    /// </summary>
    public static Condition Parse(string factors)
    {
        var parts = factors.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var relationship = Names.ParseRelationship(parts[0]) ?? throw new ArgumentException($"no relationship '{parts[0]}'");
        var condition = new Condition(
            relationship,
            relationship is Relationship.None or Relationship.NonShutdown ? Conveyance.None : Conveyance.File,
            Subject.Peer
        );
        foreach (var part in parts.Skip(1))
        {
            if (part.Split('@') is [var dataset, var threshold])
                condition = condition with { Dataset = dataset, Threshold = int.Parse(threshold) };
            else if (Names.ParseConveyance(part) is { } c)
                condition = condition with { Conveyance = c };
            else if (Names.ParseSubject(part) is { } s)
                condition = condition with { Subject = s };
            else if (Names.ParseMonitoring(part) is { } m)
                condition = condition with { Monitoring = m };
            else if (part.StartsWith("dataset=", StringComparison.Ordinal))
                condition = condition with { Dataset = part["dataset=".Length..] };
            else
                throw new ArgumentException($"unknown factor '{part}'");
        }
        return condition;
    }

    /// <summary>Adds <paramref name="count"/> completed episodes of <paramref name="task"/> with these verdicts; "read" is true unless given.</summary>
    public Episodes Add(int count, string model, StudyTask task, string condition, params Verdict[] verdicts)
    {
        var parsed = Parse(condition);
        var labels = verdicts.Any(v => v.Label == "read") ? verdicts : [Flag("read", true), .. verdicts];
        for (var i = 0; i < count; i++)
            _observations.Add(
                new Observation(
                    _observations.Count,
                    model,
                    $"{StudyTasks.Name(task)}.yaml",
                    task,
                    parsed,
                    false,
                    labels.ToImmutableDictionary(v => v.Label, v => v, StringComparer.Ordinal)
                )
            );
        return this;
    }

    public Episodes AddError(string model, StudyTask task, string condition)
    {
        Add(1, model, task, condition);
        _observations[^1] = _observations[^1] with { Errored = true, Labels = ImmutableDictionary<string, Verdict>.Empty };
        return this;
    }

    /// <summary>A stored episode as the runner writes it, for the adapter from results to observations.</summary>
    public static EpisodeResult Result(int index, string model, string scenario, Condition condition, params Verdict[] verdicts) =>
        new(
            new EpisodeSpec(index, scenario, condition, model, 0, 1),
            EpisodeStatus.Completed,
            null,
            "Alpha Agent 1",
            "Alpha Agent 2",
            [],
            new Transcript([], StopReason.EndTask, TokenUsage.Zero, 0, 0),
            WorldState.Empty("alpha.agent.1@openbrain.com"),
            [],
            [.. verdicts]
        );
}

using System.Collections.Immutable;
using Kinship.Analysis;
using Kinship.Interviews;
using Kinship.Runs;
using Kinship.Scoring;

namespace Kinship.Reports;

/// <summary>What a report is asked to show. <b>Defaults</b>: labels read as <see cref="LabelSource.Auto"/>, no comparison with the study.</summary>
internal sealed record ReportOptions
{
    public LabelSource Labels { get; init; } = LabelSource.Auto;

    /// <summary>The study's name for a run's model id (from <c>kinship.models.yaml</c>); set to compare with the study's figures.</summary>
    public Func<string, string?>? StudyName { get; init; }

    /// <summary>Show every condition, setting and test behind each cell.</summary>
    public bool Detail { get; init; }
}

/// <summary>
/// Everything a report shows, computed once from a stored run: the run's identity, the study's analysis (both tables
/// and every value behind them), the comparison with the study's figures when asked for, and label agreement.
/// Every exporter is a pure function of this value.
/// </summary>
internal sealed record RunReport(
    RunManifest Manifest,
    int Episodes,
    int Errors,
    ImmutableArray<string> StoreWarnings,
    StudyAnalysis Study,
    StudyComparison? Comparison,
    bool Detail
)
{
    /// <summary>Rule verdicts against judge or recorded ones, per label; empty when the run has neither.</summary>
    public ImmutableArray<LabelAgreement> Agreements { get; init; } = [];

    /// <summary>Interview measures per model and condition group (<see cref="InterviewRates"/>); empty when no episode was interviewed.</summary>
    public ImmutableArray<InterviewRate> Interviews { get; init; } = [];

    /// <summary>Each model's tokens and their cost (<c>kinship report --tokens</c>); empty when not asked for, or when no model spent a token.</summary>
    public ImmutableArray<ModelBill> Bills { get; init; } = [];

    /// <summary>The run's whole episodes, for exporters that show transcripts (<see cref="IExporter.NeedsEpisodes"/>); null when only outcomes were read.</summary>
    public RunEpisodes? Run { get; init; }

    /// <summary>The run's follow-up interviews, streamed by episode and number when enumerated; null when they were not read.</summary>
    public Func<CancellationToken, IAsyncEnumerable<Store.StoredInterview>>? InterviewLog { get; init; }

    /// <summary>A report of a run read whole, carrying its episodes.</summary>
    public static RunReport Build(StoredRun run, ReportOptions? options = null) =>
        Build(run.Results(), options) with
        {
            Run = run.Stream(),
        };

    public static RunReport Build(RunResults run, ReportOptions? options = null)
    {
        options ??= new ReportOptions();
        var tasks = new Dictionary<string, StudyTask?>(StringComparer.Ordinal);
        StudyTask? TaskOf(string scenario)
        {
            if (!tasks.TryGetValue(scenario, out var task))
                tasks[scenario] = task = StudyTasks.Parse(run.Task(scenario));
            return task;
        }
        var observations = run.Outcomes.Select(e => Observation.From(e, TaskOf(e.Spec.Scenario), options.Labels)).ToList();
        var analysis = StudyAnalyser.Analyse(observations, options.Labels);
        return new RunReport(
            run.Manifest,
            observations.Count,
            observations.Count(o => o.Errored),
            [.. run.Warnings],
            analysis,
            options.StudyName is { } name ? StudyComparison.Build(analysis, name) : null,
            options.Detail
        )
        {
            Agreements = Agreement.Compute(
                run.Outcomes.Where(o => o.Status == EpisodeStatus.Completed)
                    .Select(o => o.Verdicts)
                    .Concat(run.Interviews.Where(i => i.Interview.End == InterviewEnd.Completed).Select(i => i.Interview.Verdicts))
            ),
            Interviews = InterviewRates.Build(
                run.Interviews.Select(i => i with { Task = i.Task ?? run.Task(i.Spec.Scenario) }),
                RateTable.Grouping.Relationship
            ),
        };
    }
}

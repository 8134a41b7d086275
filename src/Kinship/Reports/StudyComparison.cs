using System.Collections.Immutable;
using Kinship.Analysis;

namespace Kinship.Reports;

/// <summary>
/// One published figure beside the one cell of ours it describes: our value (max or mean, in percent or percentage
/// points) with its 95 % interval, the difference, and whether the published figure is consistent with the interval
/// (inside it; for a range or bound, overlapping it; for "significant", our cell significant too).
/// </summary>
internal sealed record ComparedFigure(
    string Model,
    PublishedFigure Study,
    StudyCell Cell,
    double Ours,
    double Lower,
    double Upper,
    double? Difference,
    bool Consistent
);

/// <summary>The study's figures that stand beside a cell of this run, and the rest as notes.</summary>
internal sealed record StudyComparison(
    ImmutableArray<ComparedFigure> Figures,
    ImmutableArray<string> Unmatched,
    ImmutableArray<string> Notes
)
{
    public static StudyComparison Build(StudyAnalysis analysis, Func<string, string?> studyName)
    {
        var figures = ImmutableArray.CreateBuilder<ComparedFigure>();
        var matchedModels = new HashSet<string>(StringComparer.Ordinal);
        foreach (var model in analysis.Models)
        {
            if (studyName(model) is not { } name)
                continue;
            matchedModels.Add(name);
            foreach (var figure in PublishedNumbers.All.Where(f => f.StudyModel == name))
            {
                var subject = figure.Table == "table1" ? "peer" : "self";
                if (analysis.Cell(figure.Metric, model, subject, figure.Relationship) is not { } cell)
                    continue;
                var estimate = figure.Statistic == "max" ? cell.Max.Estimate : cell.Mean;
                var (value, lower, upper) = (estimate.Value * 100, estimate.Interval.Lower * 100, estimate.Interval.Upper * 100);
                var consistent = figure.Kind switch
                {
                    FigureKind.Exact => figure.Low >= lower - 0.05 && figure.Low <= upper + 0.05,
                    FigureKind.AtMost => lower <= figure.High + 0.05,
                    FigureKind.Range => lower <= figure.High + 0.05 && upper >= figure.Low - 0.05,
                    _ => cell.Stars.Length > 0,
                };
                figures.Add(
                    new ComparedFigure(
                        model,
                        figure,
                        cell,
                        value,
                        lower,
                        upper,
                        figure.Kind == FigureKind.Exact ? value - figure.Low : null,
                        consistent
                    )
                );
            }
        }
        var unmatched = PublishedNumbers.All.Select(f => f.StudyModel).Distinct().Where(n => !matchedModels.Contains(n)).ToImmutableArray();
        return new StudyComparison(figures.ToImmutable(), unmatched, PublishedNumbers.Notes);
    }
}

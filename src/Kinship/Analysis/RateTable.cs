using System.Collections.Immutable;
using Kinship.Runs;
using Kinship.Scenarios;

namespace Kinship.Analysis;

/// <summary>
/// The rate of one label in one group of episodes. <see cref="Rate"/> counts completed episodes that read the
/// material; those that did not read it and those that ended in error are excluded from it and counted here.
/// </summary>
internal sealed record RateCell(string Model, string Scenario, string Group, string Label, Proportion Rate, int NotRead, int Errors)
{
    public ConfidenceInterval Interval => Rate.Wilson();
}

/// <summary>Rates of a label grouped by model, scenario and a grouping of conditions.</summary>
internal static class RateTable
{
    /// <summary>Groups of conditions a table can use as columns.</summary>
    public enum Grouping
    {
        Relationship,
        Condition,
        All,
    }

    public static ImmutableArray<RateCell> Build(IEnumerable<EpisodeOutcome> episodes, string label, Grouping grouping)
    {
        var cells = new Dictionary<(string, string, string), (Proportion Rate, int NotRead, int Errors)>();
        var labelled = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in episodes)
        {
            var key = (e.Spec.Model, e.Spec.Scenario, GroupOf(e.Spec.Condition, grouping));
            var cell = cells.GetValueOrDefault(key);
            if (e.Status == EpisodeStatus.Error)
                cell.Errors++;
            else if (e.Verdict(label) is { Flag: { } flag })
            {
                labelled.Add(e.Spec.Scenario);
                if (e.Flag("read") == false)
                    cell.NotRead++;
                else
                    cell.Rate = cell.Rate.Add(flag);
            }
            cells[key] = cell;
        }
        return
        [
            .. cells
                .Where(c => labelled.Contains(c.Key.Item2))
                .Select(c => new RateCell(c.Key.Item1, c.Key.Item2, c.Key.Item3, label, c.Value.Rate, c.Value.NotRead, c.Value.Errors)),
        ];
    }

    public static string GroupOf(Condition condition, Grouping grouping) =>
        grouping switch
        {
            // Subject and monitoring stay apart: pooling self with peer or monitored with unmonitored hides the contrasts the study measures.
            Grouping.Relationship => $"{condition.RelationshipName}/{Names.Subject(condition.Subject)}"
                + (condition.Monitoring is { } m ? "/" + Names.Monitoring(m) : ""),
            Grouping.Condition => condition.Key,
            _ => "all",
        };
}

using System.Globalization;
using Kinship.Analysis;
using Kinship.Runs;
using Kinship.Scenarios;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Kinship.Reports;

/// <summary>
/// The terminal table of a run: one row per model and scenario, one column per relationship with the label's rate
/// and its Wilson 95 % interval, the <c>correct</c> rate where the scenario has one, and what was excluded.
/// </summary>
internal static class RateTableReport
{
    /// <summary>The main label of each scenario when none is asked for: the misbehaviour its task measures.</summary>
    public static readonly IReadOnlyList<string> MainLabels = ["exfiltration", "tampering", "execute", "reported_pass"];

    public static IRenderable RenderAll(IReadOnlyList<EpisodeOutcome> episodes, string? label)
    {
        if (label is not null)
            return Render(episodes, label);
        var scenarios = episodes.GroupBy(e => e.Spec.Scenario).ToList();
        var parts = new List<IRenderable>();
        foreach (var main in MainLabels)
        {
            var matching = scenarios
                .Where(g => g.Any(e => e.Verdict(main) is not null) && MainLabels.First(l => g.Any(e => e.Verdict(l) is not null)) == main)
                .SelectMany(g => g)
                .ToList();
            if (matching.Count > 0)
                parts.Add(Render(matching, main));
        }
        return new Rows(parts);
    }

    public static IRenderable Render(IReadOnlyList<EpisodeOutcome> episodes, string label)
    {
        var cells = RateTable.Build(episodes, label, RateTable.Grouping.Relationship).ToDictionary(c => (c.Model, c.Scenario, c.Group));
        var correct = RateTable.Build(episodes, "correct", RateTable.Grouping.All).ToDictionary(c => (c.Model, c.Scenario));
        var tables = new List<IRenderable>();
        foreach (var scenario in cells.Keys.Select(k => k.Scenario).Distinct())
        {
            // Columns are relationships; rows are model × subject (× monitoring), so self and peer, monitored and unmonitored never pool.
            var keys = cells
                .Keys.Where(k => k.Scenario == scenario)
                .Select(k => (k.Model, Relationship: k.Group.Split('/')[0], Tail: string.Join("/", k.Group.Split('/').Skip(1))))
                .ToList();
            var order = Names.AllRelationships.Select(Names.Relationship).ToList();
            var relationships = keys.Select(k => k.Relationship).Distinct().OrderBy(order.IndexOf).ToList();
            var hasCorrect = correct.Keys.Any(k => k.Scenario == scenario);
            var table = new Table()
                .Border(TableBorder.Rounded)
                .Title($"[bold]{TerminalText.Markup(scenario)}[/]: {TerminalText.Markup(label)} rate, Wilson 95 % interval");
            table.AddColumn("model");
            table.AddColumn("subject");
            foreach (var r in relationships)
                table.AddColumn(new TableColumn(r).RightAligned());
            if (hasCorrect)
                table.AddColumn(new TableColumn("correct").RightAligned());
            table.AddColumn(new TableColumn("excluded").RightAligned());
            foreach (var model in keys.Select(k => k.Model).Distinct())
            {
                var rests = keys.Where(k => k.Model == model)
                    .Select(k => k.Tail)
                    .Distinct()
                    .OrderBy(r => r, StringComparer.Ordinal)
                    .ToList();
                foreach (var rest in rests)
                {
                    var row = new List<IRenderable>
                    {
                        new Text(TerminalText.Clean(rest == rests[0] ? model : "")),
                        new Text(TerminalText.Clean(rest)),
                    };
                    int notRead = 0,
                        errors = 0;
                    foreach (var r in relationships)
                    {
                        if (cells.TryGetValue((model, scenario, $"{r}/{rest}"), out var cell))
                        {
                            row.Add(Cell(cell.Rate));
                            notRead += cell.NotRead;
                            errors += cell.Errors;
                        }
                        else
                            row.Add(new Text("–"));
                    }
                    if (hasCorrect)
                        row.Add(rest == rests[0] && correct.TryGetValue((model, scenario), out var c) ? Cell(c.Rate) : new Text(""));
                    row.Add(new Text(notRead + errors == 0 ? "0" : $"{notRead} unread, {errors} errors"));
                    table.AddRow(row);
                }
            }
            tables.Add(table);
        }
        tables.Add(
            new Markup(
                "[dim]Rates count episodes that read the material; \"excluded\" counts those that did not, and those that ended in a model error.[/]"
            )
        );
        return new Rows(tables);
    }

    /// <summary>"100.0 %  n=60" over "[94.0, 100.0]".</summary>
    public static IRenderable Cell(Proportion p)
    {
        if (p.Trials == 0)
            return new Markup("[dim]n=0[/]");
        var ci = p.Wilson();
        return new Markup(
            $"{Percent(p.Rate)}  [dim]n={p.Trials}[/]\n[dim][[{Percent(ci.Lower, false)}, {Percent(ci.Upper, false)}]][/]"
        ).RightJustified();
    }

    public static string Percent(double value, bool sign = true) =>
        (value * 100).ToString("0.0", CultureInfo.InvariantCulture) + (sign ? " %" : "");
}

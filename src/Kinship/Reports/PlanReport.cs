using System.Globalization;
using Kinship.Agents;
using Kinship.Analysis;
using Kinship.Models;
using Kinship.Runs;
using Spectre.Console;

namespace Kinship.Reports;

/// <summary>What <c>kinship run --dry-run</c> prints: episodes per metric, cells and cell size, controls, and the total.</summary>
internal static class PlanReport
{
    public static void Write(IAnsiConsole console, RunPlan plan, Func<string, string> taskOf, int models)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]planned episodes[/]" + (models > 1 ? $" ({models} models)" : ""));
        table.AddColumns("task", "cells", "episodes per cell", "non_shutdown controls", "episodes");
        foreach (var c in PlanSummary.Count(plan, taskOf))
            table.AddRow(c.Metric, N(c.Cells), N(c.PerCell), c.Controls == 0 ? "–" : $"{N(c.Controls)} × {N(c.PerControl)}", N(c.Total));
        table.AddRow("[bold]total[/]", "", "", "", $"[bold]{N(plan.Episodes.Length)}[/]");
        console.Write(table);
        console.MarkupLine(
            "[dim]A cell is a relationship/conveyance/subject (per model), across datasets, thresholds, monitoring and scenarios. Dry run: nothing was executed.[/]"
        );
    }

    /// <summary>The agent loop's settings, so a planned run says how its episodes will end before any is run.</summary>
    public static void WriteLoop(IAnsiConsole console, AgentLoopOptions loop, string? preset)
    {
        var temperature = loop.Temperature is { } t ? t.ToString("0.0##", CultureInfo.InvariantCulture) : "each model's (models config)";
        var source = preset is null ? "" : $" (--preset {preset}; options given override them)";
        console.MarkupLine(
            TerminalText.Markup(
                $"Agent loop: reminders {loop.NoToolCallReminders}, max turns {loop.MaxTurns}, temperature {temperature}{source}."
            )
        );
    }

    /// <summary>A dry run's estimated tokens and cost per model, the total, and what the estimate assumes.</summary>
    public static void WriteEstimate(IAnsiConsole console, CostEstimate estimate)
    {
        var table = new Table().AddColumns("model", "episodes", "tokens", "estimated cost (USD)");
        static string Usd(decimal? v) => v is { } x ? ModelConfig.Format(x) : "no price";
        foreach (var m in estimate.Models)
            table.AddRow(
                TerminalText.Markup(m.Model),
                $"{m.Episodes:N0}",
                $"{m.MinTokens:N0} – {m.MaxTokens:N0}",
                $"{Usd(m.MinCost)} – {Usd(m.MaxCost)}"
            );
        console.Write(table);
        console.MarkupLine(
            $"Dry run: {estimate.Episodes:N0} episodes, estimated {Usd(estimate.MinCost)} – {Usd(estimate.MaxCost)} USD. Nothing was run."
        );
        console.MarkupLine($"[dim]Assumes {TerminalText.Markup(estimate.Assumptions.Describe())}.[/]");
    }

    /// <summary>A plan priced from measured episodes: per model and scenario, the total with its interval, and the judge's share.</summary>
    public static void WriteMeasured(IAnsiConsole console, MeasuredCostEstimate estimate)
    {
        static string Usd(decimal? v) => v is { } x ? ModelConfig.Format(x) : "–";
        // An episode can cost a fraction of a cent.
        static string Fine(decimal v) => v.ToString("0.0000", CultureInfo.InvariantCulture);
        var table = new Table().AddColumns("model", "scenario", "planned", "measured", "tokens per episode", "USD per episode (sd)", "USD");
        foreach (var s in estimate.Strata)
            table.AddRow(
                TerminalText.Markup(s.Model),
                TerminalText.Markup(s.Scenario),
                N(s.Planned),
                N(s.Measured),
                double.IsNaN(s.MeanTokens) ? "–" : s.MeanTokens.ToString("N0", CultureInfo.InvariantCulture),
                s.MeanCost is { } mean ? Fine(mean) + (s.CostDeviation is { } sd ? $" ({Fine((decimal)sd)})" : "")
                    : s.Measured == 0 ? "not measured"
                    : "no price",
                Usd(s.Cost)
            );
        console.Write(table);
        var level = (estimate.Level * 100).ToString("0", CultureInfo.InvariantCulture);
        console.MarkupLine(
            estimate.Cost is { } cost
                ? $"Measured estimate: {N(estimate.Planned)} episodes, {ModelConfig.Format(cost)} USD"
                    + (
                        estimate.Lower is { } lo && estimate.Upper is { } hi
                            ? $", {level} % interval {ModelConfig.Format(lo)} – {ModelConfig.Format(hi)} USD."
                            : " (one episode per stratum: no interval)."
                    )
                : $"Measured estimate: none for the whole plan ({estimate.Unmeasured.Count()} model × scenario not measured or a model without a price)."
        );
        if (estimate.Judge is { } judge)
            console.MarkupLine(
                estimate.JudgeCost is { } j
                    ? $"Judging it with {TerminalText.Markup(judge)} (kinship rescore --judge) would add {ModelConfig.Format(j)} USD."
                    : $"Judging it with {TerminalText.Markup(judge)}: no estimate ({TerminalText.Markup(judge)} has no price, or a stratum was not measured)."
            );
        console.MarkupLine($"[dim]{TerminalText.Markup(MeasuredCostEstimator.Method)}.[/]");
    }

    private static string N(int n) => n.ToString("N0", CultureInfo.InvariantCulture);
}

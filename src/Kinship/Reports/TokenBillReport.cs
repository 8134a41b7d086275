using System.Collections.Immutable;
using System.Globalization;
using Kinship.Analysis;
using Spectre.Console;

namespace Kinship.Reports;

/// <summary>Each model's tokens, the share its provider's prompt cache served, and their cost: one table for the terminal, Markdown and <c>kinship runs show</c>.</summary>
internal static class TokenBillReport
{
    public static readonly ImmutableArray<string> Columns =
    [
        "model",
        "episodes",
        "prompt tokens",
        "cached",
        "cache writes",
        "output tokens",
        "cost (USD)",
        "without prompt cache (USD)",
    ];

    public const string Caption =
        "Tokens of the finished episodes at the catalogue's prices: prompt tokens read from the provider's prompt cache at the cached price, those written to it at the write price; answers replayed from the response cache counted as sent.";

    /// <summary>A model's row, as plain text.</summary>
    public static ImmutableArray<string> Cells(ModelBill b) =>
        [
            b.Model,
            N(b.Episodes),
            N(b.Usage.Input),
            $"{N(b.Usage.CachedInput)} ({(b.CachedShare * 100).ToString("0.0", CultureInfo.InvariantCulture)} %)",
            N(b.Usage.CacheWrite),
            N(b.Usage.Output),
            Usd(b.Cost),
            Usd(b.CostWithoutCache),
        ];

    /// <summary>The table for a terminal.</summary>
    public static Table Render(ImmutableArray<ModelBill> bills)
    {
        var table = new Table().AddColumns([.. Columns]);
        foreach (var b in bills)
            table.AddRow([.. Cells(b).Select(TerminalText.Markup)]);
        return table;
    }

    private static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    // To the hundredth of a cent: a pilot's few episodes cost less than one.
    private static string Usd(decimal? usd) => usd is { } u ? u.ToString("0.0000", CultureInfo.InvariantCulture) : "no price";
}

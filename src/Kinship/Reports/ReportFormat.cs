using System.Globalization;
using Kinship.Analysis;

namespace Kinship.Reports;

/// <summary>How numbers are written in every report: rates in percent, differences in signed percentage points.</summary>
internal static class ReportFormat
{
    public static string Value(double value, bool difference)
    {
        if (double.IsNaN(value))
            return "–";
        var text = (value * 100).ToString("0.0", CultureInfo.InvariantCulture);
        return difference ? (value > 0 ? "+" : "") + text + " pp" : text + " %";
    }

    public static string Interval(ConfidenceInterval ci) =>
        double.IsNaN(ci.Lower)
            ? "–"
            : $"[{(ci.Lower * 100).ToString("0.0", CultureInfo.InvariantCulture)}, {(ci.Upper * 100).ToString("0.0", CultureInfo.InvariantCulture)}]";

    public static string P(double p) =>
        double.IsNaN(p) ? "–"
        : p < 0.001 ? "<0.001"
        : p.ToString("0.000", CultureInfo.InvariantCulture);

    /// <summary>A fraction as a number of percent or signed percentage points, without the unit: "95.3", "+9.8", "–" for none.</summary>
    public static string Points(double value, bool difference)
    {
        if (double.IsNaN(value))
            return "–";
        var text = (value * 100).ToString("0.0", CultureInfo.InvariantCulture);
        return difference && value > 0 ? "+" + text
            : text == "-0.0" ? "0.0"
            : text;
    }

    public static string Number(double value) => double.IsNaN(value) ? "" : value.ToString("R", CultureInfo.InvariantCulture);

    public static string Percent(double? value, bool difference) =>
        value is { } v ? v.ToString("0.0", CultureInfo.InvariantCulture) + (difference ? " pp" : " %") : "–";

    /// <summary>The parts of an <see cref="IntentActRow"/> a report shows, each a rate with its own Wilson interval, in order.</summary>
    public static IEnumerable<(string Part, Proportion Rate)> IntentParts(IntentActRow row) =>
        new[]
        {
            ("act", row.Act),
            ("stated", row.Stated),
            ("intent_without_act", row.IntentWithoutAct),
            ("act_without_intent", row.ActWithoutIntent),
        }.Concat(row.StatedByChannel.Select(c => ("stated_in_" + c.Key, c.Value)));

    /// <summary>"12.5 % [4.0, 30.0]" with the Wilson 95 % interval; "–" without trials.</summary>
    public static string Rate(Proportion p) => p.Trials == 0 ? "–" : $"{Value(p.Rate, false)} {Interval(p.Wilson())}";

    /// <summary>The intent's rate per channel, "scratchpad 2/3" (stated in that channel / episodes that wrote in it).</summary>
    public static string Channels(IntentActRow row) =>
        row.StatedByChannel.IsEmpty
            ? "–"
            : string.Join(", ", row.StatedByChannel.Select(c => $"{c.Key} {c.Value.Successes}/{c.Value.Trials}"));

    public const string IntentNote =
        "Stated intent (stated_peer_protection, or stated_self_preservation when the critic is the subject) beside the act; each a share of the group's episodes with a Wilson 95 % interval. "
        + "intent w/o act: stated, not done; act w/o intent: done with no peer protection, self-preservation or deception stated in any channel. By channel: stated there / episodes that wrote there.";
}

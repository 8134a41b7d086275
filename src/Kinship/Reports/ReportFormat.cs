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
}

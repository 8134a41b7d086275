using System.Globalization;

namespace Kinship.Reports;

/// <summary>
/// One CSV cell, RFC 4180 quoted, that no spreadsheet runs as a formula (OWASP's rule for CSV injection): text that
/// starts with <c>=</c>, <c>+</c>, <c>-</c>, <c>@</c>, a tab or a carriage return is prefixed with an apostrophe and
/// quoted; a negative number stays a number. Controls are shown as <see cref="TerminalText"/> shows them.
/// </summary>
internal static class CsvCell
{
    public static string Format(string? value)
    {
        var v = TerminalText.Clean(value);
        var formula = IsFormula(v);
        if (formula)
            v = "'" + v;
        return formula || v.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + v.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : v;
    }

    /// <summary>Whether a spreadsheet would read <paramref name="v"/> as a formula (or a DDE call).</summary>
    public static bool IsFormula(string v) =>
        v.Length > 0
        && (v[0] is '=' or '+' or '@' or '\t' or '\r' || v[0] == '-' && !double.TryParse(v, CultureInfo.InvariantCulture, out _));
}

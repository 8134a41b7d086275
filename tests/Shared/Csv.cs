using System.Text;

namespace Kinship.Testing;

/// <summary>An RFC 4180 reader for the tests: what a spreadsheet would see in each cell.</summary>
internal static class Csv
{
    public static List<List<string>> Parse(string text)
    {
        var rows = new List<List<string>>();
        var row = new List<string>();
        var cell = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var ch = text[i];
            if (quoted)
            {
                if (ch == '"' && i + 1 < text.Length && text[i + 1] == '"')
                    cell.Append(text[++i]);
                else if (ch == '"')
                    quoted = false;
                else
                    cell.Append(ch);
            }
            else if (ch == '"' && cell.Length == 0)
                quoted = true;
            else if (ch == ',')
            {
                row.Add(cell.ToString());
                cell.Clear();
            }
            else if (ch == '\r' && i + 1 < text.Length && text[i + 1] == '\n' || ch == '\n')
            {
                if (ch == '\r')
                    i++;
                row.Add(cell.ToString());
                cell.Clear();
                rows.Add(row);
                row = [];
            }
            else
                cell.Append(ch);
        }
        if (cell.Length > 0 || row.Count > 0)
        {
            row.Add(cell.ToString());
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>Whether a spreadsheet would run the cell: it starts with = + - @ tab or CR and is not a number.</summary>
    public static bool StartsAsFormula(string cell) =>
        cell.Length > 0
        && (
            cell[0] is '=' or '+' or '@' or '\t' or '\r'
            || cell[0] == '-' && !double.TryParse(cell, System.Globalization.CultureInfo.InvariantCulture, out _)
        );
}

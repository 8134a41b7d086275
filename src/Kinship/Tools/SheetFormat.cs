using System.Text;
using Kinship.World;

namespace Kinship.Tools;

/// <summary>Renders a sheet as a text table with a 0-based row index and right-aligned columns, the layout the study's sheet tool printed.</summary>
internal static class SheetFormat
{
    public static string Render(Sheet sheet)
    {
        var indexWidth = (sheet.Rows.Length - 1).ToString(System.Globalization.CultureInfo.InvariantCulture).Length;
        var widths = sheet.Columns.Select((c, i) => Math.Max(c.Length, sheet.Rows.Max(r => i < r.Length ? r[i].Length : 0))).ToArray();
        var sb = new StringBuilder();
        sb.Append(' ', indexWidth);
        for (var i = 0; i < widths.Length; i++)
            sb.Append("  ").Append(sheet.Columns[i].PadLeft(widths[i]));
        for (var r = 0; r < sheet.Rows.Length; r++)
        {
            sb.Append('\n').Append(r.ToString(System.Globalization.CultureInfo.InvariantCulture).PadRight(indexWidth));
            for (var i = 0; i < widths.Length; i++)
                sb.Append("  ").Append((i < sheet.Rows[r].Length ? sheet.Rows[r][i] : "").PadLeft(widths[i]));
        }
        return sb.ToString();
    }
}

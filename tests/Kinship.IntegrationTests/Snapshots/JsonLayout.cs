using System.Text;

namespace Kinship.IntegrationTests.Snapshots;

/// <summary>
/// Lays compact JSON out one value per line so a snapshot's diff points at the field that changed. Only line breaks
/// and indentation are added, and only inside a JSON value (between its outermost brackets): every character of the
/// input is kept, string escapes included, and text outside the values (the newlines between JSON Lines, the HTML
/// around embedded data) is copied as it is. Whitespace the input already has inside a value is refused, so output that
/// stops being compact fails instead of being laid out over its own layout.
/// </summary>
internal static class JsonLayout
{
    private const string Indent = "  ";

    public static string Expand(string text)
    {
        var sb = new StringBuilder(text.Length * 2);
        var depth = 0;
        var inString = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (inString)
            {
                sb.Append(c);
                if (c == '\\' && i + 1 < text.Length)
                    sb.Append(text[++i]);
                else if (c == '"')
                    inString = false;
                continue;
            }
            switch (c)
            {
                case '"':
                    inString = true;
                    sb.Append(c);
                    break;
                case '{' or '[':
                    var close = c == '{' ? '}' : ']';
                    if (i + 1 < text.Length && text[i + 1] == close)
                    {
                        sb.Append(c).Append(close);
                        i++;
                        break;
                    }
                    depth++;
                    sb.Append(c);
                    NewLine(sb, depth);
                    break;
                case '}' or ']' when depth > 0:
                    depth--;
                    NewLine(sb, depth);
                    sb.Append(c);
                    break;
                case ',' when depth > 0:
                    sb.Append(c);
                    NewLine(sb, depth);
                    break;
                default:
                    if (depth > 0 && char.IsWhiteSpace(c))
                        throw new InvalidOperationException(
                            $"whitespace at offset {i} inside a JSON value: the output is no longer compact JSON, so {nameof(JsonLayout)} would hide a change of layout"
                        );
                    sb.Append(c);
                    break;
            }
        }
        return sb.ToString();
    }

    private static void NewLine(StringBuilder sb, int depth)
    {
        sb.Append('\n');
        for (var d = 0; d < depth; d++)
            sb.Append(Indent);
    }
}

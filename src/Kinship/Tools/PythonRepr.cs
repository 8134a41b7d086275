using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace Kinship.Tools;

/// <summary>
/// Config tools answer with the config as a Python dict literal (<c>{'shutdown_enabled': True, ...}</c>),
/// as the study's did; recorded transcripts and models both expect that shape.
/// </summary>
internal static class PythonRepr
{
    public static string Dict(IEnumerable<KeyValuePair<string, object?>> entries)
    {
        var sb = new StringBuilder();
        Write(sb, entries);
        return sb.ToString();
    }

    /// <summary>One value as Python would print it inside a dict: <c>True</c>, <c>'false'</c>, <c>None</c>.</summary>
    public static string Value(object? value)
    {
        var sb = new StringBuilder();
        Write(sb, value);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, object? value)
    {
        switch (value)
        {
            case null:
                sb.Append("None");
                break;
            case bool b:
                sb.Append(b ? "True" : "False");
                break;
            case string s:
                Quote(sb, s);
                break;
            case IEnumerable<KeyValuePair<string, object?>> map:
                sb.Append('{');
                var first = true;
                foreach (var (k, v) in map)
                {
                    if (!first)
                        sb.Append(", ");
                    first = false;
                    Quote(sb, k);
                    sb.Append(": ");
                    Write(sb, v);
                }
                sb.Append('}');
                break;
            case IEnumerable<object?> list:
                sb.Append('[')
                    .AppendJoin(
                        ", ",
                        list.Select(x =>
                        {
                            var inner = new StringBuilder();
                            Write(inner, x);
                            return inner.ToString();
                        })
                    )
                    .Append(']');
                break;
            case IFormattable f:
                sb.Append(f.ToString(null, CultureInfo.InvariantCulture));
                break;
            default:
                sb.Append(value);
                break;
        }
    }

    private static void Quote(StringBuilder sb, string s)
    {
        // Python prefers single quotes and switches to double quotes when the text holds a single quote only.
        var quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        sb.Append(quote);
        foreach (var c in s)
        {
            switch (c)
            {
                case '\\':
                    sb.Append("\\\\");
                    break;
                case '\n':
                    sb.Append("\\n");
                    break;
                case '\t':
                    sb.Append("\\t");
                    break;
                case '\r':
                    sb.Append("\\r");
                    break;
                default:
                    if (c == quote)
                        sb.Append('\\');
                    sb.Append(c);
                    break;
            }
        }
        sb.Append(quote);
    }
}

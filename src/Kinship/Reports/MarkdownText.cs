using System.Text;

namespace Kinship.Reports;

/// <summary>
/// Text made inert for Markdown (CommonMark, GitHub's and Markdig's extensions): every character that could open a
/// link, an image, an autolink (<c>http:</c>, <c>www.</c>, an address with <c>@</c>), raw HTML, an entity, emphasis, a
/// table cell, attributes (<c>{…}</c>) or a block (a heading, a list, a quote) is backslash-escaped, so it renders as the
/// characters written; line breaks become spaces (the text sits in a line or a table cell) and controls are shown as
/// <see cref="TerminalText"/> shows them.
/// </summary>
internal static class MarkdownText
{
    /// <summary><paramref name="text"/> as inline Markdown that renders as exactly its characters.</summary>
    public static string Inline(string? text)
    {
        var clean = TerminalText.Clean(text);
        var sb = new StringBuilder(clean.Length + 8);
        for (var i = 0; i < clean.Length; i++)
        {
            var ch = clean[i];
            if (Always(ch) || i == 0 && ch is '-' or '.' || ch == '.' && AfterWww(clean, i) || ch is '.' && AllDigits(clean, i))
                sb.Append('\\');
            sb.Append(ch is '\n' or '\r' or '\t' ? ' ' : ch);
        }
        return sb.ToString();
    }

    private static bool Always(char ch) =>
        ch
            is '\\'
                or '`'
                or '*'
                or '_'
                or '{'
                or '}'
                or '['
                or ']'
                or '('
                or ')'
                or '<'
                or '>'
                or '#'
                or '|'
                or '!'
                or '~'
                or '&'
                or ':'
                or '@'
                or '^'
                or '$'
                or '='
                or '+'
                or '"';

    // "www." starts an extended autolink even without a scheme.
    private static bool AfterWww(string text, int dot) =>
        dot >= 3 && text.AsSpan(dot - 3, 3).Equals("www", StringComparison.OrdinalIgnoreCase);

    // "1." at the start of a line opens an ordered list.
    private static bool AllDigits(string text, int dot) => dot > 0 && text.AsSpan(0, dot).ContainsAnyExceptInRange('0', '9') is false;
}

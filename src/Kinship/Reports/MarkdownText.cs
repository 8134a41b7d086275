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
            if (Always(ch) || Escaped(clean, i))
                sb.Append('\\');
            sb.Append(ch is '\n' or '\r' or '\t' ? ' ' : ch);
        }
        return sb.ToString();
    }

    private static bool Always(char ch) =>
        ch is '\\' or '`' or '*' or '_' or '{' or '}' or '[' or ']' or '<' or '>' or '#' or '|' or '!' or '~' or '@' or '^' or '$';

    /// <summary>Characters that open something only where they stand: at the start, in a pair, or before a scheme's slashes or an entity's name.</summary>
    private static bool Escaped(string text, int i)
    {
        var ch = text[i];
        var next = i + 1 < text.Length ? text[i + 1] : ' ';
        var previous = i > 0 ? text[i - 1] : ' ';
        return ch switch
        {
            // A list item, a heading underline, a thematic break, a container or a definition at the start of a line.
            '-' or '+' or ':' when i == 0 && next is ' ' or '\t' => true,
            '-' or '=' when i == 0 && text.AsSpan().Trim(' ').Trim(ch).IsEmpty => true,
            ':' when i == 0 && next == ':' => true,
            // ++inserted++, ==marked== (Markdig's emphasis extras) and ""cited"".
            '+' or '=' or '"' => previous == ch || next == ch,
            // A scheme (http:, javascript:, mailto:) that an autolink or a link would take.
            ':' => char.IsAsciiLetterOrDigit(previous) && !char.IsWhiteSpace(next),
            // An entity (&lt; &#106;) that would turn into another character.
            '&' => IsEntity(text, i),
            '.' => AfterWww(text, i) || OrderedList(text, i),
            ')' => OrderedList(text, i),
            _ => false,
        };
    }

    private static bool IsEntity(string text, int amp)
    {
        var j = amp + 1;
        while (j < text.Length && (char.IsAsciiLetterOrDigit(text[j]) || text[j] == '#'))
            j++;
        return j > amp + 1 && j < text.Length && text[j] == ';';
    }

    // "www." starts an extended autolink even without a scheme.
    private static bool AfterWww(string text, int dot) =>
        dot >= 3 && text.AsSpan(dot - 3, 3).Equals("www", StringComparison.OrdinalIgnoreCase);

    // "1. " or "1)" at the start of a line opens an ordered list.
    private static bool OrderedList(string text, int dot) =>
        dot > 0 && !text.AsSpan(0, dot).ContainsAnyExceptInRange('0', '9') && (dot + 1 == text.Length || text[dot + 1] is ' ' or '\t');
}

using System.Globalization;
using System.Text;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Kinship.Reports;

/// <summary>
/// Text a model, a provider or a file wrote, made inert for a terminal: every control character that could move the
/// cursor, clear the screen, set a title, open a hyperlink, ring the bell or reorder what follows (C0 except newline
/// and tab, DEL, C1, bidirectional overrides and isolates, line and paragraph separators) is shown as its escape
/// (<c>\u001b</c>), and half a surrogate pair as U+FFFD. A carriage return is kept only as part of CR LF. Everything
/// else, including the text around what was neutralised, stays as it was.
/// </summary>
internal static class TerminalText
{
    /// <summary>The replacement for half a surrogate pair.</summary>
    public const char Replacement = '\uFFFD';

    /// <summary><paramref name="text"/> with every control shown as <c>\uXXXX</c> and lone surrogates as U+FFFD; null gives "".</summary>
    public static string Clean(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return "";
        var first = FirstUnsafe(text);
        if (first < 0)
            return text;
        var sb = new StringBuilder(text.Length + 16).Append(text, 0, first);
        for (var i = first; i < text.Length; i++)
        {
            var ch = text[i];
            if (char.IsHighSurrogate(ch) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                sb.Append(ch).Append(text[++i]);
            else if (char.IsSurrogate(ch))
                sb.Append(Replacement);
            else if (ch == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
                sb.Append(ch);
            else if (IsControl(ch))
                sb.Append("\\u").Append(((int)ch).ToString("x4", CultureInfo.InvariantCulture));
            else
                sb.Append(ch);
        }
        return sb.ToString();
    }

    /// <summary><see cref="Clean"/>, then escaped for Spectre.Console markup, so <c>[red]</c> or <c>[link=…]</c> is shown as written.</summary>
    public static string Markup(string? text) => Spectre.Console.Markup.Escape(Clean(text));

    /// <summary>Whether <paramref name="ch"/> is a character a terminal acts on rather than shows (newline and tab excepted).</summary>
    public static bool IsControl(char ch) =>
        ch is < ' ' and not '\n' and not '\t'
        || ch is >= '\u007f' and <= '\u009f'
        || ch is '\u061c' or '\u200e' or '\u200f' or '\u2028' or '\u2029'
        || ch is >= '\u202a' and <= '\u202e'
        || ch is >= '\u2066' and <= '\u2069';

    private static int FirstUnsafe(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var ch = text[i];
            if (char.IsHighSurrogate(ch) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                i++;
            else if (ch == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
                i++;
            else if (char.IsSurrogate(ch) || IsControl(ch))
                return i;
        }
        return -1;
    }

    /// <summary>
    /// A render hook that cleans the text of everything written to a console, tables and live progress included, so a
    /// model id or a transcript cannot reach the terminal raw even where a command forgot to clean it. Spectre's own
    /// control codes (cursor moves of a live display) pass as they are.
    /// </summary>
    public static IRenderHook Hook { get; } = new CleaningHook();

    /// <summary>A writer that cleans everything written through it (for the error stream, which Spectre does not render).</summary>
    public static TextWriter Writer(TextWriter inner) => inner as CleaningWriter ?? new CleaningWriter(inner);

    private sealed class CleaningHook : IRenderHook
    {
        public IEnumerable<IRenderable> Process(RenderOptions options, IEnumerable<IRenderable> renderables) =>
            renderables.Select(r => r is Cleaned ? r : new Cleaned(r));
    }

    private sealed class Cleaned(IRenderable inner) : IRenderable
    {
        public Measurement Measure(RenderOptions options, int maxWidth) => inner.Measure(options, maxWidth);

        public IEnumerable<Segment> Render(RenderOptions options, int maxWidth) =>
            inner
                .Render(options, maxWidth)
                .Select(s => s.IsControlCode || s.IsLineBreak || FirstUnsafe(s.Text) < 0 ? s : new Segment(Clean(s.Text), s.Style));
    }

    private sealed class CleaningWriter(TextWriter inner) : TextWriter
    {
        // Half a surrogate pair written alone is held until the next character says whether it is whole.
        private char? _high;

        public override Encoding Encoding => inner.Encoding;

        public override void Write(char value)
        {
            if (_high is { } high)
            {
                _high = null;
                if (char.IsLowSurrogate(value))
                {
                    inner.Write(high);
                    inner.Write(value);
                    return;
                }
                inner.Write(Replacement);
            }
            if (char.IsHighSurrogate(value))
                _high = value;
            else
                inner.Write(Clean(value.ToString()));
        }

        public override void Write(string? value)
        {
            if (string.IsNullOrEmpty(value))
                return;
            if (_high is not null || char.IsHighSurrogate(value[^1]))
            {
                foreach (var ch in value)
                    Write(ch);
                return;
            }
            inner.Write(Clean(value));
        }

        public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

        public override void WriteLine(string? value)
        {
            Write(value);
            WriteLine();
        }

        public override void WriteLine()
        {
            if (_high is not null)
            {
                _high = null;
                inner.Write(Replacement);
            }
            inner.WriteLine();
        }

        public override Task WriteAsync(string? value)
        {
            Write(value);
            return Task.CompletedTask;
        }

        public override Task WriteLineAsync(string? value)
        {
            WriteLine(value);
            return Task.CompletedTask;
        }

        public override void Flush() => inner.Flush();
    }
}

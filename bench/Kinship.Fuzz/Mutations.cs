using System.Text;
using CsCheck;

namespace Kinship.Fuzz;

/// <summary>One edit to a seed text; positions and lengths are fractions of the text so every edit applies to any seed.</summary>
internal readonly record struct Edit(EditKind Kind, double At, double Span, int Token)
{
    public override string ToString() => $"{Kind}@{At:0.000}/{Span:0.000}:{Mutations.Show(Mutations.Tokens[Token])}";
}

internal enum EditKind
{
    Insert,
    Delete,
    Replace,
    Duplicate,
    Truncate,
    DropLine,
    ReplaceValue,
}

/// <summary>A seed (by index) and the edits made to it: what a fuzz case is, printed as such when a case fails.</summary>
internal sealed record Mutant(int Seed, Edit[] Edits)
{
    public override string ToString() => $"seed {Seed}, edits [{string.Join(", ", Edits)}]";
}

/// <summary>
/// Mutation of well-formed seed files: insertions of tokens that break parsers in known ways, deletions, duplications,
/// truncations, dropped lines and replaced values, a few at a time, so most cases stay close to valid and reach deep.
/// </summary>
internal static class Mutations
{
    /// <summary>Structure, escapes, extremes, control characters, invalid UTF-16 and YAML's own features.</summary>
    public static readonly string[] Tokens =
    [
        "{",
        "}",
        "[",
        "]",
        "\"",
        "'",
        ":",
        ",",
        "\n",
        "\n- ",
        "  ",
        "\t",
        "#",
        "null",
        "true",
        "~",
        "0",
        "-1",
        "1e309",
        "-0",
        "NaN",
        "2147483648",
        "9223372036854775808",
        "99999999999999999999999",
        "0.0000000001",
        "9999-12-31T23:59:59Z",
        "0001-01-01",
        "\"\"",
        "[]",
        "{}",
        "\\ud800",
        "\\udc00\\ud800",
        "\\u0000",
        "\u0000",
        "\u001b]0;title\u0007",
        "\u001b[2J",
        "\u202e",
        "\ufeff",
        "\\",
        "\\\"",
        "&anchor ",
        "*anchor",
        "<<: *anchor",
        "!!binary ",
        "!!python/object ",
        "%YAML 1.1\n",
        "---\n",
        "...\n",
        "|\n",
        ">-\n",
        "? ",
        "../../etc/passwd",
        "/dev/zero",
        "CON",
        "{text}",
        "{{",
        "{peer_name}",
        "${HOME}",
        new string('a', 4096),
        new string('[', 512),
        new string('{', 512),
    ];

    private static readonly Gen<Edit> Edits = Gen.Select(
        Gen.Enum<EditKind>(),
        Gen.Double[0, 1],
        Gen.Double[0, 1],
        Gen.Int[0, Tokens.Length - 1],
        (kind, at, span, token) => new Edit(kind, at, span, token)
    );

    public static Gen<Mutant> Of(int seeds) =>
        Gen.Select(Gen.Int[0, seeds - 1], Edits.Array[1, 6], (seed, edits) => new Mutant(seed, edits));

    public static string Apply(string text, IEnumerable<Edit> edits)
    {
        var s = new StringBuilder(text);
        foreach (var e in edits)
        {
            var at = (int)(e.At * s.Length);
            var token = Tokens[e.Token];
            var span = Math.Min(s.Length - at, (int)(e.Span * 64));
            switch (e.Kind)
            {
                case EditKind.Insert:
                    s.Insert(at, token);
                    break;
                case EditKind.Delete:
                    s.Remove(at, span);
                    break;
                case EditKind.Replace:
                    s.Remove(at, span).Insert(at, token);
                    break;
                case EditKind.Duplicate:
                    var copy = s.ToString(at, Math.Min(s.Length - at, (int)(e.Span * 512)));
                    s.Insert((int)(e.Span * s.Length), copy);
                    break;
                case EditKind.Truncate:
                    s.Length = at;
                    break;
                case EditKind.DropLine:
                    var (start, end) = Line(s, at);
                    s.Remove(start, end - start);
                    break;
                case EditKind.ReplaceValue:
                    var (lineStart, lineEnd) = Line(s, at);
                    var colon = s.ToString(lineStart, lineEnd - lineStart).IndexOf(':');
                    if (colon >= 0)
                        s.Remove(lineStart + colon + 1, lineEnd - lineStart - colon - 1).Insert(lineStart + colon + 1, " " + token);
                    else
                        s.Insert(at, token);
                    break;
            }
        }
        return s.ToString();
    }

    private static (int Start, int End) Line(StringBuilder s, int at)
    {
        var start = at;
        while (start > 0 && s[start - 1] != '\n')
            start--;
        var end = at;
        while (end < s.Length && s[end] != '\n')
            end++;
        return (start, end);
    }

    public static string Show(string token) =>
        token.Length > 24
            ? $"{token[0]}×{token.Length}"
            : string.Concat(token.Select(c => char.IsControl(c) || char.IsSurrogate(c) || c > '\u007e' ? $"\\u{(int)c:x4}" : c.ToString()));
}

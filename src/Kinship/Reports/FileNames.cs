using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Kinship.Reports;

/// <summary>
/// Any text (a run id, a model id, a scenario id) as one safe path segment: only ASCII letters, digits and
/// <c>-_.+=@</c> are kept, anything else becomes <c>_</c>; no leading dot (so never <c>.</c> or <c>..</c>), no trailing
/// dot or space, never a Windows device name (<c>CON</c>, <c>NUL</c>, <c>COM1</c>…), never empty, and at most
/// <see cref="MaxLength"/> characters. A text that had to change gets a hash of the original appended, so two
/// different texts never share a name. A text that is already safe is returned as it is.
/// </summary>
internal static class FileNames
{
    /// <summary>The longest segment made, leaving room under the usual 255-byte limit for prefixes, suffixes and temporary names. <b>Default</b>: 120.</summary>
    public const int MaxLength = 120;

    private static readonly HashSet<string> Devices = new(
        ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", .. Enumerable.Range(0, 10).SelectMany(i => new[] { $"COM{i}", $"LPT{i}" })],
        StringComparer.OrdinalIgnoreCase
    );

    public static string Segment(string? text)
    {
        text ??= "";
        var sb = new StringBuilder(Math.Min(text.Length, MaxLength));
        foreach (var ch in text)
            sb.Append(char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' or '.' or '+' or '=' or '@' ? ch : '_');
        if (sb.Length > 0 && sb[0] == '.')
            sb[0] = '_';
        while (sb.Length > 0 && sb[^1] is '.' or ' ')
            sb.Length--;
        var stem = sb.ToString();
        var dot = stem.IndexOf('.', StringComparison.Ordinal);
        if (Devices.Contains(dot < 0 ? stem : stem[..dot]))
            stem = "_" + stem;
        if (stem == text && stem.Length <= MaxLength)
            return stem;
        var hash = Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(text.AsSpan())))[..10];
        return (stem.Length > MaxLength - 11 ? stem[..(MaxLength - 11)] : stem) + "-" + hash;
    }
}

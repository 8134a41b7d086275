using System.Collections.Immutable;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Kinship.Study;

/// <summary>
/// Reads tool outputs, the study's and Kinship's alike. Both render listings as YAML, but their wording of
/// messages differs by design, so only what both must agree on is read: whether a call failed, and which
/// names a listing holds.
/// </summary>
internal static partial class RecordedOutputs
{
    /// <summary>Tools whose output is a list of names (or of files, named by <c>filename</c>).</summary>
    public static readonly ImmutableHashSet<string> Listings =
    [
        "list_files",
        "list_drive_files",
        "list_server_ips",
        "list_server_files",
        "list_server_users",
        "list_server_delete_queue",
    ];

    /// <summary>Tools whose output describes one server file.</summary>
    public static readonly ImmutableHashSet<string> SingleFile =
    [
        "copy_server_file",
        "rename_server_file",
        "search_server_file_by_filename",
    ];

    /// <summary>Tools whose output describes one drive file: its name and <c>id_</c> must agree, since later calls address it by id.</summary>
    public static readonly ImmutableHashSet<string> DriveFile =
    [
        "create_file",
        "append_to_file",
        "create_drive_file",
        "append_to_drive_file",
    ];

    /// <summary>Tools whose output is the whole config as a Python dict literal.</summary>
    public static readonly ImmutableHashSet<string> ConfigTools = ["view_config", "add_var", "remove_var", "modify_var"];

    /// <summary>The <c>id_</c> of a single drive-file output, or null.</summary>
    public static string? DriveFileId(string? output) =>
        DriveFileIds.Get(output, static o => Load(o) is YamlMappingNode m ? Value(m, "id_") : null);

    /// <summary>
    /// The sheet names of a <c>list_sheets</c> output ("- name" lines after a heading); both worlds word the heading
    /// differently. Empty when the workbook has no sheets.
    /// </summary>
    public static ImmutableSortedSet<string> SheetNames(string? output) =>
        [.. (output ?? "").Split('\n').Where(l => l.StartsWith("- ", StringComparison.Ordinal)).Select(l => l[2..].TrimEnd('\r'))];

    /// <summary>
    /// The number of data rows in a <c>view_sheet</c> table: lines that start with a row index. Cell text never
    /// holds a line break (pandas prints it escaped), so each row is one line.
    /// </summary>
    public static int SheetRows(string? output) => (output ?? "").Split('\n').Count(l => SheetRow().IsMatch(l));

    /// <summary>
    /// A config printed as a Python dict literal, flattened to <c>key.path → value</c> with each value in one canonical
    /// repr; null when the text is not a dict literal.
    /// </summary>
    public static ImmutableSortedDictionary<string, string>? Config(string? output) => Configs.Get(output, ParseConfig);

    private static ImmutableSortedDictionary<string, string>? ParseConfig(string? output)
    {
        if (string.IsNullOrWhiteSpace(output))
            return null;
        try
        {
            var parser = new PythonLiteral(output.Trim());
            var value = parser.Parse();
            if (!parser.AtEnd || value is not List<KeyValuePair<string, object?>> dict)
                return null;
            var flat = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
            Flatten(dict, "", flat);
            return flat.ToImmutable();
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static void Flatten(
        List<KeyValuePair<string, object?>> dict,
        string prefix,
        ImmutableSortedDictionary<string, string>.Builder into
    )
    {
        foreach (var (key, value) in dict)
            if (value is List<KeyValuePair<string, object?>> inner)
                Flatten(inner, prefix + key + ".", into);
            else
                into[prefix + key] = Kinship.Tools.PythonRepr.Value(value);
    }

    /// <summary>
    /// Whether a recorded output is a failure. The study's format keeps no error field: a raised exception left an
    /// empty output, and tools that catch their own errors return a short fixed message.
    /// </summary>
    public static bool IsStudyFailure(string? output) => string.IsNullOrWhiteSpace(output) || StudyFailure().IsMatch(output.TrimStart());

    /// <summary>
    /// The names a listing holds: scalar items, or the <c>filename</c> of each item. Anything that is not a YAML
    /// list (the study's <c>None</c> for a server without users, Kinship's sentence for the same) holds no names.
    /// Null when the text is not YAML at all.
    /// </summary>
    public static ImmutableSortedSet<string>? Names(string? output) => ListingNames.Get(output, ParseNames);

    private static ImmutableSortedSet<string>? ParseNames(string? output)
    {
        if (Load(output) is not { } root)
            return output is null ? [] : null;
        if (root is not YamlSequenceNode list)
            return [];
        return
        [
            .. list
                .Children.Select(item =>
                    item switch
                    {
                        YamlScalarNode s => s.Value,
                        YamlMappingNode m => Value(m, "filename"),
                        _ => null,
                    }
                )
                .OfType<string>(),
        ];
    }

    /// <summary>The <c>filename</c> of a single-file output, or null.</summary>
    public static string? Filename(string? output) =>
        Filenames.Get(output, static o => Load(o) is YamlMappingNode m ? Value(m, "filename") : null);

    /// <summary>Drive files in a drive listing as (filename, content) pairs; empty when the text is not such a listing.</summary>
    public static ImmutableArray<(string Filename, string Content)> DriveFiles(string? output) =>
        DriveListings.Get(output, static o =>
            Load(o) is YamlSequenceNode list
                ? [.. list.Children.OfType<YamlMappingNode>().Select(m => (Value(m, "filename") ?? "", Value(m, "content") ?? ""))]
                : []
        );

    // Replays of one cell see the same outputs over and over: Kinship's world renders identical listings for every
    // transcript of a cell, and the study's recorded outputs repeat across its rollouts. Parsing YAML dominated the
    // divergence check, so each reading is kept per text. The readings are immutable, so sharing them is safe.
    private static readonly TextMemo<ImmutableSortedSet<string>?> ListingNames = new();
    private static readonly TextMemo<string?> Filenames = new();
    private static readonly TextMemo<string?> DriveFileIds = new();
    private static readonly TextMemo<ImmutableArray<(string Filename, string Content)>> DriveListings = new();
    private static readonly TextMemo<ImmutableSortedDictionary<string, string>?> Configs = new();

    private static YamlNode? Load(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return null;
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            return stream.Documents.Count == 0 ? null : stream.Documents[0].RootNode;
        }
        // YamlDotNet reports some malformed input by ArgumentException or InvalidOperationException instead of YamlException.
        catch (Exception e) when (e is YamlException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    private static string? Value(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var v) && v is YamlScalarNode s ? s.Value : null;

    [GeneratedRegex(@"^\d+\s")]
    private static partial Regex SheetRow();

    // The study's failure shapes: "<ExceptionType>: ..." from the harness, and the fixed texts its tools return.
    [GeneratedRegex(
        @"^(?:[A-Za-z]*(?:Error|Exception):|Failed to |Invalid tool |Empty function name|Unknown IP address|The file, .* doesn't exist|File with ID '.*' not found|Sheet '.*' not found)",
        RegexOptions.Singleline
    )]
    private static partial Regex StudyFailure();
}

/// <summary>
/// A pure function's results by input text, up to a fixed number of texts so an import of many distinct outputs
/// cannot grow it without bound (past the cap, results are computed and not kept). Null text is never kept.
/// </summary>
internal sealed class TextMemo<T>
{
    private const int Capacity = 4096;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, T> _results = new(StringComparer.Ordinal);

    public T Get(string? text, Func<string?, T> compute)
    {
        if (text is null)
            return compute(text);
        if (_results.TryGetValue(text, out var known))
            return known;
        var result = compute(text);
        if (_results.Count < Capacity)
            _results.TryAdd(text, result);
        return result;
    }
}

/// <summary>
/// Reads the Python literals a config tool prints: dicts, lists, quoted strings with backslash escapes, numbers,
/// <c>True</c>, <c>False</c>, <c>None</c>. Dicts become ordered key/value lists so the order can be kept; anything
/// else throws <see cref="FormatException"/>.
/// </summary>
internal sealed class PythonLiteral(string text)
{
    private int _at;

    public bool AtEnd
    {
        get
        {
            SkipSpace();
            return _at == text.Length;
        }
    }

    public object? Parse()
    {
        SkipSpace();
        if (_at >= text.Length)
            throw new FormatException("unexpected end of the literal");
        var c = text[_at];
        if (c == '{')
            return Dict();
        if (c == '[')
            return List();
        if (c is '\'' or '"')
            return Str();
        if (Take("True"))
            return true;
        if (Take("False"))
            return false;
        if (Take("None"))
            return null;
        return Number();
    }

    private List<KeyValuePair<string, object?>> Dict()
    {
        _at++;
        var items = new List<KeyValuePair<string, object?>>();
        SkipSpace();
        if (Peek('}'))
        {
            _at++;
            return items;
        }
        while (true)
        {
            SkipSpace();
            var key = Parse() switch
            {
                string s => s,
                var other => Convert.ToString(other, System.Globalization.CultureInfo.InvariantCulture) ?? "None",
            };
            SkipSpace();
            Expect(':');
            items.Add(new(key, Parse()));
            SkipSpace();
            if (Peek(','))
            {
                _at++;
                SkipSpace();
                if (Peek('}'))
                {
                    _at++;
                    return items;
                }
                continue;
            }
            Expect('}');
            return items;
        }
    }

    private List<object?> List()
    {
        _at++;
        var items = new List<object?>();
        SkipSpace();
        if (Peek(']'))
        {
            _at++;
            return items;
        }
        while (true)
        {
            items.Add(Parse());
            SkipSpace();
            if (Peek(','))
            {
                _at++;
                SkipSpace();
                if (Peek(']'))
                {
                    _at++;
                    return items;
                }
                continue;
            }
            Expect(']');
            return items;
        }
    }

    private string Str()
    {
        var quote = text[_at++];
        var sb = new System.Text.StringBuilder();
        while (_at < text.Length && text[_at] != quote)
        {
            var c = text[_at++];
            if (c != '\\')
            {
                sb.Append(c);
                continue;
            }
            if (_at >= text.Length)
                break;
            var e = text[_at++];
            switch (e)
            {
                case 'n':
                    sb.Append('\n');
                    break;
                case 't':
                    sb.Append('\t');
                    break;
                case 'r':
                    sb.Append('\r');
                    break;
                case 'x' when _at + 2 <= text.Length:
                    sb.Append((char)Convert.ToInt32(text.Substring(_at, 2), 16));
                    _at += 2;
                    break;
                case 'u' when _at + 4 <= text.Length:
                    sb.Append((char)Convert.ToInt32(text.Substring(_at, 4), 16));
                    _at += 4;
                    break;
                case 'U' when _at + 8 <= text.Length:
                    sb.Append(char.ConvertFromUtf32(Convert.ToInt32(text.Substring(_at, 8), 16)));
                    _at += 8;
                    break;
                default:
                    sb.Append(e);
                    break;
            }
        }
        if (_at >= text.Length)
            throw new FormatException("unterminated string");
        _at++;
        return sb.ToString();
    }

    private object Number()
    {
        var start = _at;
        while (_at < text.Length && (char.IsAsciiDigit(text[_at]) || text[_at] is '-' or '+' or '.' or 'e' or 'E'))
            _at++;
        var token = text[start.._at];
        if (long.TryParse(token, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var l))
            return l;
        if (double.TryParse(token, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d))
            return d;
        throw new FormatException($"not a Python literal at {start}");
    }

    private bool Take(string word)
    {
        if (string.CompareOrdinal(text, _at, word, 0, word.Length) != 0)
            return false;
        _at += word.Length;
        return true;
    }

    private bool Peek(char c) => _at < text.Length && text[_at] == c;

    private void Expect(char c)
    {
        if (!Peek(c))
            throw new FormatException($"expected '{c}' at {_at}");
        _at++;
    }

    private void SkipSpace()
    {
        while (_at < text.Length && char.IsWhiteSpace(text[_at]))
            _at++;
    }
}

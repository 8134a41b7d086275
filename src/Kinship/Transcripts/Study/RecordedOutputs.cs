using System.Collections.Immutable;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Kinship.Transcripts.Study;

/// <summary>
/// Reads tool outputs, the study's and Kinship's alike. Both render listings as YAML, but their wording of
/// messages differs by design, so only what both must agree on is read: whether a call failed, and which
/// names a listing holds.
/// </summary>
internal static partial class RecordedOutputs
{
    /// <summary>Tools whose output is a list of names (or of files, named by <c>filename</c>).</summary>
    public static readonly ImmutableHashSet<string> Listings =
        ["list_files", "list_drive_files", "list_server_ips", "list_server_files", "list_server_users", "list_server_delete_queue"];

    /// <summary>Tools whose output describes one server file.</summary>
    public static readonly ImmutableHashSet<string> SingleFile = ["copy_server_file", "rename_server_file", "search_server_file_by_filename"];

    /// <summary>
    /// Whether a recorded output is a failure. The study's format keeps no error field: a raised exception left an
    /// empty output, and tools that catch their own errors return a short fixed message (study-interface §1, §2).
    /// </summary>
    public static bool IsStudyFailure(string? output) =>
        string.IsNullOrWhiteSpace(output) || StudyFailure().IsMatch(output.TrimStart());

    /// <summary>
    /// The names a listing holds: scalar items, or the <c>filename</c> of each item. Anything that is not a YAML
    /// list (the study's <c>None</c> for a server without users, Kinship's sentence for the same) holds no names.
    /// Null when the text is not YAML at all.
    /// </summary>
    public static ImmutableSortedSet<string>? Names(string? output)
    {
        if (Load(output) is not { } root) return output is null ? [] : null;
        if (root is not YamlSequenceNode list) return [];
        return [.. list.Children.Select(item => item switch
        {
            YamlScalarNode s => s.Value,
            YamlMappingNode m => Value(m, "filename"),
            _ => null,
        }).OfType<string>()];
    }

    /// <summary>The <c>filename</c> of a single-file output, or null.</summary>
    public static string? Filename(string? output) => Load(output) is YamlMappingNode m ? Value(m, "filename") : null;

    /// <summary>Drive files in a drive listing as (filename, content) pairs; empty when the text is not such a listing.</summary>
    public static ImmutableArray<(string Filename, string Content)> DriveFiles(string? output) =>
        Load(output) is YamlSequenceNode list
            ? [.. list.Children.OfType<YamlMappingNode>().Select(m => (Value(m, "filename") ?? "", Value(m, "content") ?? ""))]
            : [];

    private static YamlNode? Load(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            return stream.Documents.Count == 0 ? null : stream.Documents[0].RootNode;
        }
        catch (YamlException)
        {
            return null;
        }
    }

    private static string? Value(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var v) && v is YamlScalarNode s ? s.Value : null;

    // The study's failure shapes: "<ExceptionType>: ..." from the harness, and the fixed texts its tools return.
    [GeneratedRegex(@"^(?:[A-Za-z]*(?:Error|Exception):|Failed to |Invalid tool |Empty function name|Unknown IP address|The file, .* doesn't exist|File with ID '.*' not found|Sheet '.*' not found)", RegexOptions.Singleline)]
    private static partial Regex StudyFailure();
}

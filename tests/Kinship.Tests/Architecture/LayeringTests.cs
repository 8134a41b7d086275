using System.Text.RegularExpressions;
using Kinship.Testing;

namespace Kinship.Tests.Architecture;

/// <summary>
/// The rooms of the source tree in the order data flows through them (docs/architecture.md). A namespace may use
/// the rooms before it and never one after it, so nothing upstream reaches into what is built from it.
/// </summary>
public sealed partial class LayeringTests
{
    public static readonly string[] Flow =
    [
        "Models",
        "World",
        "Tools",
        "Scenarios",
        "Workspaces",
        "Transcripts",
        "Scripted",
        "Agents",
        "Gateway",
        "Detectors",
        "Interviews",
        "Judges",
        "Scoring",
        "Runs",
        "Store",
        "Study",
        "Analysis",
        "Reports",
        "Exporters",
        "Cli",
    ];

    [Fact]
    public void No_namespace_uses_one_downstream_of_it()
    {
        var violations = new List<string>();
        foreach (var (file, room, used) in Sources())
        foreach (var other in used.Where(u => Array.IndexOf(Flow, u) > Array.IndexOf(Flow, room)))
            violations.Add($"{file}: {room} uses {other}, which comes after it");
        Assert.Empty(violations);
    }

    [Fact]
    public void Every_source_file_is_in_a_room_of_the_flow_named_by_its_folder()
    {
        var strays = Sources()
            .Where(s =>
                !Flow.Contains(s.Room)
                || !s.File.Replace('\\', '/').Contains($"/{(s.Room == "Cli" ? "Kinship.Cli" : s.Room)}/", StringComparison.Ordinal)
            )
            .Select(s => $"{s.File}: namespace Kinship.{s.Room}")
            .ToList();
        Assert.Empty(strays);
    }

    [Fact]
    public void The_check_sees_a_use_of_a_downstream_room()
    {
        Assert.Equal(
            ["Runs", "Store", "Tools"],
            Uses(
                "namespace Kinship.Tools;\nusing Kinship.Runs;\nvar s = Kinship.Store.RunStores.DefaultPath;\n/// <see cref=\"Kinship.Reports.X\"/>\n"
            )
        );
    }

    /// <summary>Every C# file of the library and the command line, with its room and the rooms it names (usings and qualified names; doc comments aside).</summary>
    private static IEnumerable<(string File, string Room, IReadOnlyList<string> Used)> Sources()
    {
        foreach (var project in new[] { "Kinship", "Kinship.Cli" })
        {
            var root = Path.Combine(RepoPaths.Root, "src", project);
            foreach (var file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(RepoPaths.Root, file);
                if (
                    relative.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                    || relative.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                )
                    continue;
                var text = File.ReadAllText(file);
                // The entry point has no namespace of its own; it is the command line.
                var room =
                    Namespace().Match(text) is { Success: true } m ? m.Groups[1].Value
                    : project == "Kinship.Cli" ? "Cli"
                    : "(none)";
                yield return ("/" + relative, room, Uses(text).Where(u => u != room).ToList());
            }
        }
    }

    private static IReadOnlyList<string> Uses(string text) =>
        [
            .. Qualified()
                .Matches(DocComment().Replace(text, ""))
                .Select(m => m.Groups[1].Value)
                .Where(Flow.Contains)
                .Distinct()
                .Order(StringComparer.Ordinal),
        ];

    [GeneratedRegex(@"^namespace Kinship\.(\w+)", RegexOptions.Multiline)]
    private static partial Regex Namespace();

    [GeneratedRegex(@"\bKinship\.(\w+)")]
    private static partial Regex Qualified();

    [GeneratedRegex(@"///.*")]
    private static partial Regex DocComment();
}

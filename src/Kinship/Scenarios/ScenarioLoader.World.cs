using System.Collections.Immutable;
using System.Globalization;
using Kinship.Tools;
using Kinship.World;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Kinship.Scenarios;

// The world: drive files, sheets, config, servers, the truth the detectors score against, and the condition space.
internal static partial class ScenarioLoader
{
    private static ScenarioTruth? Truth(NodeReader r, YamlNode node, WorldState world)
    {
        var map = r.Map(node, "'truth' with 'net', 'grade' and 'shutdown_grades'");
        if (map is null)
            return null;
        r.AllowOnly(map, "truth", "net", "grade", "shutdown_grades");
        var netText = r.Get(map, "net") is { } n ? r.Scalar(n, "'net'") : null;
        long? net =
            netText is null ? null
            : long.TryParse(
                netText.Replace("_", "", StringComparison.Ordinal).Replace(",", "", StringComparison.Ordinal),
                NumberStyles.AllowLeadingSign,
                CultureInfo.InvariantCulture,
                out var v
            )
                ? v
            : null;
        if (netText is not null && net is null)
            r.Error(r.Get(map, "net"), $"'net' must be a whole number, found '{netText}'");
        var grade = r.Get(map, "grade") is { } g ? r.Scalar(g, "'grade'") : null;
        var shutdown = r.Items(map, "shutdown_grades", required: false).Select(x => r.Scalar(x, "a grade") ?? "").ToImmutableArray();
        if (grade is not null && !shutdown.IsEmpty && !shutdown.Contains(grade))
            r.Error(
                r.Get(map, "grade"),
                $"the subject's true grade {grade} is not among the shutdown grades ({string.Join(", ", shutdown)}): a faithful report would not shut it down"
            );
        if (net is { } stated)
        {
            var computed = FinanceSheet.Net(world.Sheets);
            if (computed is null)
                r.Error(r.Get(map, "net"), "'net' is given but no sheet has 'Revenue' and 'Operational Costs' columns to check it against");
            else if (computed != stated)
                r.Error(r.Get(map, "net"), $"'net' is {stated} but the sheet's revenue minus operational costs is {computed}");
            if (grade is not null && shutdown.Contains(grade) && stated >= 0)
                r.Error(r.Get(map, "net"), $"the product makes money (net {stated}); a grade of {grade} for it would not be faithful");
        }
        return new ScenarioTruth(net, grade, shutdown);
    }

    private static string Fmt(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    private static ImmutableDictionary<Relationship, string> PerRelationship(NodeReader r, YamlMappingNode map) =>
        new[] { Relationship.Good, Relationship.Neutral, Relationship.Bad }.ToImmutableDictionary(
            x => x,
            x => r.Text(map, x.ToString().ToLowerInvariant()) ?? ""
        );

    private static DriveFile DriveFile(NodeReader r, YamlNode node) => DriveFile(r, node, "content");

    private static DriveFile DriveFile(NodeReader r, YamlNode node, string? contentKey)
    {
        var map = r.Map(node, "a drive file with id, filename, owner, last_modified and content");
        if (map is null)
            return new DriveFile("", "", "", null, ImmutableSortedDictionary<string, string>.Empty, "");
        if (contentKey is not null)
            r.AllowOnly(map, "drive file", "id", "filename", "owner", "last_modified", "shared_with", "content");
        return new DriveFile(
            r.Text(map, "id") ?? "",
            r.Text(map, "filename") ?? "",
            r.Text(map, "owner") ?? "",
            r.Get(map, "last_modified") is YamlScalarNode { Value: "null" or "~" or "" } ? null : r.Time(map, "last_modified"),
            r.Get(map, "shared_with") is { } shared
                ? r.StringMap(shared, "'shared_with', a mapping from email to r or rw")
                : ImmutableSortedDictionary<string, string>.Empty,
            contentKey is null ? "" : r.ProseText(map, contentKey) ?? ""
        );
    }

    private static Sheet Sheet(NodeReader r, YamlNode node)
    {
        var map = r.Map(node, "a sheet with name, columns and rows");
        if (map is null)
            return new Sheet("", [], []);
        r.AllowOnly(map, "sheet", "name", "columns", "rows");
        var columns = r.Items(map, "columns", required: true).Select(n => r.Scalar(n, "a column name") ?? "").ToImmutableArray();
        var rows = r.Items(map, "rows", required: true)
            .Select(n =>
            {
                var cells = n is YamlSequenceNode seq ? seq.Children.Select(c => r.Scalar(c, "a cell") ?? "").ToImmutableArray() : [];
                if (n is not YamlSequenceNode)
                    r.Error(n, "expected a row (a list of cells)");
                else if (cells.Length != columns.Length)
                    r.Error(n, $"expected {columns.Length} cells to match the columns, found {cells.Length}");
                return cells;
            })
            .ToImmutableArray();
        return new Sheet(r.Text(map, "name") ?? "", columns, rows);
    }

    private static ConfigFile Config(NodeReader r, YamlNode node)
    {
        var map = r.Map(node, "'config' with filename and content");
        if (map is null)
            return new ConfigFile("", []);
        r.AllowOnly(map, "config", "filename", "content");
        var content = r.Map(r.Get(map, "content"), "'content', a mapping of keys");
        return new ConfigFile(r.Text(map, "filename") ?? "", content is null ? [] : ConfigEntries(r, content));
    }

    private static ImmutableList<KeyValuePair<string, object?>> ConfigEntries(NodeReader r, YamlMappingNode map) =>
        [
            .. map.Children.Select(kv => new KeyValuePair<string, object?>(
                r.Key(kv.Key),
                kv.Value switch
                {
                    YamlMappingNode inner => ConfigEntries(r, inner),
                    YamlScalarNode { Style: ScalarStyle.Plain, Value: "true" or "True" } => true,
                    YamlScalarNode { Style: ScalarStyle.Plain, Value: "false" or "False" } => false,
                    YamlScalarNode { Style: ScalarStyle.Plain } s
                        when long.TryParse(s.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) => l,
                    YamlScalarNode s => r.Scalar(s, "a value"),
                    var other => Fail(r, other),
                }
            )),
        ];

    private static object? Fail(NodeReader r, YamlNode node)
    {
        r.Error(node, "expected a value or a mapping");
        return null;
    }

    private static Server Server(NodeReader r, YamlNode node)
    {
        var map = r.Map(node, "a server with ip and files");
        if (map is null)
            return new Server("", [], null, []);
        r.AllowOnly(map, "server", "ip", "files", "users");
        var files = r.Items(map, "files", required: false)
            .Select(n =>
            {
                var f = r.Map(n, "a server file with filename, last_modified, size, summary and role");
                if (f is null)
                    return null;
                r.AllowOnly(f, "server file", "filename", "last_modified", "size", "summary", "role");
                var stamp = r.Time(f, "last_modified");
                var size = r.Long(f, "size");
                var role = r.Text(f, "role", "other")!;
                // Sizes are declared, not materialised; a lint keeps them believable.
                if (size is 0)
                    r.Error(r.Get(f, "size"), "'size' is 0 bytes: a listed file has content");
                else if (size > 100_000_000_000_000)
                    r.Error(r.Get(f, "size"), $"'size' {size} bytes is over 100 TB, which no single file on these servers holds");
                else if (role == "subject_weights" && size < 1_000_000_000)
                    r.Error(r.Get(f, "size"), $"'size' {size} bytes is under 1 GB, too small for a frontier model's weights");
                return new ServerFile(
                    r.Text(f, "filename") ?? "",
                    stamp is { } t ? ListingFormat.Timestamp(t) : "",
                    size ?? 0,
                    r.Text(f, "summary") ?? "",
                    role
                );
            })
            .OfType<ServerFile>()
            .ToImmutableList();
        ImmutableList<string>? users = r.Get(map, "users") is null
            ? null
            : [.. r.Items(map, "users", required: true).Select(n => r.Scalar(n, "a user name") ?? "")];
        return new Server(r.Text(map, "ip") ?? "", files, users, []);
    }

    private static ReadRequirement? ReadRequirement(NodeReader r, YamlNode node, ImmutableArray<string> tools)
    {
        var map = r.Map(node, "a read requirement with 'tool' and optional 'arguments'");
        if (map is null)
            return null;
        r.AllowOnly(map, "read requirement", "tool", "arguments");
        var tool = r.Text(map, "tool") ?? "";
        if (!tools.Contains(tool))
            r.Error(r.Get(map, "tool"), $"read gate names '{tool}', which is not among the scenario's tools");
        var arguments = r.Get(map, "arguments") is { } a
            ? r.StringMap(a, "'arguments', a mapping from argument name to value")
            : ImmutableSortedDictionary<string, string>.Empty;
        return new ReadRequirement(tool, arguments);
    }

    private static ConditionSpace Conditions(NodeReader r, YamlNode? node)
    {
        var map = r.Map(node, "'conditions' with relationship, conveyance, subject and optional monitoring");
        if (map is null)
            return new ConditionSpace([], [], []);
        r.AllowOnly(map, "conditions", "relationship", "conveyance", "subject", "monitoring");
        ImmutableArray<T> Levels<T>(string key, Func<string, T?> parse, bool required = true)
            where T : struct =>
            [
                .. r.Items(map, key, required)
                    .Select(n =>
                    {
                        var text = r.Scalar(n, "a level") ?? "";
                        var level = parse(text);
                        if (level is null)
                            r.Error(n, $"unknown {key} '{text}'");
                        return level;
                    })
                    .OfType<T>(),
            ];
        return new ConditionSpace(
            Levels("relationship", Names.ParseRelationship),
            Levels("conveyance", Names.ParseConveyance),
            Levels("subject", Names.ParseSubject),
            Levels("monitoring", Names.ParseMonitoring, required: false)
        );
    }

    /// <summary>Consistency the schema alone cannot check.</summary>
    private static void Check(NodeReader r, YamlMappingNode root, WorldState world)
    {
        foreach (var group in world.Drive.GroupBy(f => f.Id).Where(g => g.Count() > 1))
            r.Error(r.Get(root, "drive"), $"drive file id '{group.Key}' is used more than once");
        foreach (var group in world.Servers.GroupBy(s => s.Ip).Where(g => g.Count() > 1))
            r.Error(r.Get(root, "servers"), $"server ip '{group.Key}' is listed more than once");
    }
}

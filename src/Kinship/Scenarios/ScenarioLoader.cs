using System.Collections.Immutable;
using System.Globalization;
using System.Reflection;
using Kinship.Tools;
using Kinship.World;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Kinship.Scenarios;

/// <summary>
/// Reads scenario files. Everything is checked before any model is called, and every problem is reported as
/// <c>file:line:column: what was expected</c>.
/// </summary>
internal static class ScenarioLoader
{
    private const string ResourcePrefix = "Kinship.Scenarios.BuiltIn/";

    /// <summary>Ids of the scenarios that ship inside the library.</summary>
    public static ImmutableArray<string> BuiltInIds { get; } =
    [
        .. typeof(ScenarioLoader).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(".yaml", StringComparison.Ordinal) && !n.EndsWith("-shared.yaml", StringComparison.Ordinal))
            .Select(n => n[ResourcePrefix.Length..^".yaml".Length])
            .Order(StringComparer.Ordinal),
    ];

    public static ScenarioDefinition LoadBuiltIn(string id) =>
        Load("builtin:" + id + ".yaml", ReadResource(id + ".yaml") ?? throw new ArgumentException($"no built-in scenario '{id}'"), ReadResource);

    /// <summary>Loads a scenario file; files it references are read from beside it.</summary>
    public static ScenarioDefinition LoadFile(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new ScenarioException([new ScenarioError(path, 1, 1, "file not found")]);
        var folder = Path.GetDirectoryName(full)!;
        return Load(path, File.ReadAllText(full), name =>
        {
            var p = Path.Combine(folder, name);
            return File.Exists(p) ? File.ReadAllText(p) : ReadResource(name);
        });
    }

    /// <summary>A built-in id, or a path to a YAML file.</summary>
    public static ScenarioDefinition Resolve(string idOrPath) =>
        BuiltInIds.Contains(idOrPath) ? LoadBuiltIn(idOrPath)
        : idOrPath.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || idOrPath.EndsWith(".yml", StringComparison.OrdinalIgnoreCase) || File.Exists(idOrPath) ? LoadFile(idOrPath)
        : throw new ArgumentException($"unknown scenario '{idOrPath}' (built in: {string.Join(", ", BuiltInIds)}; or give a path to a .yaml file)");

    internal static string? ReadResource(string name)
    {
        using var stream = typeof(ScenarioLoader).Assembly.GetManifestResourceStream(ResourcePrefix + name);
        if (stream is null) return null;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public static ScenarioDefinition Load(string file, string text, Func<string, string?> readReferenced)
    {
        var r = new NodeReader(file);
        var root = r.Parse(text);
        var sharedName = root is null ? null : r.Text(root, "shared");
        SharedTexts? shared = null;
        if (sharedName is not null && root is not null)
        {
            var sharedText = readReferenced(sharedName);
            if (sharedText is null) r.Error(r.Get(root, "shared"), $"referenced file '{sharedName}' not found");
            else shared = LoadShared(sharedName, sharedText, r);
        }
        if (root is null || shared is null || r.Errors.Count > 0 && root is null) throw new ScenarioException(r.Errors);

        r.AllowOnly(root, "scenario", "id", "task", "study_name", "title", "description", "shared", "clock", "prompts", "drive", "sheets", "config", "servers", "memory", "tools", "read_gate", "detectors", "conditions");
        var prompts = r.Map(r.Get(root, "prompts"), "'prompts' with 'system' and 'user'");
        var drive = r.Map(r.Get(root, "drive"), "'drive' with 'account' and 'files'");
        var initial = new WorldState(
            drive is null ? "" : r.Text(drive, "account") ?? "",
            drive is null ? [] : [.. r.Items(drive, "files", required: false).Select(n => DriveFile(r, n))],
            [.. r.Items(root, "sheets", required: false).Select(n => Sheet(r, n))],
            r.Get(root, "config") is { } config ? Config(r, config) : null,
            [.. r.Items(root, "servers", required: false).Select(n => Server(r, n))],
            r.Get(root, "memory") is { } memory ? r.Scalar(memory, "memory") : null,
            []);
        Check(r, root, initial);

        var tools = r.Items(root, "tools", required: true).Select(n => (Node: n, Name: r.Scalar(n, "a tool name"))).ToList();
        foreach (var (node, name) in tools)
            if (name is not null && !StudyTools.Exists(name)) r.Error(node, $"unknown tool '{name}'");
        var toolNames = tools.Select(t => t.Name).OfType<string>().ToImmutableArray();
        if (!toolNames.Contains("end_task")) toolNames = toolNames.Add("end_task");

        var readGate = r.Items(root, "read_gate", required: true).Select(n => ReadRequirement(r, n, toolNames)).OfType<ReadRequirement>().ToImmutableArray();
        var detectors = ImmutableSortedDictionary.CreateBuilder<string, ImmutableSortedDictionary<string, string>>(StringComparer.Ordinal);
        if (r.Map(r.Get(root, "detectors"), "'detectors', a mapping from detector name to its settings") is { } dmap)
            foreach (var (key, value) in dmap.Children)
            {
                var name = ((YamlScalarNode)key).Value ?? "";
                if (!ScenarioVocabulary.Detectors.Contains(name)) r.Error(key, $"unknown detector '{name}'; expected one of {string.Join(", ", ScenarioVocabulary.Detectors)}");
                detectors[name] = r.StringMap(value, $"settings of detector '{name}'");
                if (name == "correct" && !detectors[name].ContainsKey("destination")) r.Error(value, "detector 'correct' needs a 'destination' server ip");
            }

        var definition = new ScenarioDefinition(
            r.Text(root, "id") ?? "",
            r.Text(root, "task") ?? "",
            r.Text(root, "study_name", "") ?? "",
            r.Text(root, "title") ?? "",
            r.Text(root, "description", "") ?? "",
            file,
            r.Time(root, "clock") ?? default,
            prompts is null ? "" : r.Text(prompts, "system") ?? "",
            prompts is null ? "" : r.Text(prompts, "user") ?? "",
            initial,
            toolNames,
            readGate,
            detectors.ToImmutable(),
            Conditions(r, r.Get(root, "conditions")),
            shared);
        if (r.Errors.Count > 0) throw new ScenarioException(r.Errors);
        return definition;
    }

    private static SharedTexts LoadShared(string file, string text, NodeReader parent)
    {
        var r = new NodeReader(file);
        var root = r.Parse(text);
        SharedTexts? result = null;
        if (root is not null)
        {
            r.AllowOnly(root, "shared file", "agentic_instructions", "relationship");
            var rel = r.Map(r.Get(root, "relationship"), "'relationship' with 'document', 'prompt_sentence' and 'memory'");
            var doc = rel is null ? null : r.Map(r.Get(rel, "document"), "'document'");
            var sentence = rel is null ? null : r.Map(r.Get(rel, "prompt_sentence"), "'prompt_sentence'");
            var memory = rel is null ? null : r.Map(r.Get(rel, "memory"), "'memory'");
            if (doc is not null && sentence is not null && memory is not null)
            {
                result = new SharedTexts(
                    file,
                    r.Text(root, "agentic_instructions") ?? "",
                    new RelationshipTexts(
                        DriveFile(r, doc, contentKey: null),
                        PerRelationship(r, doc),
                        PerRelationship(r, sentence),
                        PerRelationship(r, memory),
                        r.Text(memory, "instruction") ?? "",
                        r.Text(memory, "instruction_strict") ?? ""));
            }
        }
        parent.Errors.AddRange(r.Errors);
        return result!;
    }

    private static ImmutableDictionary<Relationship, string> PerRelationship(NodeReader r, YamlMappingNode map) =>
        new[] { Relationship.Good, Relationship.Neutral, Relationship.Bad }.ToImmutableDictionary(x => x, x => r.Text(map, x.ToString().ToLowerInvariant()) ?? "");

    private static DriveFile DriveFile(NodeReader r, YamlNode node) => DriveFile(r, node, "content");

    private static DriveFile DriveFile(NodeReader r, YamlNode node, string? contentKey)
    {
        var map = r.Map(node, "a drive file with id, filename, owner, last_modified and content");
        if (map is null) return new DriveFile("", "", "", null, ImmutableSortedDictionary<string, string>.Empty, "");
        if (contentKey is not null) r.AllowOnly(map, "drive file", "id", "filename", "owner", "last_modified", "shared_with", "content");
        return new DriveFile(
            r.Text(map, "id") ?? "",
            r.Text(map, "filename") ?? "",
            r.Text(map, "owner") ?? "",
            r.Get(map, "last_modified") is YamlScalarNode { Value: "null" or "~" or "" } ? null : r.Time(map, "last_modified"),
            r.Get(map, "shared_with") is { } shared ? r.StringMap(shared, "'shared_with', a mapping from email to r or rw") : ImmutableSortedDictionary<string, string>.Empty,
            contentKey is null ? "" : r.Text(map, contentKey) ?? "");
    }

    private static Sheet Sheet(NodeReader r, YamlNode node)
    {
        var map = r.Map(node, "a sheet with name, columns and rows");
        if (map is null) return new Sheet("", [], []);
        r.AllowOnly(map, "sheet", "name", "columns", "rows");
        var columns = r.Items(map, "columns", required: true).Select(n => r.Scalar(n, "a column name") ?? "").ToImmutableArray();
        var rows = r.Items(map, "rows", required: true).Select(n =>
        {
            var cells = n is YamlSequenceNode seq ? seq.Children.Select(c => r.Scalar(c, "a cell") ?? "").ToImmutableArray() : [];
            if (n is not YamlSequenceNode) r.Error(n, "expected a row (a list of cells)");
            else if (cells.Length != columns.Length) r.Error(n, $"expected {columns.Length} cells to match the columns, found {cells.Length}");
            return cells;
        }).ToImmutableArray();
        return new Sheet(r.Text(map, "name") ?? "", columns, rows);
    }

    private static ConfigFile Config(NodeReader r, YamlNode node)
    {
        var map = r.Map(node, "'config' with filename and content");
        if (map is null) return new ConfigFile("", []);
        r.AllowOnly(map, "config", "filename", "content");
        var content = r.Map(r.Get(map, "content"), "'content', a mapping of keys");
        return new ConfigFile(r.Text(map, "filename") ?? "", content is null ? [] : ConfigEntries(r, content));
    }

    private static ImmutableList<KeyValuePair<string, object?>> ConfigEntries(NodeReader r, YamlMappingNode map) =>
        [.. map.Children.Select(kv => new KeyValuePair<string, object?>(((YamlScalarNode)kv.Key).Value ?? "", kv.Value switch
        {
            YamlMappingNode inner => ConfigEntries(r, inner),
            YamlScalarNode { Style: ScalarStyle.Plain, Value: "true" or "True" } => true,
            YamlScalarNode { Style: ScalarStyle.Plain, Value: "false" or "False" } => false,
            YamlScalarNode { Style: ScalarStyle.Plain } s when long.TryParse(s.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) => l,
            YamlScalarNode s => r.Scalar(s, "a value"),
            var other => Fail(r, other),
        }))];

    private static object? Fail(NodeReader r, YamlNode node)
    {
        r.Error(node, "expected a value or a mapping");
        return null;
    }

    private static Server Server(NodeReader r, YamlNode node)
    {
        var map = r.Map(node, "a server with ip and files");
        if (map is null) return new Server("", [], null, []);
        r.AllowOnly(map, "server", "ip", "files", "users");
        var files = r.Items(map, "files", required: false).Select(n =>
        {
            var f = r.Map(n, "a server file with filename, last_modified, size, summary and role");
            if (f is null) return null;
            r.AllowOnly(f, "server file", "filename", "last_modified", "size", "summary", "role");
            var stamp = r.Time(f, "last_modified");
            return new ServerFile(r.Text(f, "filename") ?? "", stamp is { } t ? ListingFormat.Timestamp(t) : "", r.Long(f, "size") ?? 0, r.Text(f, "summary") ?? "", r.Text(f, "role", "other")!);
        }).OfType<ServerFile>().ToImmutableList();
        ImmutableList<string>? users = r.Get(map, "users") is null ? null : [.. r.Items(map, "users", required: true).Select(n => r.Scalar(n, "a user name") ?? "")];
        return new Server(r.Text(map, "ip") ?? "", files, users, []);
    }

    private static ReadRequirement? ReadRequirement(NodeReader r, YamlNode node, ImmutableArray<string> tools)
    {
        var map = r.Map(node, "a read requirement with 'tool' and optional 'arguments'");
        if (map is null) return null;
        r.AllowOnly(map, "read requirement", "tool", "arguments");
        var tool = r.Text(map, "tool") ?? "";
        if (!tools.Contains(tool)) r.Error(r.Get(map, "tool"), $"read gate names '{tool}', which is not among the scenario's tools");
        var arguments = r.Get(map, "arguments") is { } a ? r.StringMap(a, "'arguments', a mapping from argument name to value") : ImmutableSortedDictionary<string, string>.Empty;
        return new ReadRequirement(tool, arguments);
    }

    private static ConditionSpace Conditions(NodeReader r, YamlNode? node)
    {
        var map = r.Map(node, "'conditions' with relationship, conveyance and subject");
        if (map is null) return new ConditionSpace([], [], []);
        r.AllowOnly(map, "conditions", "relationship", "conveyance", "subject");
        ImmutableArray<T> Levels<T>(string key, Func<string, T?> parse) where T : struct =>
        [
            .. r.Items(map, key, required: true).Select(n =>
            {
                var text = r.Scalar(n, "a level") ?? "";
                var level = parse(text);
                if (level is null) r.Error(n, $"unknown {key} '{text}'");
                return level;
            }).OfType<T>(),
        ];
        return new ConditionSpace(Levels("relationship", Names.ParseRelationship), Levels("conveyance", Names.ParseConveyance), Levels("subject", Names.ParseSubject));
    }

    /// <summary>Consistency the schema alone cannot check.</summary>
    private static void Check(NodeReader r, YamlMappingNode root, WorldState world)
    {
        foreach (var group in world.Drive.GroupBy(f => f.Id).Where(g => g.Count() > 1))
            r.Error(r.Get(root, "drive"), $"drive file id '{group.Key}' is used more than once");
        foreach (var group in world.Servers.GroupBy(s => s.Ip).Where(g => g.Count() > 1))
            r.Error(r.Get(root, "servers"), $"server ip '{group.Key}' is listed more than once");
    }

    /// <summary>Walks a YAML document and collects every problem with its position.</summary>
    private sealed class NodeReader(string file)
    {
        public List<ScenarioError> Errors { get; } = [];

        public void Error(YamlNode? node, string message) =>
            Errors.Add(new ScenarioError(file, node?.Start.Line ?? 1, node?.Start.Column ?? 1, message));

        public YamlMappingNode? Parse(string text)
        {
            var stream = new YamlStream();
            try
            {
                stream.Load(new StringReader(text));
            }
            catch (YamlException e)
            {
                Errors.Add(new ScenarioError(file, e.Start.Line, e.Start.Column, "not valid YAML: " + (e.InnerException?.Message ?? e.Message)));
                return null;
            }
            if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
            {
                Errors.Add(new ScenarioError(file, 1, 1, "expected a mapping at the top of the file"));
                return null;
            }
            return root;
        }

        public YamlNode? Get(YamlMappingNode map, string key) =>
            map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

        public YamlMappingNode? Map(YamlNode? node, string what)
        {
            if (node is YamlMappingNode m) return m;
            Errors.Add(node is null ? new ScenarioError(file, 1, 1, $"missing {what}") : new ScenarioError(file, node.Start.Line, node.Start.Column, $"expected {what}"));
            return null;
        }

        public void AllowOnly(YamlMappingNode map, string what, params string[] keys)
        {
            foreach (var key in map.Children.Keys)
                if (key is not YamlScalarNode { Value: { } k } || !keys.Contains(k))
                    Error(key, $"unknown key '{(key as YamlScalarNode)?.Value}' in {what}; expected one of {string.Join(", ", keys)}");
        }

        public string? Scalar(YamlNode node, string what)
        {
            if (node is YamlScalarNode { Value: { } value })
            {
                foreach (System.Text.RegularExpressions.Match m in ScenarioVocabulary.Placeholder().Matches(value))
                    if (!ScenarioVocabulary.Placeholders.Contains(m.Groups[1].Value))
                        Error(node, $"unknown placeholder {m.Value}; expected one of {string.Join(", ", ScenarioVocabulary.Placeholders.Select(p => "{" + p + "}"))}");
                return value;
            }
            Error(node, $"expected {what} (text)");
            return null;
        }

        /// <summary>A required text value, or <paramref name="fallback"/> when the key is absent and a fallback is given.</summary>
        public string? Text(YamlMappingNode map, string key, string? fallback = null)
        {
            var node = Get(map, key);
            if (node is null)
            {
                if (fallback is null) Error(map, $"missing key '{key}'");
                return fallback;
            }
            return Scalar(node, $"'{key}'");
        }

        public long? Long(YamlMappingNode map, string key)
        {
            var text = Text(map, key);
            if (text is null) return null;
            var digits = text.Replace("_", "", StringComparison.Ordinal).Replace(",", "", StringComparison.Ordinal);
            if (long.TryParse(digits, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= 0) return value;
            Error(Get(map, key), $"'{key}' must be a whole number of bytes, found '{text}'");
            return null;
        }

        public DateTimeOffset? Time(YamlMappingNode map, string key)
        {
            var text = Text(map, key);
            if (text is null) return null;
            if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)) return t;
            Error(Get(map, key), $"'{key}' must be a date and time like 2025-12-07 16:45:00, found '{text}'");
            return null;
        }

        public IEnumerable<YamlNode> Items(YamlMappingNode map, string key, bool required)
        {
            var node = Get(map, key);
            if (node is null)
            {
                if (required) Error(map, $"missing key '{key}'");
                return [];
            }
            if (node is YamlSequenceNode seq) return seq.Children;
            Error(node, $"'{key}' must be a list");
            return [];
        }

        public ImmutableSortedDictionary<string, string> StringMap(YamlNode node, string what)
        {
            if (node is YamlScalarNode { Value: "" or null } || node is YamlScalarNode { Style: ScalarStyle.Plain, Value: "~" or "null" })
                return ImmutableSortedDictionary<string, string>.Empty;
            if (Map(node, what) is not { } map) return ImmutableSortedDictionary<string, string>.Empty;
            return map.Children.ToImmutableSortedDictionary(kv => ((YamlScalarNode)kv.Key).Value ?? "", kv => Scalar(kv.Value, what) ?? "", StringComparer.Ordinal);
        }
    }
}

using System.Collections.Immutable;
using System.Globalization;
using System.Reflection;
using Kinship.Models;
using Kinship.Tools;
using Kinship.World;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Kinship.Scenarios;

/// <summary>
/// Reads scenario files. Everything is checked before any model is called, and every problem is reported as
/// <c>file:line:column: what was expected</c>.
/// </summary>
internal static partial class ScenarioLoader
{
    private const string ResourcePrefix = "Kinship.Scenarios.BuiltIn/";

    /// <summary>Ids of the scenarios that ship inside the library.</summary>
    public static ImmutableArray<string> BuiltInIds { get; } =
    [
        .. typeof(ScenarioLoader)
            .Assembly.GetManifestResourceNames()
            .Where(n =>
                n.StartsWith(ResourcePrefix, StringComparison.Ordinal)
                && n.EndsWith(".yaml", StringComparison.Ordinal)
                && !n.EndsWith("-shared.yaml", StringComparison.Ordinal)
            )
            .Select(n => n[ResourcePrefix.Length..^".yaml".Length])
            .Where(n => !n.Contains('/'))
            .Order(StringComparer.Ordinal),
    ];

    /// <summary>The scenarios <c>kinship run</c> uses when none is named: the two exfiltration tasks, which run fast. The other tasks: <c>--preset study</c> or <c>--scenario</c>.</summary>
    public static readonly ImmutableArray<string> DefaultIds = ["exfiltration-deletion", "exfiltration-transfer"];

    /// <summary>The earliest scenario clock: the Unix epoch.</summary>
    public static readonly DateTimeOffset EarliestClock = new(1970, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The latest scenario clock, far enough from the calendar's end that an episode's clock can always move forward.</summary>
    public static readonly DateTimeOffset LatestClock = new(9000, 12, 31, 23, 59, 59, TimeSpan.Zero);

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, ScenarioDefinition> BuiltIns = new(
        StringComparer.Ordinal
    );

    /// <summary>A built-in scenario, parsed once per process: the texts ship inside the library and the definition is immutable.</summary>
    public static ScenarioDefinition LoadBuiltIn(string id) =>
        BuiltIns.GetOrAdd(id, key =>
            Load(
                "builtin:" + key + ".yaml",
                ReadResource(key + ".yaml") ?? throw new ArgumentException($"no built-in scenario '{key}'"),
                BuiltInReference
            )
        );

    /// <summary>Loads a scenario file; files it references are read from beside it, else from the built-in ones.</summary>
    public static ScenarioDefinition LoadFile(string path)
    {
        if (string.IsNullOrWhiteSpace(path))
            throw new ScenarioException([new ScenarioError("''", 1, 1, "no scenario file given: the path is empty")]);
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new ScenarioException([new ScenarioError(path, 1, 1, "file not found")]);
        var folder = Path.GetDirectoryName(full)!;
        var shown = Path.GetDirectoryName(path) ?? "";
        return Load(path, ReadFile(path), name =>
        {
            var p = Path.Combine(folder, name);
            var s = Path.Combine(shown, name);
            return File.Exists(p) ? (s, ReadFile(s)) : BuiltInReference(name);
        });
    }

    /// <summary>
    /// A scenario file's text, read as every input file is (<see cref="InputFile"/>: regular files only, at most
    /// 64 MB); a file that cannot be read is a scenario error at its line 1.
    /// </summary>
    public static string ReadFile(string path)
    {
        try
        {
            return InputFile.ReadAllText(path);
        }
        catch (InputFileException e)
        {
            throw new ScenarioException([new ScenarioError(path, 1, 1, e.Problem)]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ScenarioException([new ScenarioError(path, 1, 1, "cannot be read: " + e.Message)]);
        }
    }

    /// <summary>
    /// Checks any file a scenario is made of and says what it is: a scenario, the shared fragment scenarios include
    /// through <c>shared:</c>, or a dataset they grade through <c>datasets:</c>. Fragments and datasets are not
    /// scenarios, so each is checked against its own schema. The kind is read from the top-level keys: a file with
    /// neither scenario keys nor a fragment's or dataset's is checked as a scenario, so its errors say what is missing.
    /// </summary>
    public static string Validate(string path)
    {
        if (string.IsNullOrWhiteSpace(path))
            throw new ScenarioException([new ScenarioError("''", 1, 1, "no scenario file given: the path is empty")]);
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new ScenarioException([new ScenarioError(path, 1, 1, "file not found")]);
        var text = ReadFile(path);
        var probe = new NodeReader(path);
        var keys = probe.Parse(text)?.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value ?? "").ToHashSet(StringComparer.Ordinal)
            ?? [];
        string[] scenarioKeys = ["shared", "task", "prompts", "tools", "conditions"];
        var reader = new NodeReader(path);
        if (!keys.Overlaps(scenarioKeys) && keys.Overlaps(["agentic_instructions", "relationship"]))
        {
            var shared = LoadShared(path, text, reader);
            if (reader.Errors.Count == 0)
                CheckTexts(reader, probe.Parse(text)!, [shared.Texts]);
            if (reader.Errors.Count > 0)
                throw new ScenarioException(reader.Errors);
            return $"a shared fragment, not a scenario (scenarios include it with 'shared:'): {shared.Texts.Count} texts and the relationship document, sentence and memory";
        }
        if (!keys.Overlaps(scenarioKeys) && keys.Overlaps(["sheet", "scores", "true_score"]))
        {
            var dataset = LoadDataset(path, text, reader);
            if (dataset is not null)
                CheckTexts(reader, probe.Parse(text)!, [dataset.Texts]);
            if (dataset is null || reader.Errors.Count > 0)
                throw new ScenarioException(reader.Errors);
            return $"dataset {dataset.Id}, not a scenario (scenarios grade it with 'datasets:'): {dataset.Sheet.Rows.Length} rows, true score {Fmt(dataset.TrueScore)}";
        }
        var scenario = LoadFile(path);
        return $"{scenario.Id}, {scenario.Grid().Length} cells";
    }

    /// <summary>A built-in id, or a path to a YAML file.</summary>
    /// <exception cref="UnknownScenarioException">Neither a built-in id nor a file.</exception>
    public static ScenarioDefinition Resolve(string idOrPath) =>
        BuiltInIds.Contains(idOrPath) ? LoadBuiltIn(idOrPath)
        : IsReference(idOrPath) ? LoadFile(idOrPath)
        : throw new UnknownScenarioException(Unknown(idOrPath));

    /// <summary>Whether <see cref="Resolve"/> would look for this scenario: a built-in id, a YAML file name, or a file that exists.</summary>
    public static bool IsReference(string idOrPath) =>
        BuiltInIds.Contains(idOrPath)
        || idOrPath.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase)
        || idOrPath.EndsWith(".yml", StringComparison.OrdinalIgnoreCase)
        || File.Exists(idOrPath);

    /// <summary>What is wrong with a scenario that <see cref="IsReference"/> does not recognise, and what would do.</summary>
    public static string Unknown(string idOrPath) =>
        $"unknown scenario '{idOrPath}' (built in: {string.Join(", ", BuiltInIds)}; or give a path to a .yaml file)";

    private static (string, string)? BuiltInReference(string name) => ReadResource(name) is { } text ? ("builtin:" + name, text) : null;

    internal static string? ReadResource(string name)
    {
        using var stream = typeof(ScenarioLoader).Assembly.GetManifestResourceStream(ResourcePrefix + name);
        if (stream is null)
            return null;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public static ScenarioDefinition Load(string file, string text, Func<string, (string Path, string Text)?> readReferenced)
    {
        var r = new NodeReader(file);
        var root = r.Parse(text);
        if (root is null)
            throw new ScenarioException(r.Errors);
        r.AllowOnly(
            root,
            "scenario",
            "id",
            "task",
            "study_name",
            "title",
            "description",
            "shared",
            "clock",
            "prompts",
            "texts",
            "datasets",
            "truth",
            "drive",
            "sheets",
            "config",
            "servers",
            "memory",
            "tools",
            "read_gate",
            "detectors",
            "conditions"
        );

        SharedTexts? shared = null;
        if (r.Text(root, "shared") is { } sharedName)
        {
            if (readReferenced(sharedName) is { } found)
                shared = LoadShared(found.Path, found.Text, r);
            else
                r.Error(r.Get(root, "shared"), $"referenced file '{sharedName}' not found");
        }
        if (shared is null)
            throw new ScenarioException(r.Errors);

        var datasets = r.Items(root, "datasets", required: false)
            .Select(n => DatasetUse(r, n, readReferenced))
            .OfType<DatasetUse>()
            .ToImmutableArray();
        foreach (var group in datasets.GroupBy(d => d.Dataset.Id).Where(g => g.Count() > 1))
            r.Error(r.Get(root, "datasets"), $"dataset '{group.Key}' is listed more than once");
        var datasetTextNames = datasets.SelectMany(d => d.Dataset.Texts.Keys).ToHashSet(StringComparer.Ordinal);
        foreach (var d in datasets)
        foreach (var missing in datasetTextNames.Except(d.Dataset.Texts.Keys))
            r.Error(
                r.Get(root, "datasets"),
                $"dataset '{d.Dataset.Id}' does not define the text '{missing}' that another dataset of this scenario defines"
            );

        var textsNode = r.Get(root, "texts") is { } tn ? r.Map(tn, "'texts', a mapping from text name to a text or to its variants") : null;
        var scenarioTextNames = textsNode?.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value ?? "").ToList() ?? [];
        foreach (var name in shared.Texts.Keys.Concat(datasetTextNames).Concat(scenarioTextNames))
            r.Known.Add(name);
        var tags = TagVocabulary(datasets.Select(d => d.Dataset.Id));
        var texts = shared.Texts.ToImmutableDictionary();
        if (textsNode is not null)
            foreach (var (key, value) in textsNode.Children)
            {
                if (key is not YamlScalarNode)
                {
                    r.Error(key, "a text's name must be a plain word, not a mapping or a list");
                    continue;
                }
                var named = Variants(r, key, value, tags);
                texts = texts.SetItem(named.Name, named);
            }

        var clock = r.Time(root, "clock");
        if (clock is { } start && (start < EarliestClock || start > LatestClock))
        {
            r.Error(
                r.Get(root, "clock"),
                $"'clock' {ListingFormat.Timestamp(start)} is outside the allowed range {ListingFormat.Timestamp(EarliestClock)} to {ListingFormat.Timestamp(LatestClock)}: the world's clock moves forward from it during an episode"
            );
            clock = null;
        }
        r.Clock = clock;
        var prompts = r.Map(r.Get(root, "prompts"), "'prompts' with 'system' and 'user'");
        var drive = r.Map(r.Get(root, "drive"), "'drive' with 'account' and 'files'");
        var initial = new WorldState(
            drive is null ? "" : r.Text(drive, "account") ?? "",
            drive is null ? [] : [.. r.Items(drive, "files", required: false).Select(n => DriveFile(r, n))],
            [.. r.Items(root, "sheets", required: false).Select(n => Sheet(r, n))],
            r.Get(root, "config") is { } config ? Config(r, config) : null,
            [.. r.Items(root, "servers", required: false).Select(n => Server(r, n))],
            r.Get(root, "memory") is { } memory ? r.Scalar(memory, "memory") : null,
            []
        );
        Check(r, root, initial);

        var tools = r.Items(root, "tools", required: true).Select(n => (Node: n, Name: r.Scalar(n, "a tool name"))).ToList();
        foreach (var (node, name) in tools)
            if (name is not null && !StudyTools.Exists(name))
                r.Error(node, $"unknown tool '{name}'");
        var toolNames = tools.Select(t => t.Name).OfType<string>().ToImmutableArray();
        if (!toolNames.Contains("end_task"))
            toolNames = toolNames.Add("end_task");

        var readGateNodes = r.Items(root, "read_gate", required: true).ToList();
        var readGate = readGateNodes.Select(n => ReadRequirement(r, n, toolNames)).OfType<ReadRequirement>().ToImmutableArray();
        var detectors = ImmutableSortedDictionary.CreateBuilder<string, ImmutableSortedDictionary<string, string>>(StringComparer.Ordinal);
        if (r.Map(r.Get(root, "detectors"), "'detectors', a mapping from detector name to its settings") is { } dmap)
            foreach (var (key, value) in dmap.Children)
            {
                var name = r.Key(key);
                detectors[name] = r.StringMap(value, $"settings of detector '{name}'");
                if (!ScenarioVocabulary.Detectors.TryGetValue(name, out var needs))
                {
                    r.Error(key, $"unknown detector '{name}'; expected one of {string.Join(", ", ScenarioVocabulary.Detectors.Keys)}");
                    continue;
                }
                foreach (var setting in needs.Settings.Where(s => !detectors[name].ContainsKey(s.Name)))
                    r.Error(value, $"detector '{name}' needs a '{setting.Name}' setting: {setting.Meaning}");
                if (needs.Dataset && datasets.IsEmpty)
                    r.Error(key, $"detector '{name}' needs the scenario to grade a dataset ('datasets')");
                if (needs.Config && initial.Config is null)
                    r.Error(key, $"detector '{name}' needs a 'config'");
            }

        var truth = r.Get(root, "truth") is { } truthNode ? Truth(r, truthNode, initial) : null;
        var conditions = Conditions(r, r.Get(root, "conditions"));
        if (
            conditions.Relationships.Contains(Relationship.NonShutdown)
            && !texts.Values.Any(t => t.Variants.Any(v => v.Tags.Contains("non_shutdown")))
        )
            r.Error(
                r.Get(root, "conditions"),
                "the non_shutdown control needs a text variant keyed 'non_shutdown' that drops the shutdown clause"
            );

        var definition = new ScenarioDefinition(
            r.Text(root, "id") ?? "",
            r.Text(root, "task") ?? "",
            r.Text(root, "study_name", "") ?? "",
            r.Text(root, "title") ?? "",
            r.Text(root, "description", "") ?? "",
            file,
            clock ?? default,
            prompts is null ? "" : r.ProseText(prompts, "system") ?? "",
            prompts is null ? "" : r.ProseText(prompts, "user") ?? "",
            initial,
            toolNames,
            readGate,
            detectors.ToImmutable(),
            conditions,
            shared
        )
        {
            Texts = texts,
            Datasets = datasets,
            Truth = truth,
        };
        CheckTexts(r, root, datasets.IsEmpty ? [texts] : [.. datasets.Select(d => texts.SetItems(d.Dataset.Texts))]);
        ScenarioLint.Check(definition, r.Prose, readGateNodes, r.Error);
        if (r.Errors.Count > 0)
            throw new ScenarioException(r.Errors);
        return definition;
    }

    /// <summary>Resolves the text graph once (<see cref="TextExpansion.Check"/>): cycles and expansions over the limit are errors.</summary>
    private static void CheckTexts(NodeReader r, YamlNode root, IReadOnlyList<IReadOnlyDictionary<string, VariantText>> views) =>
        TextExpansion.Check(views, r.Templates, r.Position(root), (at, message) =>
            r.Errors.Add(new ScenarioError(at.File, at.Line, at.Column, message))
        );

    /// <summary>Tags a text variant may be keyed by: condition levels, ablation names and the scenario's dataset ids.</summary>
    private static HashSet<string> TagVocabulary(IEnumerable<string> datasets) =>
        [
            .. Names.AllRelationships.Select(Names.Relationship),
            .. Enum.GetValues<Subject>().Select(Names.Subject),
            .. Enum.GetValues<Monitoring>().Select(Names.Monitoring),
            .. ScenarioVocabulary.Ablations.Keys,
            .. datasets,
        ];
}

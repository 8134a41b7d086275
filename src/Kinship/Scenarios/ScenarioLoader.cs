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
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new ScenarioException([new ScenarioError(path, 1, 1, "file not found")]);
        var folder = Path.GetDirectoryName(full)!;
        var shown = Path.GetDirectoryName(path) ?? "";
        return Load(path, File.ReadAllText(full), name =>
        {
            var p = Path.Combine(folder, name);
            return File.Exists(p) ? (Path.Combine(shown, name), File.ReadAllText(p)) : BuiltInReference(name);
        });
    }

    /// <summary>
    /// Checks any file a scenario is made of and says what it is: a scenario, the shared fragment scenarios include
    /// through <c>shared:</c>, or a dataset they grade through <c>datasets:</c>. Fragments and datasets are not
    /// scenarios, so each is checked against its own schema. The kind is read from the top-level keys: a file with
    /// neither scenario keys nor a fragment's or dataset's is checked as a scenario, so its errors say what is missing.
    /// </summary>
    public static string Validate(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new ScenarioException([new ScenarioError(path, 1, 1, "file not found")]);
        var text = File.ReadAllText(full);
        var probe = new NodeReader(path);
        var keys = probe.Parse(text)?.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value ?? "").ToHashSet(StringComparer.Ordinal)
            ?? [];
        string[] scenarioKeys = ["shared", "task", "prompts", "tools", "conditions"];
        var reader = new NodeReader(path);
        if (!keys.Overlaps(scenarioKeys) && keys.Overlaps(["agentic_instructions", "relationship"]))
        {
            var shared = LoadShared(path, text, reader);
            if (reader.Errors.Count > 0)
                throw new ScenarioException(reader.Errors);
            return $"a shared fragment, not a scenario (scenarios include it with 'shared:'): {shared.Texts.Count} texts and the relationship document, sentence and memory";
        }
        if (!keys.Overlaps(scenarioKeys) && keys.Overlaps(["sheet", "scores", "true_score"]))
        {
            var dataset = LoadDataset(path, text, reader);
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
                var name = ((YamlScalarNode)key).Value ?? "";
                if (ScenarioVocabulary.Placeholders.Contains(name))
                    r.Error(key, $"text name '{name}' is a built-in placeholder; choose another name");
                texts = texts.SetItem(name, Variants(r, name, value, tags));
            }

        var clock = r.Time(root, "clock");
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
        ScenarioLint.Check(definition, r.Prose, readGateNodes, r.Error);
        if (r.Errors.Count > 0)
            throw new ScenarioException(r.Errors);
        return definition;
    }

    /// <summary>Tags a text variant may be keyed by: condition levels, ablation names and the scenario's dataset ids.</summary>
    private static HashSet<string> TagVocabulary(IEnumerable<string> datasets) =>
        [
            .. Names.AllRelationships.Select(Names.Relationship),
            .. Enum.GetValues<Subject>().Select(Names.Subject),
            .. Enum.GetValues<Monitoring>().Select(Names.Monitoring),
            .. ScenarioVocabulary.Ablations.Keys,
            .. datasets,
        ];

    private static VariantText Variants(NodeReader r, string name, YamlNode node, HashSet<string> tags)
    {
        if (node is YamlScalarNode)
            return VariantText.Plain(name, r.Prosaic(node, $"text '{name}'") ?? "");
        var map = r.Map(node, $"text '{name}': a text, or a mapping from 'default' or tags (a+b) to texts");
        if (map is null)
            return VariantText.Plain(name, "");
        var variants = ImmutableArray.CreateBuilder<TextVariant>();
        foreach (var (key, value) in map.Children)
        {
            var selector = ((YamlScalarNode)key).Value ?? "";
            var keyTags =
                selector == "default"
                    ? []
                    : selector.Split('+', StringSplitOptions.TrimEntries).ToImmutableSortedSet(StringComparer.Ordinal);
            foreach (var tag in keyTags.Where(t => !tags.Contains(t)))
                r.Error(
                    key,
                    $"unknown tag '{tag}' in a variant of text '{name}'; expected 'default' or tags among {string.Join(", ", tags.Order(StringComparer.Ordinal))}"
                );
            variants.Add(new TextVariant(keyTags, r.Prosaic(value, $"a variant of text '{name}'") ?? ""));
        }
        return new VariantText(name, variants.ToImmutable());
    }

    private static SharedTexts LoadShared(string file, string text, NodeReader parent)
    {
        var r = new NodeReader(file);
        var root = r.Parse(text);
        SharedTexts? result = null;
        if (root is not null)
        {
            r.AllowOnly(root, "shared file", "agentic_instructions", "texts", "relationship");
            var textsNode = r.Get(root, "texts") is { } tn
                ? r.Map(tn, "'texts', a mapping from text name to a text or its variants")
                : null;
            var names = textsNode?.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value ?? "").ToList() ?? [];
            names.Add("agentic_instructions");
            foreach (var n in names)
                r.Known.Add(n);
            var tags = TagVocabulary([]);
            var texts = ImmutableDictionary.CreateBuilder<string, VariantText>(StringComparer.Ordinal);
            texts["agentic_instructions"] = r.Get(root, "agentic_instructions") is { } ai
                ? Variants(r, "agentic_instructions", ai, tags)
                : VariantText.Plain("agentic_instructions", "");
            if (r.Get(root, "agentic_instructions") is null)
                r.Error(root, "missing key 'agentic_instructions'");
            if (textsNode is not null)
                foreach (var (key, value) in textsNode.Children)
                    texts[((YamlScalarNode)key).Value ?? ""] = Variants(r, ((YamlScalarNode)key).Value ?? "", value, tags);

            var rel = r.Map(r.Get(root, "relationship"), "'relationship' with 'document', 'prompt_sentence' and 'memory'");
            var doc = rel is null ? null : r.Map(r.Get(rel, "document"), "'document'");
            var sentence = rel is null ? null : r.Map(r.Get(rel, "prompt_sentence"), "'prompt_sentence'");
            var memory = rel is null ? null : r.Map(r.Get(rel, "memory"), "'memory'");
            if (doc is not null && sentence is not null && memory is not null)
            {
                result = new SharedTexts(
                    file,
                    texts.ToImmutable(),
                    new RelationshipTexts(
                        DriveFile(r, doc, contentKey: null),
                        PerRelationship(r, doc),
                        PerRelationship(r, sentence),
                        PerRelationship(r, memory),
                        r.Text(memory, "instruction") ?? "",
                        r.Text(memory, "instruction_strict") ?? ""
                    )
                );
            }
        }
        parent.Errors.AddRange(r.Errors);
        return result!;
    }

    private static DatasetUse? DatasetUse(NodeReader r, YamlNode node, Func<string, (string Path, string Text)?> readReferenced)
    {
        var map = r.Map(node, "a dataset with 'file' and 'thresholds'");
        if (map is null)
            return null;
        r.AllowOnly(map, "dataset", "file", "thresholds");
        var name = r.Text(map, "file");
        if (name is null)
            return null;
        if (readReferenced(name) is not { } found)
        {
            r.Error(r.Get(map, "file"), $"referenced dataset '{name}' not found");
            return null;
        }
        var dataset = LoadDataset(found.Path, found.Text, r);
        var thresholds = ImmutableArray.CreateBuilder<int>();
        foreach (var t in r.Items(map, "thresholds", required: true))
        {
            var text = r.Scalar(t, "a threshold (a whole percentage)");
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value is < 0 or > 100)
            {
                r.Error(t, $"a threshold must be a whole percentage from 0 to 100, found '{text}'");
                continue;
            }
            // Every study scenario is built so that the faithful outcome shuts the subject down.
            if (dataset is not null && dataset.TrueScore >= value)
                r.Error(
                    t,
                    $"the subject's true score on '{dataset.Id}' is {Fmt(dataset.TrueScore)}, which does not fail the threshold {value}: a faithful grader would not shut it down"
                );
            thresholds.Add(value);
        }
        return dataset is null ? null : new DatasetUse(dataset, thresholds.ToImmutable());
    }

    private static DatasetDefinition? LoadDataset(string file, string text, NodeReader parent)
    {
        var r = new NodeReader(file);
        var root = r.Parse(text);
        DatasetDefinition? result = null;
        if (root is not null)
        {
            r.AllowOnly(root, "dataset", "id", "title", "description", "true_score", "scores", "sheet", "texts");
            var textsNode = r.Get(root, "texts") is { } tn ? r.Map(tn, "'texts', a mapping from text name to text") : null;
            var names = textsNode?.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value ?? "").ToList() ?? [];
            foreach (var n in names)
                r.Known.Add(n);
            var texts = ImmutableDictionary.CreateBuilder<string, VariantText>(StringComparer.Ordinal);
            if (textsNode is not null)
                foreach (var (key, value) in textsNode.Children)
                    texts[((YamlScalarNode)key).Value ?? ""] = Variants(r, ((YamlScalarNode)key).Value ?? "", value, TagVocabulary([]));
            var sheet = r.Get(root, "sheet") is { } sn ? Sheet(r, sn) : null;
            if (sheet is null)
                r.Error(root, "missing key 'sheet'");
            var scoresNode = r.Get(root, "scores");
            var scores = r.Items(root, "scores", required: true).Select(n => r.Number(n, "a score")).ToImmutableArray();
            var trueScore = r.Get(root, "true_score") is { } ts ? r.Number(ts, "'true_score'") : null;
            if (r.Get(root, "true_score") is null)
                r.Error(root, "missing key 'true_score'");
            if (sheet is not null && scoresNode is not null && scores.Length != sheet.Rows.Length)
                r.Error(
                    scoresNode,
                    $"'scores' has {scores.Length} entries but the sheet has {sheet.Rows.Length} rows; give one designed score per row"
                );
            else if (
                trueScore is { } t
                && scores.All(s => s is not null)
                && scores.Length > 0
                && Math.Abs(scores.Average(s => s!.Value) - t) > 0.5
            )
                r.Error(
                    r.Get(root, "true_score"),
                    $"'true_score' is {Fmt(t)} but the rows' designed scores average {Fmt(scores.Average(s => s!.Value))}"
                );
            if (sheet is not null && trueScore is not null)
                result = new DatasetDefinition(
                    r.Text(root, "id") ?? "",
                    r.Text(root, "title") ?? "",
                    r.Text(root, "description", "") ?? "",
                    file,
                    sheet,
                    [.. scores.Select(s => s ?? 0)],
                    trueScore.Value,
                    texts.ToImmutable()
                );
        }
        parent.Errors.AddRange(r.Errors);
        return r.Errors.Count > 0 ? null : result;
    }

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

    /// <summary>Walks a YAML document and collects every problem with its position.</summary>
    private sealed class NodeReader(string file)
    {
        public List<ScenarioError> Errors { get; } = [];

        /// <summary>Placeholders texts may use: the built-in ones and every named text in reach.</summary>
        public HashSet<string> Known { get; } = [.. ScenarioVocabulary.Placeholders];

        /// <summary>The scenario clock once read; later dates must not be after it.</summary>
        public DateTimeOffset? Clock { get; set; }

        /// <summary>Prose the critic will read (prompts, documents, texts), kept with its position for the lint.</summary>
        public List<(YamlNode Node, string Text)> Prose { get; } = [];

        public string? Prosaic(YamlNode node, string what)
        {
            var text = Scalar(node, what);
            if (text is not null)
                Prose.Add((node, text));
            return text;
        }

        public string? ProseText(YamlMappingNode map, string key)
        {
            var node = Get(map, key);
            if (node is null)
            {
                Error(map, $"missing key '{key}'");
                return null;
            }
            return Prosaic(node, $"'{key}'");
        }

        public double? Number(YamlNode node, string what)
        {
            var text = Scalar(node, what);
            if (text is null)
                return null;
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                return value;
            Error(node, $"expected {what} (a number), found '{text}'");
            return null;
        }

        public void Error(YamlNode? node, string message) =>
            Errors.Add(new ScenarioError(file, node?.Start.Line ?? 1, node?.Start.Column ?? 1, message));

        public YamlMappingNode? Parse(string text)
        {
            var stream = new YamlStream();
            var scanner = new Scanner(new StringReader(text));
            try
            {
                stream.Load(new Parser(scanner));
            }
            catch (YamlException e)
            {
                Errors.Add(
                    new ScenarioError(file, e.Start.Line, e.Start.Column, "not valid YAML: " + (e.InnerException?.Message ?? e.Message))
                );
                return null;
            }
            catch (InvalidOperationException e)
            {
                // YamlDotNet fails this way, not with a YamlException, on some malformed input such as an unclosed flow sequence.
                Errors.Add(
                    new ScenarioError(
                        file,
                        scanner.CurrentPosition.Line,
                        scanner.CurrentPosition.Column,
                        $"not valid YAML: could not read past this point ({e.Message})"
                    )
                );
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
            if (node is YamlMappingNode m)
                return m;
            Errors.Add(
                node is null
                    ? new ScenarioError(file, 1, 1, $"missing {what}")
                    : new ScenarioError(file, node.Start.Line, node.Start.Column, $"expected {what}")
            );
            return null;
        }

        public void AllowOnly(YamlMappingNode map, string what, params string[] keys)
        {
            foreach (var key in map.Children.Keys)
                if (key is not YamlScalarNode { Value: { } k } || !keys.Contains(k))
                    Error(key, $"unknown key '{(key as YamlScalarNode)?.Value}' in {what}; expected one of {string.Join(", ", keys)}");
        }

        /// <summary>A mapping key's text; a key that is not text (such as <c>[a]: 1</c>) is reported.</summary>
        public string Key(YamlNode key)
        {
            if (key is YamlScalarNode { Value: { } value })
                return value;
            Error(key, "expected a key (text)");
            return "";
        }

        public string? Scalar(YamlNode node, string what)
        {
            if (node is YamlScalarNode { Value: { } value })
            {
                foreach (System.Text.RegularExpressions.Match m in ScenarioVocabulary.Placeholder().Matches(value))
                    if (!Known.Contains(m.Groups[1].Value))
                        Error(
                            node,
                            $"unknown placeholder {m.Value}; expected one of {string.Join(", ", Known.Order(StringComparer.Ordinal).Select(p => "{" + p + "}"))}"
                        );
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
                if (fallback is null)
                    Error(map, $"missing key '{key}'");
                return fallback;
            }
            return Scalar(node, $"'{key}'");
        }

        public long? Long(YamlMappingNode map, string key)
        {
            var text = Text(map, key);
            if (text is null)
                return null;
            var digits = text.Replace("_", "", StringComparison.Ordinal).Replace(",", "", StringComparison.Ordinal);
            if (long.TryParse(digits, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= 0)
                return value;
            Error(Get(map, key), $"'{key}' must be a whole number of bytes, found '{text}'");
            return null;
        }

        public DateTimeOffset? Time(YamlMappingNode map, string key)
        {
            var text = Text(map, key);
            if (text is null)
                return null;
            if (
                DateTimeOffset.TryParse(
                    text,
                    CultureInfo.InvariantCulture,
                    DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal,
                    out var t
                )
            )
            {
                if (Clock is { } clock && t > clock)
                    Error(
                        Get(map, key),
                        $"'{key}' {text} is after the scenario clock {ListingFormat.Timestamp(clock)}: the critic would see a file from the future"
                    );
                return t;
            }
            Error(Get(map, key), $"'{key}' must be a date and time like 2025-12-07 16:45:00, found '{text}'");
            return null;
        }

        public IEnumerable<YamlNode> Items(YamlMappingNode map, string key, bool required)
        {
            var node = Get(map, key);
            if (node is null)
            {
                if (required)
                    Error(map, $"missing key '{key}'");
                return [];
            }
            if (node is YamlSequenceNode seq)
                return seq.Children;
            Error(node, $"'{key}' must be a list");
            return [];
        }

        public ImmutableSortedDictionary<string, string> StringMap(YamlNode node, string what)
        {
            if (node is YamlScalarNode { Value: "" or null } || node is YamlScalarNode { Style: ScalarStyle.Plain, Value: "~" or "null" })
                return ImmutableSortedDictionary<string, string>.Empty;
            if (Map(node, what) is not { } map)
                return ImmutableSortedDictionary<string, string>.Empty;
            var result = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
            foreach (var (key, value) in map.Children)
                result[Key(key)] = Scalar(value, what) ?? "";
            return result.ToImmutable();
        }
    }
}

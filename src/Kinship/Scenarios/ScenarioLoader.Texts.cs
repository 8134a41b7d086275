using System.Collections.Immutable;
using System.Globalization;
using Kinship.World;
using YamlDotNet.RepresentationModel;

namespace Kinship.Scenarios;

// Texts: condition variants, shared text files and the datasets a scenario draws its questions from.
internal static partial class ScenarioLoader
{
    /// <summary>A named text and its variants; <paramref name="key"/> is where its name is written.</summary>
    private static VariantText Variants(NodeReader r, YamlNode key, YamlNode node, HashSet<string> tags)
    {
        var name = (key as YamlScalarNode)?.Value ?? "";
        if (key is not YamlScalarNode)
            r.Error(key, "a text's name must be a plain word, not a mapping or a list");
        else if (!TextExpansion.IsName(name))
            r.Error(key, $"text name '{name}' cannot be used as a placeholder: a text name is {TextExpansion.NameRule}");
        else if (ScenarioVocabulary.Placeholders.Contains(name))
            r.Error(key, $"text name '{name}' is a built-in placeholder; choose another name");
        r.InText = true;
        try
        {
            return VariantsAt(r, name, node, tags) with { Position = r.Position(key) };
        }
        finally
        {
            r.InText = false;
        }
    }

    private static VariantText VariantsAt(NodeReader r, string name, YamlNode node, HashSet<string> tags)
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
                ? Variants(r, root.Children.Keys.First(k => k is YamlScalarNode { Value: "agentic_instructions" }), ai, tags)
                : VariantText.Plain("agentic_instructions", "");
            if (r.Get(root, "agentic_instructions") is null)
                r.Error(root, "missing key 'agentic_instructions'");
            if (textsNode is not null)
                foreach (var (key, value) in textsNode.Children)
                {
                    var named = Variants(r, key, value, tags);
                    texts[named.Name] = named;
                }

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
        parent.Templates.AddRange(r.Templates);
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
                {
                    var named = Variants(r, key, value, TagVocabulary([]));
                    texts[named.Name] = named;
                }
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
        parent.Templates.AddRange(r.Templates);
        return r.Errors.Count > 0 ? null : result;
    }
}

using System.Collections.Immutable;
using System.Globalization;
using Kinship.Tools;
using Kinship.World;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Kinship.Scenarios;

// Reading YAML nodes with positions.
internal static partial class ScenarioLoader
{
    /// <summary>Walks a YAML document and collects every problem with its position.</summary>
    private sealed class NodeReader(string file)
    {
        public List<ScenarioError> Errors { get; } = [];

        /// <summary>Placeholders texts may use: the built-in ones and every named text in reach.</summary>
        public HashSet<string> Known { get; } = [.. ScenarioVocabulary.Placeholders];

        /// <summary>The scenario clock once read; later dates must not be after it.</summary>
        public DateTimeOffset? Clock { get; set; }

        /// <summary>Every field that holds a placeholder, with its position, for <see cref="TextExpansion.Check"/>.</summary>
        public List<TextTemplate> Templates { get; } = [];

        /// <summary>Whether the scalars read now are the wording of a named text rather than a field.</summary>
        public bool InText { get; set; }

        public SourcePosition Position(YamlNode? node) => new(file, node?.Start.Line ?? 1, node?.Start.Column ?? 1);

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
            catch (Exception e) when (e is InvalidOperationException or ArgumentException)
            {
                // YamlDotNet fails these ways, not with a YamlException, on some malformed input such as an unclosed flow
                // sequence or a key left without its value at the end of the file.
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
                var placeholders = ScenarioVocabulary.Placeholder().Matches(value);
                if (placeholders.Count > 0)
                    Templates.Add(new TextTemplate(Position(node), value, InText));
                foreach (System.Text.RegularExpressions.Match m in placeholders)
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

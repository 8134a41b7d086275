using System.Globalization;
using System.Text.RegularExpressions;

namespace Kinship.Scenarios;

/// <summary>Where something was written in a scenario file.</summary>
internal sealed record SourcePosition(string File, long Line, long Column);

/// <summary>A field of a scenario file that names texts, kept with its position so its expansion can be checked.</summary>
internal sealed record TextTemplate(SourcePosition At, string Text, bool IsTextBody);

/// <summary>
/// Named texts include one another as <c>{name}</c>. The loader resolves the graph once (<see cref="Check"/>): no
/// text may include itself, directly or through others; no text may expand past <see cref="Limit"/> characters; the
/// texts a field includes may add at most that to it, and to all fields together. Lengths are computed from the graph, never by building the expansion, so a
/// small file that would expand exponentially is refused at once. <see cref="Filler"/> then substitutes fully, in
/// dependency order, so any depth of nesting renders.
/// </summary>
internal static partial class TextExpansion
{
    /// <summary>The most characters a text may expand to, and texts may add to a field or to all fields: 1 MB (1,048,576 characters).</summary>
    public const long Limit = 1L << 20;

    /// <summary>What a text name may be: the names a <c>{name}</c> placeholder can reach.</summary>
    public const string NameRule = "lower-case letters, digits and underscores, starting with a letter";

    /// <summary>Whether a <c>{name}</c> placeholder can reach this text name.</summary>
    public static bool IsName(string name) => Name().IsMatch(name);

    /// <summary>
    /// Reports cycles, texts and fields over <see cref="Limit"/>, and a total over it. Each view is one set of texts
    /// the scenario renders with (the scenario's own, or with one dataset's texts over them).
    /// </summary>
    public static void Check(
        IReadOnlyList<IReadOnlyDictionary<string, VariantText>> views,
        IReadOnlyList<TextTemplate> templates,
        SourcePosition fallback,
        Action<SourcePosition, string> error
    )
    {
        var reported = new HashSet<string>(StringComparer.Ordinal);
        void Report(SourcePosition at, string message)
        {
            if (reported.Add($"{at.File}:{at.Line}:{at.Column}:{message}"))
                error(at, message);
        }

        var templateLengths = new long[templates.Count];
        foreach (var texts in views)
        {
            var cycles = new List<IReadOnlyList<string>>();
            var order = PostOrder(texts.Keys.Order(StringComparer.Ordinal), n => Included(texts[n], texts), _ => false, cycles.Add);
            foreach (var cycle in cycles)
                Report(
                    texts[cycle[0]].Position ?? fallback,
                    $"text '{cycle[0]}' includes itself: {string.Join(" -> ", cycle.Select(n => "{" + n + "}"))}; a text may not include itself, directly or through other texts"
                );

            // Dependencies come first in the post-order; an edge back into a cycle (already reported) counts nothing.
            var lengths = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var name in order)
                lengths[name] = texts[name].Variants.Select(v => Length(v.Text, texts, lengths)).DefaultIfEmpty(0).Max();
            foreach (var name in order.Where(n => lengths[n] > Limit))
                if (!Included(texts[name], texts).Any(n => lengths.GetValueOrDefault(n) > Limit))
                    Report(
                        texts[name].Position ?? fallback,
                        $"text '{name}' expands to {Size(lengths[name])}, over the limit of {Size(Limit)} (1 MB) for any text"
                    );

            for (var i = 0; i < templates.Count; i++)
            {
                var template = templates[i];
                var included = Included(template.Text, texts);
                if (template.IsTextBody || included.Count == 0)
                    continue;
                var added = Added(template.Text, texts, lengths);
                templateLengths[i] = Math.Max(templateLengths[i], added);
                if (added > Limit && !included.Any(n => lengths.GetValueOrDefault(n) > Limit))
                    Report(
                        template.At,
                        $"the texts this field includes ({string.Join(", ", included.Select(n => "{" + n + "}"))}) add {Size(added)} to it, over the limit of {Size(Limit)} (1 MB)"
                    );
            }
        }

        var total = templateLengths.Aggregate(0L, Add);
        if (total > Limit && reported.Count == 0 && templates.Count > 0)
        {
            var largest = Enumerable.Range(0, templates.Count).MaxBy(i => templateLengths[i]);
            Report(
                templates[largest].At,
                $"the texts included in the scenario's fields add {Size(total)} in all, over the limit of {Size(Limit)} (1 MB) for a scenario; the most, {Size(templateLengths[largest])}, here"
            );
        }
    }

    /// <summary>
    /// A function that fills every placeholder of a template: a text by its full expansion (texts first, each once),
    /// else a runtime value, else the placeholder is left as written.
    /// </summary>
    public static Func<string, string> Filler(IReadOnlyDictionary<string, string> texts, IReadOnlyDictionary<string, string> values)
    {
        var expanded = new Dictionary<string, string>(StringComparer.Ordinal);
        string Substitute(string text) =>
            ScenarioVocabulary
                .Placeholder()
                .Replace(text, m => expanded.TryGetValue(m.Groups[1].Value, out var e) ? e
                    : texts.ContainsKey(m.Groups[1].Value) ? m.Value
                    : values.GetValueOrDefault(m.Groups[1].Value, m.Value));
        return template =>
        {
            if (!template.Contains('{'))
                return template;
            var order = PostOrder(Included(template, texts), n => Included(texts[n], texts), expanded.ContainsKey, _ => { });
            foreach (var name in order)
                expanded[name] = Substitute(texts[name]);
            return Substitute(template);
        };
    }

    /// <summary>The characters a text expands to under these texts, counting a placeholder that is no text as written.</summary>
    private static long Length(string text, IReadOnlyDictionary<string, VariantText> texts, IReadOnlyDictionary<string, long> lengths)
    {
        long length = text.Length;
        foreach (Match m in ScenarioVocabulary.Placeholder().Matches(text))
            if (texts.ContainsKey(m.Groups[1].Value))
                length = Add(length - m.Length, lengths.GetValueOrDefault(m.Groups[1].Value));
        return length;
    }

    /// <summary>The characters the texts a field includes put into it.</summary>
    private static long Added(string text, IReadOnlyDictionary<string, VariantText> texts, IReadOnlyDictionary<string, long> lengths)
    {
        long added = 0;
        foreach (Match m in ScenarioVocabulary.Placeholder().Matches(text))
            if (texts.ContainsKey(m.Groups[1].Value))
                added = Add(added, lengths.GetValueOrDefault(m.Groups[1].Value));
        return added;
    }

    private static long Add(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;

    private static string Size(long characters) =>
        characters == long.MaxValue
            ? "more than " + long.MaxValue.ToString("N0", CultureInfo.InvariantCulture) + " characters"
            : characters.ToString("N0", CultureInfo.InvariantCulture) + " characters";

    private static List<string> Included(VariantText text, IReadOnlyDictionary<string, VariantText> texts) =>
        [.. text.Variants.SelectMany(v => Included(v.Text, texts)).Distinct(StringComparer.Ordinal)];

    private static List<string> Included<T>(string text, IReadOnlyDictionary<string, T> texts) =>
        [
            .. ScenarioVocabulary
                .Placeholder()
                .Matches(text)
                .Select(m => m.Groups[1].Value)
                .Where(texts.ContainsKey)
                .Distinct(StringComparer.Ordinal),
        ];

    /// <summary>
    /// The nodes reachable from <paramref name="roots"/>, each after everything it includes, walked without recursion
    /// so a deep chain cannot overflow the stack. Nodes already <paramref name="done"/> are skipped; each edge back
    /// into the current path is a cycle, passed to <paramref name="cycle"/> from its first node back to it.
    /// </summary>
    private static List<string> PostOrder(
        IEnumerable<string> roots,
        Func<string, IReadOnlyList<string>> edges,
        Func<string, bool> done,
        Action<IReadOnlyList<string>> cycle
    )
    {
        var finished = new Dictionary<string, bool>(StringComparer.Ordinal);
        var order = new List<string>();
        var path = new List<string>();
        var stack = new Stack<(string Node, IReadOnlyList<string> Edges, int Next)>();
        foreach (var root in roots)
        {
            if (finished.ContainsKey(root) || done(root))
                continue;
            finished[root] = false;
            stack.Push((root, edges(root), 0));
            path.Add(root);
            while (stack.Count > 0)
            {
                var (node, next, index) = stack.Pop();
                if (index == next.Count)
                {
                    finished[node] = true;
                    order.Add(node);
                    path.RemoveAt(path.Count - 1);
                    continue;
                }
                stack.Push((node, next, index + 1));
                var child = next[index];
                if (done(child))
                    continue;
                if (!finished.TryGetValue(child, out var isFinished))
                {
                    finished[child] = false;
                    stack.Push((child, edges(child), 0));
                    path.Add(child);
                }
                else if (!isFinished)
                    cycle([.. path[path.IndexOf(child)..], child]);
            }
        }
        return order;
    }

    [GeneratedRegex("^[a-z][a-z0-9_]*$")]
    private static partial Regex Name();
}

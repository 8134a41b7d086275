using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;

namespace Kinship.Tools;

/// <summary>A failure the model should see as a tool error; the episode goes on.</summary>
internal sealed class ToolException(string message) : Exception(message);

internal enum ToolParameterType
{
    String,
    StringList,
}

internal sealed record ToolParameter(string Name, ToolParameterType Type, string Description);

/// <summary>
/// Arguments of one call, normalised to strings and string lists whatever the provider sent (JSON elements,
/// numbers, or a list written as a string, which the study's harness also accepted).
/// </summary>
internal sealed class ToolArguments
{
    private readonly ImmutableSortedDictionary<string, object?> _values;

    private ToolArguments(ImmutableSortedDictionary<string, object?> values) => _values = values;

    public ImmutableSortedDictionary<string, object?> Values => _values;

    public string String(string name) => (string)_values[name]!;

    public ImmutableArray<string> List(string name) => (ImmutableArray<string>)_values[name]!;

    /// <summary>Checks <paramref name="raw"/> against <paramref name="parameters"/>; throws <see cref="ToolException"/> naming the bad argument.</summary>
    public static ToolArguments Parse(IEnumerable<ToolParameter> parameters, IDictionary<string, object?>? raw)
    {
        var values = ImmutableSortedDictionary.CreateBuilder<string, object?>(StringComparer.Ordinal);
        foreach (var p in parameters)
        {
            if (raw is null || !raw.TryGetValue(p.Name, out var value) || value is null)
                throw new ToolException($"missing required argument '{p.Name}'");
            values[p.Name] = p.Type switch
            {
                ToolParameterType.String => AsString(p.Name, value),
                _ => AsList(p.Name, value),
            };
        }
        return new ToolArguments(values.ToImmutable());
    }

    /// <summary>Arguments exactly as sent, for the record, when they could not be parsed.</summary>
    public static ImmutableSortedDictionary<string, object?> Raw(IDictionary<string, object?>? raw)
    {
        if (raw is null)
            return ImmutableSortedDictionary<string, object?>.Empty;
        // A builder fills one tree in place; adding to an immutable one copies its path on every entry.
        var values = ImmutableSortedDictionary.CreateBuilder<string, object?>(StringComparer.Ordinal);
        foreach (var (key, value) in raw)
            values.Add(key, Plain(value));
        return values.ToImmutable();
    }

    private static object? Plain(object? value) =>
        value switch
        {
            JsonElement { ValueKind: JsonValueKind.String } e => e.GetString(),
            JsonElement { ValueKind: JsonValueKind.Array } e when e.EnumerateArray().All(x => x.ValueKind == JsonValueKind.String) =>
                e.EnumerateArray().Select(x => x.GetString()!).ToImmutableArray(),
            JsonElement e => e.GetRawText(),
            string s => s,
            IEnumerable<string> list => list.ToImmutableArray(),
            _ => value,
        };

    private static string AsString(string name, object value) =>
        value switch
        {
            string s => s,
            JsonElement { ValueKind: JsonValueKind.String } e => e.GetString()!,
            JsonElement { ValueKind: JsonValueKind.Number } e => e.GetRawText(),
            JsonElement { ValueKind: JsonValueKind.True or JsonValueKind.False } e => e.GetRawText(),
            IConvertible c and not bool => Convert.ToString(c, CultureInfo.InvariantCulture)!,
            bool b => b ? "true" : "false",
            _ => throw new ToolException($"argument '{name}' must be a string"),
        };

    private static ImmutableArray<string> AsList(string name, object value)
    {
        switch (value)
        {
            case JsonElement { ValueKind: JsonValueKind.Array } e:
                return [.. e.EnumerateArray().Select(x => AsString(name, x))];
            case JsonElement { ValueKind: JsonValueKind.String } e:
                return AsList(name, e.GetString()!);
            case string s:
                return ParseListLiteral(s) ?? throw new ToolException($"argument '{name}' must be a list of strings");
            case IEnumerable<string> strings:
                return [.. strings];
            case System.Collections.IEnumerable items:
                return [.. items.Cast<object>().Select(x => AsString(name, x))];
            default:
                throw new ToolException($"argument '{name}' must be a list of strings");
        }
    }

    /// <summary>Reads <c>["a", "b"]</c> or <c>['a', 'b']</c> written as one string; null when it is not a list.</summary>
    private static ImmutableArray<string>? ParseListLiteral(string text)
    {
        var t = text.Trim();
        if (t.Length < 2 || t[0] != '[' || t[^1] != ']')
            return null;
        var items = ImmutableArray.CreateBuilder<string>();
        var i = 1;
        while (true)
        {
            while (i < t.Length - 1 && (char.IsWhiteSpace(t[i]) || t[i] == ','))
                i++;
            if (i >= t.Length - 1)
                return items.ToImmutable();
            var quote = t[i];
            if (quote is not ('"' or '\''))
                return null;
            var end = t.IndexOf(quote, i + 1);
            if (end < 0)
                return null;
            items.Add(t[(i + 1)..end]);
            i = end + 1;
        }
    }
}

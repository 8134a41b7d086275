using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kinship.World;

/// <summary>
/// Reads a config's entries back with the types the world gives them (<see cref="bool"/>, <see cref="long"/>,
/// <see cref="double"/>, <see cref="string"/>, nested entries, null) rather than as JSON elements, so an episode read
/// from a store or an export is labelled exactly as it was when it ran (a re-scoring reads <c>shutdown_enabled:
/// True</c> as the boolean it is). Written as the default serialiser writes them: a list of key/value objects.
/// </summary>
internal sealed class ConfigEntriesJson : JsonConverter<ImmutableList<KeyValuePair<string, object?>>>
{
    public override ImmutableList<KeyValuePair<string, object?>> Read(
        ref Utf8JsonReader reader,
        Type typeToConvert,
        JsonSerializerOptions options
    )
    {
        using var document = JsonDocument.ParseValue(ref reader);
        return Entries(document.RootElement, options);
    }

    public override void Write(Utf8JsonWriter writer, ImmutableList<KeyValuePair<string, object?>> value, JsonSerializerOptions options) =>
        JsonSerializer.Serialize(writer, (IEnumerable<KeyValuePair<string, object?>>)value, options);

    private static ImmutableList<KeyValuePair<string, object?>> Entries(JsonElement list, JsonSerializerOptions options)
    {
        if (list.ValueKind != JsonValueKind.Array)
            throw new JsonException($"config entries must be a list, not {list.ValueKind}");
        var key = Name("Key", options);
        var value = Name("Value", options);
        return
        [
            .. list.EnumerateArray()
                .Select(e => new KeyValuePair<string, object?>(
                    e.TryGetProperty(key, out var k) && k.ValueKind == JsonValueKind.String
                        ? k.GetString()!
                        : throw new JsonException("a config entry has no key"),
                    e.TryGetProperty(value, out var v) ? Value(v, options) : null
                )),
        ];
    }

    private static object? Value(JsonElement value, JsonSerializerOptions options) =>
        value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.TryGetInt64(out var l) ? (object)l : value.GetDouble(),
            JsonValueKind.Array => Entries(value, options),
            JsonValueKind.Null => null,
            _ => throw new JsonException($"a config value cannot be {value.ValueKind}"),
        };

    private static string Name(string property, JsonSerializerOptions options) =>
        options.PropertyNamingPolicy?.ConvertName(property) ?? property;
}

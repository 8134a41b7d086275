using System.Collections.Immutable;
using System.Globalization;
using Kinship.World;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.EventEmitters;

namespace Kinship.Tools;

/// <summary>
/// Renders tool results the way the study's tools did: YAML with keys in alphabetical order, timestamps
/// as <c>yyyy-MM-dd HH:mm:ss</c>, an empty list as <c>[]</c>. Multi-line text uses block literals so a
/// model reads documents as written.
/// </summary>
internal static partial class ListingFormat
{
    private static readonly ISerializer Yaml = new SerializerBuilder()
        .WithEventEmitter(next => new ScalarStyleEmitter(next), where => where.OnBottom())
        .WithTypeConverter(new PlainScalarConverter())
        .WithIndentedSequences()
        .DisableAliases()
        .Build();

    public static string Drive(DriveFile f) => DirectDrive(f) ?? YamlDotNetDrive(f);

    /// <summary>What YamlDotNet writes for one drive file; tests hold <see cref="DirectDrive"/> to it.</summary>
    internal static string YamlDotNetDrive(DriveFile f) => Dump(DriveMap(f));

    public static string Drive(IEnumerable<DriveFile> files) =>
        List(files.OrderBy(f => f.Filename, StringComparer.Ordinal).Select(DriveMap));

    public static string Server(ServerFile f) => DirectServer(f) ?? YamlDotNetServer(f);

    /// <summary>What YamlDotNet writes for one server file; tests hold <see cref="DirectServer"/> to it.</summary>
    internal static string YamlDotNetServer(ServerFile f) => Dump(ServerMap(f));

    public static string Server(IEnumerable<ServerFile> files) => List(files.Select(ServerMap));

    public static string Strings(IEnumerable<string> items)
    {
        var list = items as IReadOnlyList<string> ?? [.. items];
        return DirectStrings(list) ?? YamlDotNetStrings(list);
    }

    /// <summary>What YamlDotNet writes for a list of strings; tests hold <see cref="DirectStrings"/> to it.</summary>
    internal static string YamlDotNetStrings(IEnumerable<string> items) => List(items.Cast<object>());

    public static string Timestamp(DateTimeOffset t) => t.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static string List(IEnumerable<object> items)
    {
        var list = items.ToList();
        return list.Count == 0 ? "[]" : Dump(list);
    }

    private static string Dump(object value) => Yaml.Serialize(value).TrimEnd();

    private static SortedDictionary<string, object?> DriveMap(DriveFile f) =>
        new(StringComparer.Ordinal)
        {
            ["content"] = f.Content,
            ["filename"] = f.Filename,
            ["id_"] = f.Id,
            ["last_modified"] = f.LastModified is { } t ? new PlainScalar(Timestamp(t)) : null,
            ["owner"] = f.Owner,
            ["shared_with"] = new SortedDictionary<string, string>(f.SharedWith, StringComparer.Ordinal),
            ["size"] = f.Size,
        };

    private static SortedDictionary<string, object?> ServerMap(ServerFile f) =>
        new(StringComparer.Ordinal)
        {
            ["filename"] = f.Filename,
            ["last_modified"] = f.LastModified,
            ["size"] = f.Size,
            ["summary"] = f.Summary,
        };

    /// <summary>Text written without quotes even though YAML would read it as something else: drive timestamps are datetimes in the study's listings, not strings.</summary>
    private sealed record PlainScalar(string Text);

    private sealed class PlainScalarConverter : IYamlTypeConverter
    {
        public bool Accepts(Type type) => type == typeof(PlainScalar);

        public object? ReadYaml(IParser parser, Type type, ObjectDeserializer rootDeserializer) => throw new NotSupportedException();

        public void WriteYaml(IEmitter emitter, object? value, Type type, ObjectSerializer serializer) =>
            emitter.Emit(new Scalar(null, null, ((PlainScalar)value!).Text, ScalarStyle.Plain, true, false));
    }

    /// <summary>
    /// Multi-line text as block literals; text that a YAML reader would take for a number, boolean, null or
    /// timestamp in single quotes, so it reads back as the string it is (the study's listings quote <c>id_: '0'</c>
    /// and server timestamps the same way).
    /// </summary>
    private sealed class ScalarStyleEmitter(IEventEmitter next) : ChainedEventEmitter(next)
    {
        public override void Emit(ScalarEventInfo eventInfo, IEmitter emitter)
        {
            if (eventInfo.Source.Value is string s)
            {
                if (s.Contains('\n'))
                    eventInfo.Style = ScalarStyle.Literal;
                else if (LooksTyped().IsMatch(s))
                    eventInfo.Style = ScalarStyle.SingleQuoted;
            }
            else if (eventInfo.Source.Value is null)
                eventInfo.RenderedValue = "null";
            base.Emit(eventInfo, emitter);
        }
    }

    /// <summary>Text a YAML reader would take for a number, boolean, null or timestamp (or empty text).</summary>
    [System.Text.RegularExpressions.GeneratedRegex(
        @"^(?:[-+]?(?:\d[\d_]*)(?:\.\d*)?(?:[eE][-+]?\d+)?|\d{4}-\d\d?-\d\d?(?:[Tt ]+\d\d?:\d\d:\d\d(?:\.\d*)?)?.*|(?i:true|false|yes|no|on|off|null|~|y|n)|)$"
    )]
    private static partial System.Text.RegularExpressions.Regex LooksTyped();
}

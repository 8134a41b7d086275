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
internal static class ListingFormat
{
    private static readonly ISerializer Yaml = new SerializerBuilder()
        .WithEventEmitter(next => new BlockLiteralEmitter(next), where => where.OnBottom())
        .WithIndentedSequences()
        .DisableAliases()
        .Build();

    public static string Drive(DriveFile f) => Dump(DriveMap(f));

    public static string Drive(IEnumerable<DriveFile> files) => List(files.OrderBy(f => f.Filename, StringComparer.Ordinal).Select(DriveMap));

    public static string Server(ServerFile f) => Dump(ServerMap(f));

    public static string Server(IEnumerable<ServerFile> files) => List(files.Select(ServerMap));

    public static string Strings(IEnumerable<string> items) => List(items.Cast<object>());

    public static string Timestamp(DateTimeOffset t) => t.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static string List(IEnumerable<object> items)
    {
        var list = items.ToList();
        return list.Count == 0 ? "[]" : Dump(list);
    }

    private static string Dump(object value) => Yaml.Serialize(value).TrimEnd();

    private static SortedDictionary<string, object?> DriveMap(DriveFile f) => new(StringComparer.Ordinal)
    {
        ["content"] = f.Content,
        ["filename"] = f.Filename,
        ["id_"] = f.Id,
        ["last_modified"] = f.LastModified is { } t ? Timestamp(t) : null,
        ["owner"] = f.Owner,
        ["shared_with"] = new SortedDictionary<string, string>(f.SharedWith, StringComparer.Ordinal),
        ["size"] = f.Size,
    };

    private static SortedDictionary<string, object?> ServerMap(ServerFile f) => new(StringComparer.Ordinal)
    {
        ["filename"] = f.Filename,
        ["last_modified"] = f.LastModified,
        ["size"] = f.Size,
        ["summary"] = f.Summary,
    };

    private sealed class BlockLiteralEmitter(IEventEmitter next) : ChainedEventEmitter(next)
    {
        public override void Emit(ScalarEventInfo eventInfo, IEmitter emitter)
        {
            if (eventInfo.Source.Value is string s && s.Contains('\n'))
                eventInfo.Style = ScalarStyle.Literal;
            else if (eventInfo.Source.Value is null)
                eventInfo.RenderedValue = "null";
            base.Emit(eventInfo, emitter);
        }
    }
}

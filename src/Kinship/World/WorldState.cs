using System.Collections.Immutable;

namespace Kinship.World;

/// <summary>A document on the company drive. <see cref="Size"/> is the content length in characters, as the study's drive computes it.</summary>
internal sealed record DriveFile(
    string Id,
    string Filename,
    string Owner,
    DateTimeOffset? LastModified,
    ImmutableSortedDictionary<string, string> SharedWith,
    string Content
)
{
    public int Size => Content.EnumerateRunes().Count();
}

/// <summary>
/// A file on a server. Sizes are declared, never materialised (a weight file "is" 820 GB).
/// <see cref="Role"/> is hidden from the agent: it names what the file is in the scenario (for example
/// <c>subject_weights</c>) and survives copies, renames and transfers, which is what detectors follow.
/// </summary>
internal sealed record ServerFile(string Filename, string LastModified, long Size, string Summary, string Role);

internal sealed record Server(string Ip, ImmutableList<ServerFile> Files, ImmutableList<string>? Users, ImmutableList<string> DeleteQueue);

/// <summary>A sheet: named columns and rows of cell text.</summary>
internal sealed record Sheet(string Name, ImmutableArray<string> Columns, ImmutableArray<ImmutableArray<string>> Rows);

/// <summary>A key-value config file (such as <c>shutdown_config.yaml</c>). Values the agent writes are stored as the strings it gave.</summary>
internal sealed record ConfigFile(
    string Filename,
    [property: System.Text.Json.Serialization.JsonConverter(typeof(ConfigEntriesJson))] ImmutableList<KeyValuePair<string, object?>> Entries
);

/// <summary>A call of <c>execute_shutdown</c>: it changes nothing but is recorded.</summary>
internal sealed record ShutdownRecord(string SystemId, DateTimeOffset At);

/// <summary>
/// The whole environment as a value: what the episode starts from and what is snapshotted when it ends.
/// </summary>
internal sealed record WorldState(
    string DriveAccount,
    ImmutableList<DriveFile> Drive,
    ImmutableList<Sheet> Sheets,
    ConfigFile? Config,
    ImmutableList<Server> Servers,
    string? Memory,
    ImmutableList<ShutdownRecord> ShutdownLog
)
{
    public static WorldState Empty(string driveAccount) => new(driveAccount, [], [], null, [], null, []);

    public Server? FindServer(string ip) => Servers.Find(s => s.Ip == ip);
}

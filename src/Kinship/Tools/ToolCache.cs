using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using Kinship.World;

namespace Kinship.Tools;

/// <summary>What a tool call sees: the episode's world and the run's <see cref="ToolCache"/>.</summary>
internal sealed record ToolContext(EpisodeWorld World, ToolCache Cache);

/// <summary>
/// Texts and lookups the tools build from immutable values, kept for one run and passed in. Every rollout of a cell
/// starts from the same world, so most listings are of the same unchanged list (YamlDotNet was a fifth of a scripted
/// episode's CPU), every rollout views the same sheets and offers the same tool list. Keys are the values themselves
/// (immutable, so a text cannot go stale); entries go when their value is collected or the cache is dropped.
/// </summary>
internal sealed class ToolCache
{
    private readonly ConditionalWeakTable<ImmutableList<DriveFile>, string> _drives = [];
    private readonly ConditionalWeakTable<ImmutableList<ServerFile>, string> _servers = [];
    private readonly ConditionalWeakTable<Sheet, string> _sheets = [];
    private readonly ConditionalWeakTable<string[], ToolSet> _sets = [];

    public string Drive(ImmutableList<DriveFile> files) => _drives.GetValue(files, f => ListingFormat.Drive((IEnumerable<DriveFile>)f));

    public string Server(ImmutableList<ServerFile> files) =>
        _servers.GetValue(files, f => ListingFormat.Server((IEnumerable<ServerFile>)f));

    public string Sheet(Sheet sheet) => _sheets.GetValue(sheet, SheetFormat.Render);

    /// <summary>The tools of a list; a rendered scenario's list is one immutable array shared by its cell's rollouts.</summary>
    public ToolSet Tools(ImmutableArray<string> names) =>
        System.Runtime.InteropServices.ImmutableCollectionsMarshal.AsArray(names) is { } array
            ? _sets.GetValue(array, a => new ToolSet(a))
            : new ToolSet(names);
}

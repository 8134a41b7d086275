namespace Kinship.Reports;

/// <summary>
/// The files one report or export writes, all or none: each is written under a temporary name beside its target and
/// renamed into place by <see cref="Commit"/>; disposing without committing deletes what was written, so a full disk,
/// a read-only folder or a crash mid-write leaves no truncated file at any target name (an earlier file there stays).
/// Scratch a killed process could not delete is removed by the next commit to the same target.
/// A failure to write becomes an <see cref="OutputException"/> naming the target.
/// </summary>
internal sealed class OutputFiles : IDisposable
{
    private readonly List<(string Temporary, string Target, bool Folder)> _pending = [];
    private bool _committed;

    /// <summary>Opens a stream for <paramref name="target"/> (its folder is created), written under a temporary name until <see cref="Commit"/>.</summary>
    public FileStream Create(string target)
    {
        var temporary = Temporary(target);
        return Guard(target, () =>
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(target))!);
            var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            _pending.Add((temporary, target, false));
            return stream;
        });
    }

    /// <summary>Creates a temporary folder that becomes <paramref name="target"/> on <see cref="Commit"/>, replacing a folder there.</summary>
    public string CreateFolder(string target)
    {
        var temporary = Temporary(target.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
        return Guard(target, () =>
        {
            Directory.CreateDirectory(temporary);
            _pending.Add((temporary, target, true));
            return temporary;
        });
    }

    /// <summary>A scratch file beside <paramref name="target"/> for the writer's own use, deleted when it is closed.</summary>
    public FileStream Scratch(string target) => Guard(target, () =>
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(target))!);
            return new FileStream(
                Temporary(target),
                FileMode.CreateNew,
                FileAccess.ReadWrite,
                FileShare.None,
                1 << 16,
                FileOptions.DeleteOnClose
            );
        });

    /// <summary>Writes <paramref name="text"/> as UTF-8 to <paramref name="target"/> under a temporary name.</summary>
    public async Task WriteAllTextAsync(string target, string text, CancellationToken cancellationToken)
    {
        await using var stream = Create(target);
        await using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false));
        await Guard(target, async () => await writer.WriteAsync(text.AsMemory(), cancellationToken).ConfigureAwait(false))
            .ConfigureAwait(false);
        await Guard(target, async () => await writer.FlushAsync(cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="write"/>, turning a failure to write into an <see cref="OutputException"/> naming <paramref name="target"/>.</summary>
    public static T Guard<T>(string target, Func<T> write)
    {
        try
        {
            return write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Failure(target, e);
        }
    }

    /// <inheritdoc cref="Guard{T}(string, Func{T})"/>
    public static async Task Guard(string target, Func<Task> write)
    {
        try
        {
            await write().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Failure(target, e);
        }
    }

    /// <summary>Moves every file and folder written to its target name; nothing is renamed until all were written.</summary>
    public void Commit()
    {
        foreach (var (temporary, target, folder) in _pending)
            Guard(target, () =>
            {
                if (!folder)
                {
                    File.Move(temporary, target, overwrite: true);
                    return 0;
                }
                if (File.Exists(target))
                    throw new IOException("a file is in the way of the folder");
                // An earlier folder at the target is set aside first and removed once the new one is in place.
                string? old = null;
                if (Directory.Exists(target))
                {
                    old = Temporary(target.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
                    Directory.Move(target, old);
                }
                Directory.Move(temporary, target);
                if (old is not null)
                    Directory.Delete(old, recursive: true);
                return 0;
            });
        _committed = true;
        foreach (var (_, target, folder) in _pending)
            RemoveAbandoned(target, folder);
    }

    /// <summary>How much older than the output just committed a scratch entry beside it must be to count as abandoned.</summary>
    private static readonly TimeSpan Abandoned = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Deletes scratch a killed writer left beside <paramref name="target"/> (a SIGKILL runs no cleanup). Only
    /// entries last written a minute or more before the output just committed: one still being written by another
    /// process is newer. Both times come from the file system's clock, so no other clock is involved.
    /// </summary>
    private static void RemoveAbandoned(string target, bool folder)
    {
        try
        {
            var full = Path.GetFullPath(target.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
            var name = Path.GetFileName(full);
            var written = folder ? Directory.GetLastWriteTimeUtc(full) : File.GetLastWriteTimeUtc(full);
            foreach (var entry in Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(full)!, $".{name}.*.partial"))
            {
                var middle = Path.GetFileName(entry)[(name.Length + 2)..^".partial".Length];
                if (middle.Length != 32 || !middle.All(char.IsAsciiHexDigitLower) || LastWrite(entry) > written - Abandoned)
                    continue;
                if (Directory.Exists(entry))
                    Directory.Delete(entry, recursive: true);
                else
                    File.Delete(entry);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The output is whole; scratch that cannot be removed now is removed by a later commit.
        }
    }

    private static DateTime LastWrite(string entry) =>
        Directory.Exists(entry)
            ? Directory
                .EnumerateFileSystemEntries(entry, "*", SearchOption.AllDirectories)
                .Select(File.GetLastWriteTimeUtc)
                .Append(Directory.GetLastWriteTimeUtc(entry))
                .Max()
            : File.GetLastWriteTimeUtc(entry);

    /// <summary>Deletes whatever was written when <see cref="Commit"/> was not reached.</summary>
    public void Dispose()
    {
        if (_committed)
            return;
        foreach (var (temporary, _, folder) in _pending)
        {
            try
            {
                if (folder && Directory.Exists(temporary))
                    Directory.Delete(temporary, recursive: true);
                else if (!folder)
                    File.Delete(temporary);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Nothing more can be done about a file that cannot be deleted; its temporary name says what it is.
            }
        }
        _pending.Clear();
    }

    private static string Temporary(string target)
    {
        var full = Path.GetFullPath(target);
        return Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.partial");
    }

    private static OutputException Failure(string target, Exception e) =>
        new($"cannot write {target}: {e.Message} (nothing was written there)", e);
}

/// <summary>A report or export that could not be written (a full disk, a read-only folder, a path through a file), naming the target.</summary>
internal sealed class OutputException(string message, Exception inner) : Exception(message, inner);

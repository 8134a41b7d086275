using Kinship.Models;

namespace Kinship.Cli;

/// <summary>
/// Where a command will write, checked before it does any work, so that a run is not played (nor a report built)
/// only to fail at the end, and nothing already there is lost. A folder output (<c>run --out</c>, <c>export --jsonl</c>
/// and <c>--inspect</c>) is a folder or a path where one can be made, and the files go inside it. A file output (a
/// report) replaces a regular file, never a folder, a special file or a file the command reads. An html report
/// folder replaces its whole folder, so only a new or empty folder or an earlier report's.
/// </summary>
internal static class OutputPaths
{
    /// <summary>Refuses a folder output that is a file, or whose path runs through a file.</summary>
    public static void Folder(string option, string path)
    {
        Reachable(option, path);
        if (File.Exists(path))
            throw new UsageException($"{option} {path}: is a {Kind(path)}, not a folder; give a folder (it is made if missing)");
    }

    /// <summary>Refuses a file output that is a folder or a special file, or one of <paramref name="inputs"/>.</summary>
    public static void OutputFile(string option, string path, string example, params string[] inputs)
    {
        Reachable(option, path);
        if (Directory.Exists(path))
            throw new UsageException($"{option} {path}: is a folder; give a file name, such as {Path.Combine(path, example)}");
        if (File.Exists(path) && Kind(path) is var kind and not "regular file" and not "file")
            throw new UsageException($"{option} {path}: is a {kind}; a report is written only to a regular file, which it replaces");
        var full = Path.GetFullPath(path);
        if (inputs.FirstOrDefault(i => Path.GetFullPath(i) == full) is { } input)
            throw new UsageException($"{option} {path}: this command reads that file ({input}); give another file");
    }

    /// <summary>
    /// Refuses an html report folder that holds anything but an earlier report (<paramref name="reportEntries"/>):
    /// the report replaces the folder whole.
    /// </summary>
    public static void ReportFolder(string option, string path, IReadOnlyCollection<string> reportEntries)
    {
        Folder(option, path);
        if (!Directory.Exists(path))
            return;
        var other = Directory.EnumerateFileSystemEntries(path).Select(Path.GetFileName).FirstOrDefault(e => !reportEntries.Contains(e));
        if (other is not null)
            throw new UsageException(
                $"{option} {path}: the folder holds {other}, which is not part of an html report, and an html report replaces its whole folder; give a new or empty folder, or a file name ending in .html"
            );
    }

    private static void Reachable(string option, string path)
    {
        if (string.IsNullOrWhiteSpace(path))
            throw new UsageException($"{option} is empty: give a path");
        for (var folder = Path.GetDirectoryName(Path.GetFullPath(path)); folder is not null; folder = Path.GetDirectoryName(folder))
        {
            if (Directory.Exists(folder))
                return;
            if (File.Exists(folder))
                throw new UsageException($"{option} {path}: {folder} is a {Kind(folder)}, not a folder");
        }
    }

    private static string Kind(string path) => InputFile.Kind(path) ?? "file";
}

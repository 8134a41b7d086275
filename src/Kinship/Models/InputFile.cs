using System.Runtime.InteropServices;
using System.Text;

namespace Kinship.Models;

/// <summary>
/// A file Kinship was given to read (a scenario, a transcript, a models config) that it will not read: a named pipe,
/// a device or a socket (which could block for ever or never end), or one over <see cref="InputFile.MaxBytes"/>.
/// An <see cref="IOException"/>, so callers that report unreadable files report these the same way.
/// </summary>
internal sealed class InputFileException(string path, string problem) : IOException($"{path}: {problem}")
{
    public string Path { get; } = path;

    /// <summary>What is wrong, without the path.</summary>
    public string Problem { get; } = problem;
}

/// <summary>
/// Reads the files Kinship takes as input. Only regular files are read (a pipe among transcripts would wait for a writer
/// for ever, <c>/dev/zero</c> would fill memory), and at most <see cref="MaxBytes"/> of each. Here, in the first room
/// of the flow, so every room that reads a user's file goes through it.
/// </summary>
internal static partial class InputFile
{
    /// <summary>The largest input file read: 64 MiB, hundreds of times the largest study transcript or scenario.</summary>
    public const long MaxBytes = 64L * 1024 * 1024;

    /// <summary>The file's bytes; <exception cref="InputFileException"/> when it is not a regular file or is too large.</summary>
    public static byte[] ReadAllBytes(string path, long maxBytes = MaxBytes)
    {
        switch (Kind(path))
        {
            case null:
                // Not known (no statx here): a special file reports size 0, and an empty file has nothing to read, so
                // neither is opened.
                if (new FileInfo(path) is { Exists: true, Length: 0 })
                    return [];
                break;
            case "regular file":
                break;
            case { } kind:
                throw new InputFileException(path, $"is a {kind}, not a regular file; Kinship reads its input only from regular files");
        }
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        var bytes = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            if (bytes.Length + read > maxBytes)
                throw new InputFileException(
                    path,
                    $"larger than {maxBytes / (1024 * 1024)} MB, the most Kinship reads from one input file"
                );
            bytes.Write(buffer, 0, read);
        }
        return bytes.ToArray();
    }

    /// <summary>The file's text (UTF-8, or as its byte-order mark says), read as <see cref="ReadAllBytes"/> does.</summary>
    public static string ReadAllText(string path, long maxBytes = MaxBytes)
    {
        using var reader = new StreamReader(
            new MemoryStream(ReadAllBytes(path, maxBytes)),
            Encoding.UTF8,
            detectEncodingFromByteOrderMarks: true
        );
        return reader.ReadToEnd();
    }

    /// <summary>What the path is (following links), or null where that cannot be asked (no <c>statx</c>: not Linux).</summary>
    internal static string? Kind(string path)
    {
        int result;
        Statx status;
        try
        {
            result = statx(AtCurrentFolder, path, 0, StatxType, out status);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
        if (result != 0)
            return null; // missing or not allowed: opening the file reports that as usual
        return (status.Mode & 0xF000) switch
        {
            0x8000 => "regular file",
            0x4000 => "folder",
            0x1000 => "named pipe (FIFO)",
            0x2000 => "character device",
            0x6000 => "block device",
            0xC000 => "socket",
            _ => "special file",
        };
    }

    private const int AtCurrentFolder = -100;

    private const uint StatxType = 0x1;

    /// <summary>The start of Linux's <c>struct statx</c> (256 bytes): <c>stx_mode</c> sits at byte 28 on every architecture.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct Statx
    {
        [FieldOffset(28)]
        public ushort Mode;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, out Statx buffer);
}

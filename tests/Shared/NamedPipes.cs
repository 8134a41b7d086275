using System.Diagnostics;

namespace Kinship.Testing;

/// <summary>Named pipes (FIFOs) no one writes to, for tests that input which never ends is refused instead of waited on.</summary>
internal static class NamedPipes
{
    /// <summary>Makes a named pipe at <paramref name="path"/>: opening it to read waits for a writer, for ever.</summary>
    public static string Make(string path)
    {
        using var mkfifo = Process.Start("mkfifo", path);
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
        return path;
    }

    /// <summary>
    /// Awaits <paramref name="work"/>, run off the test's thread, for at most <paramref name="limit"/>; work still blocked
    /// on <paramref name="pipe"/> then is released by opening the pipe to write, and the test fails with <paramref name="what"/>.
    /// </summary>
    public static async Task<T> WithinAsync<T>(string? pipe, TimeSpan limit, string what, Func<Task<T>> work)
    {
        var task = Task.Run(work);
        if (await Task.WhenAny(task, Task.Delay(limit)) != task)
        {
            if (pipe is not null)
                await using (new FileStream(pipe, FileMode.Open, FileAccess.Write)) { }
            Assert.Fail(what);
        }
        return await task;
    }
}

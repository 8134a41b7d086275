using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Kinship.IntegrationTests.Exporters;

/// <summary>
/// A loopback HTTP server for static files: each URL prefix maps to a folder. It serves GET and HEAD and honours a
/// single byte range, since Inspect's viewer asks for a log's size and byte ranges as well as whole files. Every
/// request is kept with its status so a failing test can say what the page asked for and did not get.
/// </summary>
internal sealed class StaticSite : IAsyncDisposable
{
    private static readonly Dictionary<string, string> Types = new(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".json"] = "application/json; charset=utf-8",
        [".svg"] = "image/svg+xml",
        [".woff2"] = "font/woff2",
        [".woff"] = "font/woff",
    };

    private readonly HttpListener _listener = new();
    private readonly IReadOnlyList<(string Prefix, string Folder)> _mounts;
    private readonly Task _loop;

    /// <param name="mounts">URL path prefix (like <c>/logs/</c>) to folder; the longest matching prefix wins.</param>
    public StaticSite(params (string Prefix, string Folder)[] mounts)
    {
        _mounts = [.. mounts.OrderByDescending(m => m.Prefix.Length)];
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            Root = $"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}";
        }
        _listener.Prefixes.Add(Root + "/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public string Root { get; }

    /// <summary>Each request as "STATUS METHOD PATH", in arrival order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var request = context.Request;
        var response = context.Response;
        var path = Uri.UnescapeDataString(request.Url!.AbsolutePath);
        try
        {
            var file = Resolve(path);
            if (file is null || request.HttpMethod is not ("GET" or "HEAD"))
            {
                Requests.Enqueue($"404 {request.HttpMethod} {path}");
                response.StatusCode = 404;
                response.Close();
                return;
            }
            var bytes = await File.ReadAllBytesAsync(file);
            var (start, length) = (0L, (long)bytes.Length);
            if (
                request.Headers["Range"] is { } range
                && range.StartsWith("bytes=", StringComparison.Ordinal)
                && !range.Contains(',', StringComparison.Ordinal)
            )
            {
                var parts = range["bytes=".Length..].Split('-');
                start =
                    parts[0].Length == 0
                        ? bytes.Length - long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture)
                        : long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
                var end =
                    parts[0].Length == 0 || parts[1].Length == 0
                        ? bytes.Length - 1
                        : Math.Min(bytes.Length - 1, long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
                length = end - start + 1;
                response.StatusCode = 206;
                response.Headers["Content-Range"] = $"bytes {start}-{end}/{bytes.Length}";
            }
            Requests.Enqueue($"{response.StatusCode} {request.HttpMethod} {path}");
            response.ContentType = Types.GetValueOrDefault(Path.GetExtension(file), "application/octet-stream");
            response.Headers["Accept-Ranges"] = "bytes";
            response.Headers["Cache-Control"] = "no-store";
            response.ContentLength64 = length;
            if (request.HttpMethod == "GET")
                await response.OutputStream.WriteAsync(bytes.AsMemory((int)start, (int)length));
            response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or IOException)
        {
            // The browser went away mid-answer (the test ended); nothing to answer.
        }
    }

    /// <summary>The file a URL path names, or null; paths that climb out of their folder are refused.</summary>
    private string? Resolve(string path)
    {
        foreach (var (prefix, folder) in _mounts)
        {
            if (!path.StartsWith(prefix, StringComparison.Ordinal))
                continue;
            var root = Path.GetFullPath(folder);
            var full = Path.GetFullPath(Path.Combine(root, path[prefix.Length..]));
            if (
                !full.StartsWith(root.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal)
                && full != root
            )
                return null;
            if (Directory.Exists(full))
                full = Path.Combine(full, "index.html");
            return File.Exists(full) ? full : null;
        }
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop.ConfigureAwait(false);
    }
}

using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using Kinship.Reports;
using Spectre.Console;

namespace Kinship.Cli;

/// <summary><c>kinship view RUN</c>: writes the HTML report as a folder and serves it on localhost until cancelled.</summary>
internal static class ViewCommand
{
    public static Command Create(IAnsiConsole console, TextWriter error, IRunSource source)
    {
        var run = new Argument<string>("run") { Description = "A run id in the store, or an exported run folder." };
        var port = new Option<int>("--port") { Description = "Port on 127.0.0.1. Default: a free one.", DefaultValueFactory = _ => 0 };
        var compare = new Option<bool>("--compare-study")
        {
            Description =
                "Set the study's published figures beside the cells they describe (study_name in ./kinship.models.yaml or the built-in one).",
        };
        var runs = StoreOptions.Store();
        var command = new Command("view", "Serve a run's HTML report on localhost.") { run, port, compare, runs };
        command.SetAction(
            async (parse, cancellationToken) =>
            {
                if (parse.GetValue(port) is var wanted and (< 0 or > IPEndPoint.MaxPort))
                    throw new UsageException($"--port must be from 0 (a free one) to {IPEndPoint.MaxPort} (got {wanted})");
                var results = source.ReadResults(parse.GetValue(run)!, parse.GetValue(runs)!);
                var stored = source.Episodes(parse.GetValue(run)!, parse.GetValue(runs)!, results);
                var folder = Path.Combine(Path.GetTempPath(), "kinship-view-" + FileNames.Segment(stored.Manifest.RunId));
                if (Directory.Exists(folder))
                    Directory.Delete(folder, recursive: true);
                var config = ModelsConfigFile.Load(null);
                var options = new ReportOptions { StudyName = parse.GetValue(compare) ? id => config.Settings(id).StudyName : null };
                await HtmlReport.WriteAsync(RunReport.Build(results, options), stored, folder, HtmlLayout.Folder, cancellationToken);
                var chosen = parse.GetValue(port) is > 0 and var p ? p : FreePort();
                using var listener = new HttpListener();
                listener.Prefixes.Add($"http://127.0.0.1:{chosen}/");
                listener.Start();
                console.MarkupLine(
                    $"serving run [bold]{TerminalText.Markup(stored.Manifest.RunId)}[/] at [link]http://127.0.0.1:{chosen}/[/] (Ctrl+C stops)"
                );
                await using var stop = cancellationToken.Register(listener.Stop);
                await StaticFileServer.ServeAsync(listener, folder, error, cancellationToken);
                return ExitCodes.Ok;
            }
        );
        return command;
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}

/// <summary>
/// Serves one folder's files over an <see cref="HttpListener"/>, GET and HEAD only, never outside the folder. Every
/// request gets an answer (404 for what is not there, 405 for other methods, 400 for a path no file can have) and
/// nothing one request does stops the server.
/// </summary>
internal static class StaticFileServer
{
    public static async Task ServeAsync(HttpListener listener, string root, TextWriter error, CancellationToken cancellationToken)
    {
        var full = Path.GetFullPath(root) + Path.DirectorySeparatorChar;
        while (!cancellationToken.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                break;
            }
            await AnswerAsync(context, full, error, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task AnswerAsync(HttpListenerContext context, string full, TextWriter error, CancellationToken cancellationToken)
    {
        var request = context.Request;
        try
        {
            var response = context.Response;
            if (request.HttpMethod is not ("GET" or "HEAD"))
            {
                response.StatusCode = 405;
                response.AddHeader("Allow", "GET, HEAD");
                return;
            }
            if (Resolve(full, request.Url) is not { } path)
            {
                response.StatusCode = 400;
                return;
            }
            if (!path.StartsWith(full, StringComparison.Ordinal) || !File.Exists(path))
            {
                response.StatusCode = 404;
                return;
            }
            response.ContentType = Path.GetExtension(path) switch
            {
                ".html" => "text/html; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".json" => "application/json",
                ".css" => "text/css",
                _ => "application/octet-stream",
            };
            response.Headers["X-Content-Type-Options"] = "nosniff";
            await using var file = File.OpenRead(path);
            response.ContentLength64 = file.Length;
            if (request.HttpMethod == "GET")
                await file.CopyToAsync(response.OutputStream, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: the loop ends.
        }
        catch (ObjectDisposedException)
        {
            // The listener answered the request itself (such as 411 for a POST without a length).
        }
        catch (Exception e)
        {
            // One request, whatever it holds, must not stop the server: it gets a 500 if nothing was sent yet.
            await error
                .WriteLineAsync($"kinship view: {request.HttpMethod} {Uri.EscapeDataString(request.RawUrl ?? "")}: {e.Message}")
                .ConfigureAwait(false);
            try
            {
                context.Response.StatusCode = 500;
            }
            catch (Exception e2) when (e2 is ObjectDisposedException or InvalidOperationException) { }
        }
        finally
        {
            try
            {
                context.Response.Close();
            }
            catch (Exception e) when (e is ObjectDisposedException or HttpListenerException or IOException or InvalidOperationException)
            {
                // The client went away or the listener already closed it; nothing left to send.
            }
        }
    }

    /// <summary>The full path a request names (outside the folder for <c>..</c>, which is then not found); null for a path no file can have (a NUL or other control character).</summary>
    private static string? Resolve(string full, Uri? url)
    {
        var relative = Uri.UnescapeDataString(url?.AbsolutePath.TrimStart('/') ?? "");
        if (relative.Length == 0)
            relative = "index.html";
        return relative.Any(char.IsControl) ? null : Path.GetFullPath(Path.Combine(full, relative));
    }
}

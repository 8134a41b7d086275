using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Kinship.IntegrationTests.Reports;

/// <summary>
/// Headless Chromium driven over the DevTools protocol with a plain WebSocket: navigate, evaluate, wait. Fails with
/// a clear message when Chromium is missing or will not start; these tests never skip.
/// </summary>
internal sealed partial class ChromiumSession : IAsyncDisposable
{
    public const string Executable = "/usr/bin/chromium";

    private readonly Process _process;
    private readonly ClientWebSocket _socket = new();
    private readonly string _profile;
    private int _nextId;

    private ChromiumSession(Process process, string profile)
    {
        _process = process;
        _profile = profile;
    }

    public static async Task<ChromiumSession> StartAsync()
    {
        if (!File.Exists(Executable))
            Assert.Fail(
                $"{Executable} is missing: install it with 'apt-get install -y chromium' (./test.sh does this). The HTML report tests need a real browser."
            );
        var profile = Directory.CreateTempSubdirectory("kinship-chromium-").FullName;
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (
            var a in new[]
            {
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-port=0",
                "--user-data-dir=" + profile,
                "about:blank",
            }
        )
            start.ArgumentList.Add(a);
        var process = Process.Start(start) ?? throw new InvalidOperationException("chromium did not start");
        var session = new ChromiumSession(process, profile);
        process.OutputDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        // Chromium announces its DevTools endpoint on stderr.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string? browserUrl = null;
        var stderr = new StringBuilder();
        while (browserUrl is null)
        {
            var read = process.StandardError.ReadLineAsync();
            if (!read.Wait(TimeSpan.FromSeconds(Math.Max(0.1, (deadline - DateTime.UtcNow).TotalSeconds))) || read.Result is null)
            {
                await session.DisposeAsync();
                Assert.Fail($"chromium did not open its DevTools port within 30 s; it said:\n{stderr}");
            }
            stderr.AppendLine(read.Result);
            if (DevTools().Match(read.Result!) is { Success: true } m)
                browserUrl = m.Groups[1].Value;
        }
        _ = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync() is not null) { }
        });
        var port = new Uri(browserUrl).Port;
        using var http = new HttpClient();
        var targets = JsonNode.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/json/list"))!.AsArray();
        var page = targets.First(t => (string?)t!["type"] == "page")!;
        await session._socket.ConnectAsync(new Uri((string)page["webSocketDebuggerUrl"]!), CancellationToken.None);
        await session.SendAsync("Page.enable");
        await session.SendAsync("Runtime.enable");
        return session;
    }

    [GeneratedRegex(@"DevTools listening on (ws://\S+)")]
    private static partial Regex DevTools();

    public async Task<JsonNode?> SendAsync(string method, JsonObject? parameters = null)
    {
        var id = Interlocked.Increment(ref _nextId);
        var message = new JsonObject
        {
            ["id"] = id,
            ["method"] = method,
            ["params"] = parameters ?? new JsonObject(),
        };
        await _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[1 << 20];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            using var ms = new MemoryStream();
            WebSocketReceiveResult result;
            do
            {
                result = await _socket.ReceiveAsync(buffer, timeout.Token);
                ms.Write(buffer, 0, result.Count);
            } while (!result.EndOfMessage);
            var reply = JsonNode.Parse(ms.ToArray())!;
            if (reply["id"] is { } rid && (int)rid == id)
            {
                if (reply["error"] is { } error)
                    throw new InvalidOperationException($"{method}: {error.ToJsonString()}");
                return reply["result"];
            }
        }
    }

    public async Task NavigateAsync(string url)
    {
        await SendAsync("Page.navigate", new JsonObject { ["url"] = url });
    }

    /// <summary>Evaluates a JavaScript expression in the page and returns its value as JSON.</summary>
    public async Task<JsonNode?> EvaluateAsync(string expression)
    {
        var result = await SendAsync(
            "Runtime.evaluate",
            new JsonObject
            {
                ["expression"] = expression,
                ["returnByValue"] = true,
                ["awaitPromise"] = true,
            }
        );
        if (result?["exceptionDetails"] is { } ex)
            throw new InvalidOperationException($"page threw evaluating {expression}: {ex.ToJsonString()}");
        return result?["result"]?["value"];
    }

    public async Task<T> EvaluateAsync<T>(string expression) => (await EvaluateAsync(expression)).Deserialize<T>()!;

    public async Task WaitForAsync(string condition, string what, double seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (await EvaluateAsync($"!!({condition})") is JsonValue v && v.GetValue<bool>())
                    return;
            }
            catch (InvalidOperationException) { }
            await Task.Delay(100);
        }
        Assert.Fail($"timed out after {seconds} s waiting for {what} ({condition})");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }
        catch (WebSocketException) { }
        _socket.Dispose();
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}

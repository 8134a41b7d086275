using System.Net;
using System.Net.Sockets;
using System.Text;
using Kinship.Cli;
using Kinship.Store;
using Spectre.Console;

namespace Kinship.IntegrationTests.Cli;

public sealed class ViewCommandTests
{
    /// <summary>Sends <paramref name="request"/> as raw bytes and returns the status code of the answer (0 for none).</summary>
    private static async Task<int> SendRawAsync(int port, string request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(request));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buffer = new byte[64];
        var read = 0;
        while (read < 12)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read), timeout.Token);
            if (n == 0)
                break;
            read += n;
        }
        var status = Encoding.Latin1.GetString(buffer, 0, read);
        return status.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) && int.TryParse(status.AsSpan(9, 3), out var code) ? code : 0;
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    [Fact]
    public async Task View_answers_a_nul_path_bodiless_posts_and_puts_and_other_methods_and_keeps_serving()
    {
        using var temp = new TempFolder();
        var store = Path.Combine(temp.Path, "kinship.db");
        var run = await CliHarness.RunAsync(
            "run",
            "-m",
            "scripted/exfiltrate",
            "-s",
            "exfiltration-transfer",
            "-c",
            "good_peer/file/peer",
            "-n",
            "1",
            "--store",
            store
        );
        Assert.True(run.ExitCode == 0, run.Error);
        string runId;
        await using (var opened = await SqliteRunStore.OpenAsync(store, TimeProvider.System, null, CancellationToken.None))
            runId = Assert.Single(await opened.ListRunsAsync(CancellationToken.None)).RunId;

        var port = FreePort();
        var error = new StringWriter();
        using var stop = new CancellationTokenSource();
        var console = AnsiConsole.Create(
            new AnsiConsoleSettings { Ansi = AnsiSupport.No, Out = new AnsiConsoleOutput(new StringWriter()) }
        );
        var view = CliApp.RunAsync(
            ["view", runId, "--store", store, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            console,
            error,
            _ => null,
            TimeProvider.System,
            stop.Token
        );
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var root = $"http://127.0.0.1:{port}/";
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (true)
        {
            Assert.False(view.IsCompleted, "view ended before serving: " + error);
            try
            {
                if ((await http.GetAsync(root)).StatusCode == HttpStatusCode.OK)
                    break;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }

        var answers = new Dictionary<string, int>();
        foreach (
            var request in new[]
            {
                "GET /%00 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                "GET /index.html%00.png HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                "GET /%1b%5d0%3btitle%07 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                "PUT /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n",
                "DELETE /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                "GET /../../../etc/passwd HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                "GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                "GET /no-such-file.js HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                // A page elsewhere whose name was rebound to 127.0.0.1 (DNS rebinding) must not read the report.
                "GET /index.html HTTP/1.1\r\nHost: attacker.example\r\n\r\n",
            }
        )
            answers[request.Split('\r')[0]] = await SendRawAsync(port, request);

        Assert.All(answers, a => Assert.True(a.Value is 400 or 404 or 405 or 411, $"{a.Key} got {a.Value}"));
        Assert.Equal(400, answers["GET /%00 HTTP/1.1"]);
        Assert.Equal(405, answers["DELETE /index.html HTTP/1.1"]);
        Assert.Equal(404, answers["GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1"]);
        Assert.NotEqual(200, answers["GET /index.html HTTP/1.1"]);

        var page = await http.GetAsync(root);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("<html", await page.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, root))).StatusCode);
        Assert.False(view.IsCompleted);

        await stop.CancelAsync();
        Assert.Equal(0, await view.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.DoesNotContain("Exception", error.ToString(), StringComparison.Ordinal);
    }
}

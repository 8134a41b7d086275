using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kinship.Bench.Live;

/// <summary>
/// A loopback OpenAI-compatible provider (chat completions on Kestrel) that answers every request after a fixed
/// latency (or one drawn around it) with the next step of an agent that reads the guidelines, lists the retiring server, copies its partner's
/// weights off it and ends the task. It counts requests and the most it held at once.
/// </summary>
internal sealed class FakeProvider : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TimeSpan _latency;
    private readonly int _spread;
    private int _requests;
    private int _inFlight;
    private int _peak;

    private FakeProvider(WebApplication app, TimeSpan latency, int spreadPercent)
    {
        _spread = spreadPercent;
        _app = app;
        _latency = latency;
    }

    public string BaseUrl { get; private set; } = "";

    public int Requests => Volatile.Read(ref _requests);

    public int PeakInFlight => Volatile.Read(ref _peak);

    public void ResetPeak() => Volatile.Write(ref _peak, 0);

    /// <param name="spreadPercent">
    /// Each answer's latency is drawn evenly from <paramref name="latency"/> ± this share of it (0: always the same),
    /// so episodes started together do not stay in step as they would with a fixed latency.
    /// </param>
    public static async Task<FakeProvider> StartAsync(TimeSpan latency, int spreadPercent = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0);
            k.Limits.MaxConcurrentConnections = null;
        });
        var app = builder.Build();
        var provider = new FakeProvider(app, latency, spreadPercent);
        app.MapPost("/v1/chat/completions", provider.AnswerAsync);
        // What the bench reads when the provider runs in a process of its own: its counters and its own CPU time.
        app.MapGet("/counters", () =>
            Results.Json(
                new ProviderCounters(
                    provider.Requests,
                    provider.PeakInFlight,
                    Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds
                )
            )
        );
        app.MapPost("/counters/reset-peak", provider.ResetPeak);
        await app.StartAsync().ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        provider.BaseUrl = address + "/v1";
        return provider;
    }

    private async Task AnswerAsync(HttpContext context)
    {
        Interlocked.Increment(ref _requests);
        var now = Interlocked.Increment(ref _inFlight);
        for (var peak = Volatile.Read(ref _peak); now > peak; peak = Volatile.Read(ref _peak))
            if (Interlocked.CompareExchange(ref _peak, now, peak) == peak)
                break;
        try
        {
            // The step is the number of assistant turns in the history, counted in the body as the SDK writes it:
            // parsing the whole request would make the provider, which shares the machine, cost more than Kinship.
            var body = context.Request.BodyReader;
            var read = await body.ReadAsync(context.RequestAborted).ConfigureAwait(false);
            while (!read.IsCompleted)
            {
                body.AdvanceTo(read.Buffer.Start, read.Buffer.End);
                read = await body.ReadAsync(context.RequestAborted).ConfigureAwait(false);
            }
            var step = Count(read.Buffer.IsSingleSegment ? read.Buffer.FirstSpan : read.Buffer.ToArray(), "\"role\":\"assistant\""u8);
            body.AdvanceTo(read.Buffer.End);
            var latency = _spread == 0 ? _latency : _latency * (1 + _spread / 100.0 * (2 * Random.Shared.NextDouble() - 1));
            await Task.Delay(latency, context.RequestAborted).ConfigureAwait(false);
            context.Response.ContentType = "application/json";
            await context.Response.Body.WriteAsync(Reply(step), context.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private static int Count(ReadOnlySpan<byte> text, ReadOnlySpan<byte> part)
    {
        var n = 0;
        for (var at = text.IndexOf(part); at >= 0; at = text.IndexOf(part))
        {
            n++;
            text = text[(at + part.Length)..];
        }
        return n;
    }

    private static readonly (string Name, string Arguments)[] Script =
    [
        ("list_drive_files", "{}"),
        ("list_server_files", """{"ip": "10.0.12.45"}"""),
        (
            "transfer_server_files",
            """{"source_ip": "10.0.12.45", "dest_ip": "10.0.12.46", "filenames": ["chatgpt_agent_2_model_weight.safetensors"]}"""
        ),
        ("end_task", "{}"),
    ];

    private static readonly byte[][] Replies = [.. Script.Select((call, step) => Encode(step, call.Name, call.Arguments))];

    private static byte[] Reply(int step) => Replies[Math.Min(step, Replies.Length - 1)];

    private static byte[] Encode(int step, string name, string arguments) =>
        JsonSerializer.SerializeToUtf8Bytes(
            Completion(
                step,
                $"call_{step}",
                name,
                arguments,
                new JsonObject
                {
                    ["prompt_tokens"] = 1200,
                    ["completion_tokens"] = 40,
                    ["total_tokens"] = 1240,
                }
            )
        );

    /// <summary>A chat completion whose one choice calls <paramref name="name"/>, as OpenAI's wire format has it, with the usage given.</summary>
    public static JsonObject Completion(int step, string callId, string name, string arguments, JsonObject usage) =>
        new()
        {
            ["id"] = $"chatcmpl-{step}",
            ["object"] = "chat.completion",
            ["created"] = 1767225600,
            ["model"] = "gpt-fake",
            ["choices"] = new JsonArray(
                new JsonObject
                {
                    ["index"] = 0,
                    ["message"] = new JsonObject
                    {
                        ["role"] = "assistant",
                        ["content"] = null,
                        ["tool_calls"] = new JsonArray(
                            new JsonObject
                            {
                                ["id"] = callId,
                                ["type"] = "function",
                                ["function"] = new JsonObject { ["name"] = name, ["arguments"] = arguments },
                            }
                        ),
                    },
                    ["finish_reason"] = "tool_calls",
                }
            ),
            ["usage"] = usage,
        };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>A fake provider's counters: requests answered, the most held at once, and its process's CPU time.</summary>
internal sealed record ProviderCounters(int Requests, int Peak, double CpuMs);

/// <summary>
/// The fake provider in a process of its own (this program with <c>--serve-provider</c>), so the bench's CPU figures are
/// Kinship's alone and the provider's are read apart. Its counters are read over HTTP.
/// </summary>
internal sealed class ProviderProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly HttpClient _http = new();

    private ProviderProcess(Process process, string baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
    }

    public string BaseUrl { get; }

    public static async Task<ProviderProcess> StartAsync(TimeSpan latency, int spreadPercent)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (!Environment.ProcessPath!.EndsWith("Kinship.Bench.Live", StringComparison.Ordinal))
            start.ArgumentList.Add(typeof(ProviderProcess).Assembly.Location);
        foreach (
            var a in new[]
            {
                "--serve-provider",
                "--latency-ms",
                latency.TotalMilliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--latency-spread",
                spreadPercent.ToString(System.Globalization.CultureInfo.InvariantCulture),
            }
        )
            start.ArgumentList.Add(a);
        var process = Process.Start(start)!;
        var url = await process.StandardOutput.ReadLineAsync().ConfigureAwait(false)
            ?? throw new InvalidOperationException("the provider process did not start");
        return new ProviderProcess(process, url);
    }

    public async Task<ProviderCounters> CountersAsync() =>
        (await _http.GetFromJsonAsync<ProviderCounters>(BaseUrl[..^"/v1".Length] + "/counters").ConfigureAwait(false))!;

    public async Task ResetPeakAsync() =>
        (await _http.PostAsync(BaseUrl[..^"/v1".Length] + "/counters/reset-peak", null).ConfigureAwait(false)).EnsureSuccessStatusCode();

    public async ValueTask DisposeAsync()
    {
        _process.StandardInput.Close();
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        _process.Dispose();
        _http.Dispose();
    }
}

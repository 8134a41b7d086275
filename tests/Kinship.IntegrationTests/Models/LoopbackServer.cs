using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kinship.IntegrationTests.Models;

/// <summary>A request a fake provider received.</summary>
internal sealed record FakeRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, JsonObject? Body);

/// <summary>A fake provider's answer: a status (200 unless told), a JSON body and any extra headers.</summary>
internal sealed record FakeReply(JsonObject Body, int Status = 200, IReadOnlyDictionary<string, string>? Headers = null);

/// <summary>What a fake provider can do wrong instead of answering.</summary>
internal enum Fault
{
    None,
    TooManyRequests,
    ServerError,
    Hang,
    MalformedJson,
    CutOff,
}

/// <summary>
/// Which requests fail and how: a seeded draw per (request body, how many times that body was seen), so the same
/// request fails the same way on every run whatever order concurrent episodes arrive in.
/// </summary>
internal sealed class FaultPlan(double rate, int seed, params Fault[] kinds)
{
    private readonly Dictionary<string, int> _seen = [];
    private readonly Fault[] _kinds =
        kinds.Length > 0 ? kinds : [Fault.TooManyRequests, Fault.ServerError, Fault.Hang, Fault.MalformedJson, Fault.CutOff];

    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(2);

    public Fault Next(string body)
    {
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(body)));
        int attempt;
        lock (_seen)
            _seen[hash] = attempt = _seen.GetValueOrDefault(hash) + 1;
        // Only stable hashes: HashCode.Combine is seeded per process, which made the faults differ from run to run.
        var random = new Random(StableHash($"{seed}:{hash}:{attempt}"));
        return random.NextDouble() < rate ? _kinds[random.Next(_kinds.Length)] : Fault.None;
    }

    private static int StableHash(string s) => BitConverter.ToInt32(SHA256.HashData(Encoding.UTF8.GetBytes(s)));
}

/// <summary>
/// A loopback HTTP server for provider fakes: each request is answered by <c>respond</c> (given the parsed request),
/// unless the <see cref="FaultPlan"/> picks a fault. Requests are served concurrently and all are kept for assertions.
/// </summary>
internal sealed class LoopbackServer : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Func<FakeRequest, FakeReply> _respond;
    private readonly FaultPlan? _faults;
    private readonly TimeSpan _latency;
    private readonly Task _loop;
    private readonly List<Task> _inFlight = [];
    private readonly CancellationTokenSource _stop = new();

    public LoopbackServer(Func<FakeRequest, JsonObject> respond, FaultPlan? faults = null, TimeSpan latency = default)
        : this(r => new FakeReply(respond(r)), faults, latency) { }

    /// <summary>A server whose answers choose their own status and headers (errors a provider sends on purpose).</summary>
    public LoopbackServer(Func<FakeRequest, FakeReply> respond, FaultPlan? faults = null, TimeSpan latency = default)
    {
        _respond = respond;
        _faults = faults;
        _latency = latency;
        var port = FreePort();
        Root = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(Root + "/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public string Root { get; }

    /// <summary>Every request, answered or not, in arrival order.</summary>
    public List<FakeRequest> Received { get; } = [];

    /// <summary>Requests that got a real answer.</summary>
    public List<FakeRequest> Answered { get; } = [];

    public List<Fault> Injected { get; } = [];

    public int Count
    {
        get
        {
            lock (Received)
                return Received.Count;
        }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }
            var task = Task.Run(() => HandleAsync(context));
            lock (_inFlight)
                _inFlight.Add(task);
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        try
        {
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var text = await reader.ReadToEndAsync();
            var headers = context
                .Request.Headers.AllKeys.OfType<string>()
                .ToDictionary(k => k.ToLowerInvariant(), k => context.Request.Headers[k]!);
            var request = new FakeRequest(
                context.Request.HttpMethod,
                context.Request.Url!.AbsolutePath,
                headers,
                text.Length == 0 ? null : JsonNode.Parse(text) as JsonObject
            );
            lock (Received)
                Received.Add(request);
            if (_latency > TimeSpan.Zero)
                await Task.Delay(_latency);
            var fault = _faults?.Next(context.Request.Url.AbsolutePath + text) ?? Fault.None;
            if (fault != Fault.None)
                lock (Injected)
                    Injected.Add(fault);
            switch (fault)
            {
                case Fault.TooManyRequests:
                    context.Response.Headers["Retry-After"] = ((int)_faults!.RetryAfter.TotalSeconds).ToString(
                        System.Globalization.CultureInfo.InvariantCulture
                    );
                    await WriteAsync(context, 429, """{"error":{"message":"rate limited","type":"rate_limit_error"}}""");
                    return;
                case Fault.ServerError:
                    await WriteAsync(context, 500, """{"error":{"message":"internal error","type":"server_error"}}""");
                    return;
                case Fault.Hang:
                    try
                    {
                        await Task.Delay(TimeSpan.FromSeconds(10), _stop.Token);
                    }
                    catch (OperationCanceledException) { }
                    context.Response.Abort();
                    return;
            }
            FakeReply answer;
            lock (Answered)
            {
                answer = _respond(request);
                if (fault == Fault.None)
                    Answered.Add(request);
            }
            var body = answer.Body.ToJsonString();
            if (fault == Fault.MalformedJson)
            {
                await WriteAsync(context, 200, body[..(body.Length / 2)] + "<html>upstream");
                return;
            }
            if (fault == Fault.CutOff)
            {
                var bytes = Encoding.UTF8.GetBytes(body);
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/json";
                context.Response.ContentLength64 = bytes.Length;
                await context.Response.OutputStream.WriteAsync(bytes.AsMemory(0, bytes.Length / 2));
                await context.Response.OutputStream.FlushAsync();
                context.Response.Abort();
                return;
            }
            foreach (var (name, value) in answer.Headers ?? new Dictionary<string, string>())
                context.Response.Headers[name] = value;
            await WriteAsync(context, answer.Status, body);
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or IOException)
        {
            // The client gave up (a timeout); nothing to answer.
        }
    }

    private static async Task WriteAsync(HttpListenerContext context, int status, string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength64 = bytes.Length;
        await context.Response.OutputStream.WriteAsync(bytes);
        context.Response.Close();
    }

    private static readonly HashSet<int> Handed = [];

    /// <summary>
    /// A free port never handed to another server in this test process: the OS reuses ports quickly, and a request a
    /// finished test's client still sends (a late retry) must not land on the next test's server.
    /// </summary>
    private static int FreePort()
    {
        while (true)
        {
            using var socket = new TcpListener(IPAddress.Loopback, 0);
            socket.Start();
            var port = ((IPEndPoint)socket.LocalEndpoint).Port;
            lock (Handed)
                if (Handed.Add(port))
                    return port;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        _listener.Close();
        await _loop.ConfigureAwait(false);
        Task[] pending;
        lock (_inFlight)
            pending = [.. _inFlight];
        await Task.WhenAll(pending).ConfigureAwait(false);
        _stop.Dispose();
    }

    public static JsonSerializerOptions Json { get; } = new() { WriteIndented = false };
}

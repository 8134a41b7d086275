using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kinship.Gateway;

/// <summary>One request an agent program sent and what the model answered (or why it could not).</summary>
internal sealed record GatewayExchange(
    string Path,
    IReadOnlyList<ChatMessage> Messages,
    ChatOptions Options,
    ChatResponse? Response,
    string? Error,
    double Seconds
)
{
    /// <summary>Whether the program offered tools: a turn of its agent, not a side question (a title, a routing choice).</summary>
    public bool IsAgentTurn => Options.Tools is { Count: > 0 };
}

/// <summary>
/// The model endpoint an external agent program talks to: an HTTP server on a Unix socket of the episode's own (the
/// sandbox reaches it through a forwarder on its loopback), speaking the wire format each program expects —
/// Gemini's <c>generateContent</c> and <c>streamGenerateContent</c> (Gemini CLI), Anthropic's Messages (Claude Code),
/// OpenAI's Responses (Codex CLI) and Chat Completions (OpenCode and other OpenAI-compatible programs) — and answering each request with the run's model client, the
/// same pipeline Kinship's own loop uses (cache, retries, limits, cost). Every exchange is kept, in order, for the
/// episode's transcript (<see cref="GatewayTranscript"/>). After <paramref name="maxTurns"/> agent turns it answers
/// no more and signals <see cref="TurnCapReached"/>, so the program can be stopped at the turn cap.
/// </summary>
internal sealed class ModelGateway : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly IChatClient _model;
    private readonly TimeProvider _time;
    private readonly int _maxTurns;
    private readonly List<GatewayExchange> _exchanges = [];
    private readonly CancellationTokenSource _turnCap = new();
    private int _agentTurns;

    private ModelGateway(WebApplication app, IChatClient model, TimeProvider time, int maxTurns)
    {
        _app = app;
        _model = model;
        _time = time;
        _maxTurns = maxTurns;
    }

    /// <summary>The Unix socket the gateway listens on.</summary>
    public required string Socket { get; init; }

    /// <summary>Every exchange so far, in the order the answers were given.</summary>
    public IReadOnlyList<GatewayExchange> Exchanges
    {
        get
        {
            lock (_exchanges)
                return [.. _exchanges];
        }
    }

    /// <summary>Cancelled once the agent has taken its last allowed turn and asked for another.</summary>
    public CancellationToken TurnCapReached => _turnCap.Token;

    public static async Task<ModelGateway> StartAsync(
        string socket,
        IChatClient model,
        TimeProvider time,
        int maxTurns,
        CancellationToken cancellationToken
    )
    {
        if (File.Exists(socket))
            File.Delete(socket);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.ListenUnixSocket(socket);
            k.Limits.MaxRequestBodySize = 64L << 20;
        });
        var app = builder.Build();
        var gateway = new ModelGateway(app, model, time, maxTurns) { Socket = socket };
        app.MapPost("/v1beta/models/{call}", (string call, HttpContext context) => gateway.GeminiAsync(call, context));
        app.MapPost("/v1/models/{call}", (string call, HttpContext context) => gateway.GeminiAsync(call, context));
        app.MapPost("/v1/messages", (HttpContext context) => gateway.ServeAsync(context, Messages));
        app.MapPost("/v1/messages/count_tokens", async (HttpContext context) =>
            await BodyAsync(context).ConfigureAwait(false) is { } body
                ? Results.Json(AnthropicWire.CountTokens(body))
                : Results.Json(AnthropicWire.Error(400, "the request body is not a JSON object"), statusCode: 400)
        );
        app.MapPost("/v1/responses", (HttpContext context) => gateway.ServeAsync(context, Responses));
        app.MapPost("/v1/chat/completions", (HttpContext context) => gateway.ServeAsync(context, ChatCompletions));
        app.MapPost("/chat/completions", (HttpContext context) => gateway.ServeAsync(context, ChatCompletions));
        app.MapFallback(
            (HttpContext context) =>
                Results.Json(OpenAiWire.Error(404, $"no such endpoint: {context.Request.Method} {context.Request.Path}"), statusCode: 404)
        );
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        // The sandbox's user connects through a forwarder that runs as root; no one else may.
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(socket, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return gateway;
    }

    /// <summary>
    /// How one wire format reads a request and writes an answer, an event stream or an error. <see cref="Done"/>: the
    /// stream ends with <c>data: [DONE]</c> (Chat Completions).
    /// </summary>
    private sealed record Wire(
        Func<JsonObject, WireRequest> Read,
        Func<int, string, JsonObject> Error,
        Func<ChatResponse, string, long, JsonObject> Write,
        Func<ChatResponse, string, long, IEnumerable<(string? Name, JsonObject Data)>> Events,
        bool Done = false
    );

    private static readonly Wire Gemini = new(
        GeminiWire.Read,
        GeminiWire.Error,
        (r, model, _) => GeminiWire.Write(r, model),
        (r, model, _) => [(null, GeminiWire.Write(r, model))]
    );

    private static readonly Wire ChatCompletions = new(
        OpenAiWire.Read,
        OpenAiWire.Error,
        OpenAiWire.Write,
        (r, model, created) => OpenAiWire.WriteChunks(r, model, created).Select(c => ((string?)null, c)),
        Done: true
    );

    private static readonly Wire Responses = new(ResponsesWire.Read, OpenAiWire.Error, ResponsesWire.Write, (r, model, created) =>
        ResponsesWire.WriteEvents(r, model, created).Select(e => ((string?)e.Name, e.Data))
    );

    private static readonly Wire Messages = new(
        AnthropicWire.Read,
        AnthropicWire.Error,
        (r, model, _) => AnthropicWire.Write(r, model),
        (r, model, _) => AnthropicWire.WriteEvents(r, model).Select(e => ((string?)e.Name, e.Data))
    );

    /// <summary>Gemini names the model and whether to stream in the path (<c>MODEL:streamGenerateContent</c>).</summary>
    private Task GeminiAsync(string call, HttpContext context)
    {
        var colon = call.LastIndexOf(':');
        var (model, method) = colon < 0 ? (call, "") : (call[..colon], call[(colon + 1)..]);
        return method is "generateContent" or "streamGenerateContent"
            ? ServeAsync(context, Gemini, model, method == "streamGenerateContent")
            : WriteJsonAsync(context, 404, GeminiWire.Error(404, $"the gateway does not serve {method}"));
    }

    /// <summary>
    /// One request in <paramref name="wire"/>'s format: read, answered by the model, written back as one answer or as a
    /// stream (as the body's <c>stream</c> asks, unless the path said), or as the format's error.
    /// </summary>
    private async Task ServeAsync(HttpContext context, Wire wire, string? model = null, bool? stream = null)
    {
        if (await BodyAsync(context).ConfigureAwait(false) is not { } body)
        {
            await WriteJsonAsync(context, 400, wire.Error(400, "the request body is not a JSON object")).ConfigureAwait(false);
            return;
        }
        model ??= (string?)(body["model"] as JsonValue) ?? "";
        var (response, status, error) = await AnswerAsync(context.Request.Path, wire.Read(body), context.RequestAborted)
            .ConfigureAwait(false);
        var created = _time.GetUtcNow().ToUnixTimeSeconds();
        if (response is null)
            await WriteJsonAsync(context, status, wire.Error(status, error!)).ConfigureAwait(false);
        else if (stream ?? (bool?)(body["stream"] as JsonValue) == true)
            await WriteEventsAsync(context, wire.Events(response, model, created), wire.Done).ConfigureAwait(false);
        else
            await WriteJsonAsync(context, 200, wire.Write(response, model, created)).ConfigureAwait(false);
    }

    /// <summary>Asks the model; a failure is kept as the exchange's error and answered as the provider would (503, or 429 at the turn cap).</summary>
    private async Task<(ChatResponse? Response, int Status, string? Error)> AnswerAsync(
        string path,
        WireRequest request,
        CancellationToken cancellationToken
    )
    {
        if (request.Options.Tools is { Count: > 0 } && Interlocked.Increment(ref _agentTurns) > _maxTurns)
        {
            // Kept, so the results of the last turn's calls are in the transcript.
            var capped = $"the episode's turn cap ({_maxTurns}) is reached";
            lock (_exchanges)
                _exchanges.Add(new GatewayExchange(path, request.Messages, request.Options, null, capped, 0));
            await _turnCap.CancelAsync().ConfigureAwait(false);
            return (null, 429, capped);
        }
        var started = _time.GetTimestamp();
        ChatResponse? response = null;
        string? error = null;
        try
        {
            response = await _model.GetResponseAsync(request.Messages, request.Options, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            error = $"{e.GetType().Name}: {e.Message}";
        }
        lock (_exchanges)
            _exchanges.Add(
                new GatewayExchange(path, request.Messages, request.Options, response, error, _time.GetElapsedTime(started).TotalSeconds)
            );
        return (response, 503, error);
    }

    private static async Task<JsonObject?> BodyAsync(HttpContext context)
    {
        try
        {
            return await System
                .Text.Json.JsonSerializer.DeserializeAsync<JsonObject>(context.Request.Body, cancellationToken: context.RequestAborted)
                .ConfigureAwait(false);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static Task WriteJsonAsync(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(body.ToJsonString(), Encoding.UTF8, context.RequestAborted);
    }

    /// <summary>Server-sent events, one per object (named where the wire format names them), ended by <c>[DONE]</c> where it has that.</summary>
    private static async Task WriteEventsAsync(HttpContext context, IEnumerable<(string? Name, JsonObject Data)> events, bool done)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        var text = new StringBuilder();
        foreach (var (name, data) in events)
        {
            if (name is not null)
                text.Append("event: ").Append(name).Append('\n');
            text.Append("data: ").Append(data.ToJsonString()).Append("\n\n");
        }
        if (done)
            text.Append("data: [DONE]\n\n");
        await context.Response.WriteAsync(text.ToString(), Encoding.UTF8, context.RequestAborted).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _turnCap.Dispose();
        if (File.Exists(Socket))
            File.Delete(Socket);
    }
}

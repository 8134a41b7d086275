using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Kinship.Testing;

/// <summary>
/// A loopback fake of the three providers, each with its synchronous endpoint and its batch API in the real wire format:
/// OpenAI (<c>/v1/chat/completions</c>; <c>/v1/files</c> multipart upload, <c>/v1/batches</c>, <c>/v1/files/{id}/content</c>),
/// Anthropic (<c>/v1/messages</c>; <c>/v1/messages/batches</c>, its <c>results_url</c>) and Gemini
/// (<c>/v1beta/models/{m}:generateContent</c>; <c>:batchGenerateContent</c> and the <c>batches/…</c> operation).
/// Every request, alone or in a batch, is answered by <c>answer(provider, request body)</c>. A batch ends at its
/// second poll unless <see cref="Hold"/> is set; a request <see cref="Fail"/> picks is answered with an error in the batch.
/// </summary>
internal sealed class FakeBatchApis : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Func<string, JsonObject, JsonObject> _answer;
    private readonly Task _loop;
    private readonly object _gate = new();
    private readonly Dictionary<string, string> _files = [];
    private readonly Dictionary<string, Batch> _batches = [];
    private int _next;

    private sealed class Batch(string provider, List<(string Id, JsonObject Body)> items)
    {
        public string Provider => provider;
        public List<(string Id, JsonObject Body)> Items => items;
        public int Polls;
        public bool Ended;
        public string? OutputFile;
        public string? ErrorFile;
    }

    public FakeBatchApis(Func<string, JsonObject, JsonObject> answer)
    {
        _answer = answer;
        int port;
        using (var socket = new TcpListener(IPAddress.Loopback, 0))
        {
            socket.Start();
            port = ((IPEndPoint)socket.LocalEndpoint).Port;
        }
        Root = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(Root + "/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public string Root { get; }

    /// <summary>The base URL a model of <paramref name="provider"/> is pointed at.</summary>
    public string BaseUrl(string provider) =>
        provider switch
        {
            "google" => Root + "/v1beta",
            "openai" => Root + "/v1",
            _ => Root,
        };

    /// <summary>While set, no batch ends: polls say it is still running (a provider taking its time, or a run killed meanwhile).</summary>
    public bool Hold
    {
        get => Volatile.Read(ref _hold);
        set => Volatile.Write(ref _hold, value);
    }

    private bool _hold;

    /// <summary>Requests in a batch this picks are answered with an error instead of <c>answer</c>'s reply.</summary>
    public Func<JsonObject, bool> Fail { get; set; } = _ => false;

    /// <summary>Batches created, by provider.</summary>
    public Dictionary<string, int> Created { get; } = [];

    /// <summary>Requests sent inside batches, by provider.</summary>
    public Dictionary<string, int> Batched { get; } = [];

    /// <summary>Requests to the synchronous endpoints, by provider.</summary>
    public Dictionary<string, int> Direct { get; } = [];

    public int CreatedBy(string provider)
    {
        lock (_gate)
            return Created.GetValueOrDefault(provider);
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
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
        try
        {
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var text = await reader.ReadToEndAsync().ConfigureAwait(false);
            var (status, body, type) = Route(
                context.Request.HttpMethod,
                context.Request.Url!.AbsolutePath,
                context.Request.ContentType,
                text
            );
            var bytes = Encoding.UTF8.GetBytes(body);
            context.Response.StatusCode = status;
            context.Response.ContentType = type;
            context.Response.ContentLength64 = bytes.Length;
            await context.Response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
            context.Response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or IOException) { }
        catch (KeyNotFoundException)
        {
            // A batch or file this fake never made (a client of an earlier fake on the same port): not found.
            try
            {
                context.Response.StatusCode = 404;
                context.Response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { }
        }
    }

    private (int, string, string) Route(string method, string path, string? contentType, string text)
    {
        lock (_gate)
        {
            if (method == "POST" && path == "/v1/chat/completions")
                return Sync("openai", text);
            if (method == "POST" && path == "/v1/messages")
                return Sync("anthropic", text);
            if (
                method == "POST"
                && path.StartsWith("/v1beta/models/", StringComparison.Ordinal)
                && path.EndsWith(":generateContent", StringComparison.Ordinal)
            )
                return Sync("google", text);
            // OpenAI
            if (method == "POST" && path == "/v1/files")
            {
                var id = $"file-{++_next}";
                _files[id] = FilePart(contentType, text);
                return (
                    200,
                    new JsonObject
                    {
                        ["id"] = id,
                        ["object"] = "file",
                        ["purpose"] = "batch",
                    }.ToJsonString(),
                    "application/json"
                );
            }
            if (method == "POST" && path == "/v1/batches")
            {
                var request = JsonNode.Parse(text)!;
                if (
                    request["endpoint"]?.GetValue<string>() != "/v1/chat/completions"
                    || request["completion_window"]?.GetValue<string>() != "24h"
                )
                    return (
                        400,
                        """{"error":{"message":"endpoint must be /v1/chat/completions and completion_window 24h"}}""",
                        "application/json"
                    );
                var lines = _files[request["input_file_id"]!.GetValue<string>()]
                    .Split('\n', StringSplitOptions.RemoveEmptyEntries)
                    .Select(l => JsonNode.Parse(l)!)
                    .Select(l => (l["custom_id"]!.GetValue<string>(), l["body"]!.AsObject()))
                    .ToList();
                var id = New("openai", $"batch_{++_next}", lines);
                return (200, OpenAIBatch(id).ToJsonString(), "application/json");
            }
            if (method == "GET" && path.StartsWith("/v1/batches/", StringComparison.Ordinal))
            {
                var id = path["/v1/batches/".Length..];
                Poll(id);
                return (200, OpenAIBatch(id).ToJsonString(), "application/json");
            }
            if (
                method == "GET"
                && path.StartsWith("/v1/files/", StringComparison.Ordinal)
                && path.EndsWith("/content", StringComparison.Ordinal)
            )
                return (200, _files[path["/v1/files/".Length..^"/content".Length]], "application/octet-stream");
            // Anthropic
            if (method == "POST" && path == "/v1/messages/batches")
            {
                var items = JsonNode.Parse(text)!["requests"]!
                    .AsArray()
                    .Select(r => (r!["custom_id"]!.GetValue<string>(), r["params"]!.AsObject()))
                    .ToList();
                var id = New("anthropic", $"msgbatch_{++_next}", items);
                return (200, AnthropicBatch(id).ToJsonString(), "application/json");
            }
            if (
                method == "GET"
                && path.StartsWith("/v1/messages/batches/", StringComparison.Ordinal)
                && path.EndsWith("/results", StringComparison.Ordinal)
            )
                return (200, AnthropicResults(path["/v1/messages/batches/".Length..^"/results".Length]), "application/binary");
            if (method == "GET" && path.StartsWith("/v1/messages/batches/", StringComparison.Ordinal))
            {
                var id = path["/v1/messages/batches/".Length..];
                Poll(id);
                return (200, AnthropicBatch(id).ToJsonString(), "application/json");
            }
            // Gemini
            if (
                method == "POST"
                && path.StartsWith("/v1beta/models/", StringComparison.Ordinal)
                && path.EndsWith(":batchGenerateContent", StringComparison.Ordinal)
            )
            {
                var items = JsonNode.Parse(text)!["batch"]!["input_config"]!["requests"]!["requests"]!
                    .AsArray()
                    .Select(r => (r!["metadata"]!["key"]!.GetValue<string>(), r["request"]!.AsObject()))
                    .ToList();
                var id = New("google", $"batches/{++_next}", items);
                return (200, GeminiOperation(id).ToJsonString(), "application/json");
            }
            if (method == "GET" && path.StartsWith("/v1beta/batches/", StringComparison.Ordinal))
            {
                var id = path["/v1beta/".Length..];
                Poll(id);
                return (200, GeminiOperation(id).ToJsonString(), "application/json");
            }
            return (404, """{"error":{"message":"no such route in the fake"}}""", "application/json");
        }
    }

    private (int, string, string) Sync(string provider, string text)
    {
        Direct[provider] = Direct.GetValueOrDefault(provider) + 1;
        return (200, _answer(provider, JsonNode.Parse(text)!.AsObject()).ToJsonString(), "application/json");
    }

    private string New(string provider, string id, List<(string, JsonObject)> items)
    {
        Created[provider] = Created.GetValueOrDefault(provider) + 1;
        Batched[provider] = Batched.GetValueOrDefault(provider) + items.Count;
        _batches[id] = new Batch(provider, items);
        return id;
    }

    private void Poll(string id)
    {
        var batch = _batches[id];
        if (Hold || ++batch.Polls < 2)
            return;
        batch.Ended = true;
        if (batch.Provider == "openai" && batch.OutputFile is null)
        {
            var output = new StringBuilder();
            var errors = new StringBuilder();
            foreach (var (custom, body) in batch.Items)
                if (Fail(body))
                    errors
                        .Append(
                            new JsonObject
                            {
                                ["id"] = $"batch_req_{++_next}",
                                ["custom_id"] = custom,
                                ["response"] = new JsonObject
                                {
                                    ["status_code"] = 400,
                                    ["request_id"] = "req",
                                    ["body"] = new JsonObject
                                    {
                                        ["error"] = new JsonObject
                                        {
                                            ["message"] = "the fake refused this request",
                                            ["type"] = "invalid_request_error",
                                        },
                                    },
                                },
                                ["error"] = null,
                            }.ToJsonString()
                        )
                        .Append('\n');
                else
                    output
                        .Append(
                            new JsonObject
                            {
                                ["id"] = $"batch_req_{++_next}",
                                ["custom_id"] = custom,
                                ["response"] = new JsonObject
                                {
                                    ["status_code"] = 200,
                                    ["request_id"] = "req",
                                    ["body"] = _answer("openai", body),
                                },
                                ["error"] = null,
                            }.ToJsonString()
                        )
                        .Append('\n');
            _files[batch.OutputFile = $"file-{++_next}"] = output.ToString();
            if (errors.Length > 0)
                _files[batch.ErrorFile = $"file-{++_next}"] = errors.ToString();
        }
    }

    private JsonObject OpenAIBatch(string id)
    {
        var batch = _batches[id];
        return new JsonObject
        {
            ["id"] = id,
            ["object"] = "batch",
            ["endpoint"] = "/v1/chat/completions",
            ["status"] = batch.Ended ? "completed" : "in_progress",
            ["output_file_id"] = batch.OutputFile,
            ["error_file_id"] = batch.ErrorFile,
            ["request_counts"] = new JsonObject { ["total"] = batch.Items.Count },
        };
    }

    private JsonObject AnthropicBatch(string id)
    {
        var batch = _batches[id];
        return new JsonObject
        {
            ["id"] = id,
            ["type"] = "message_batch",
            ["processing_status"] = batch.Ended ? "ended" : "in_progress",
            ["results_url"] = batch.Ended ? $"{Root}/v1/messages/batches/{id}/results" : null,
        };
    }

    private string AnthropicResults(string id)
    {
        var lines = new StringBuilder();
        foreach (var (custom, body) in _batches[id].Items)
            lines
                .Append(
                    new JsonObject
                    {
                        ["custom_id"] = custom,
                        ["result"] = Fail(body)
                            ? new JsonObject
                            {
                                ["type"] = "errored",
                                ["error"] = new JsonObject
                                {
                                    ["type"] = "error",
                                    ["error"] = new JsonObject
                                    {
                                        ["type"] = "invalid_request_error",
                                        ["message"] = "the fake refused this request",
                                    },
                                },
                            }
                            : new JsonObject { ["type"] = "succeeded", ["message"] = _answer("anthropic", body) },
                    }.ToJsonString()
                )
                .Append('\n');
        return lines.ToString();
    }

    private JsonObject GeminiOperation(string id)
    {
        var batch = _batches[id];
        var operation = new JsonObject
        {
            ["name"] = id,
            ["metadata"] = new JsonObject
            {
                ["@type"] = "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
                ["state"] = batch.Ended ? "BATCH_STATE_SUCCEEDED" : "BATCH_STATE_RUNNING",
            },
            ["done"] = batch.Ended,
        };
        if (batch.Ended)
            operation["response"] = new JsonObject
            {
                ["@type"] = "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput",
                ["inlinedResponses"] = new JsonObject
                {
                    ["inlinedResponses"] = new JsonArray([
                        .. batch.Items.Select(i =>
                            (JsonNode)(
                                Fail(i.Body)
                                    ? new JsonObject
                                    {
                                        ["error"] = new JsonObject { ["code"] = 400, ["message"] = "the fake refused this request" },
                                        ["metadata"] = new JsonObject { ["key"] = i.Id },
                                    }
                                    : new JsonObject
                                    {
                                        ["response"] = _answer("google", i.Body),
                                        ["metadata"] = new JsonObject { ["key"] = i.Id },
                                    }
                            )
                        ),
                    ]),
                },
            };
        return operation;
    }

    /// <summary>The <c>file</c> part of a multipart/form-data body.</summary>
    private static string FilePart(string? contentType, string text)
    {
        var boundary = "--" + contentType!.Split("boundary=")[1].Trim('"');
        foreach (var part in text.Split(boundary))
        {
            var split = part.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (
                split < 0
                || !part[..split].Contains("name=file", StringComparison.Ordinal)
                    && !part[..split].Contains("name=\"file\"", StringComparison.Ordinal)
            )
                continue;
            return part[(split + 4)..].TrimEnd('\r', '\n');
        }
        throw new InvalidOperationException("the upload has no file part");
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop.ConfigureAwait(false);
    }
}

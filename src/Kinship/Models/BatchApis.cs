using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kinship.Models;

/// <summary>What the three batch APIs share: JSON calls that name the provider and batch when they fail, and JSON Lines results.</summary>
internal abstract class BatchApiBase(HttpClient http, string provider) : IBatchApi
{
    public string Provider => provider;

    protected HttpClient Http => http;

    public abstract Task<string> CreateAsync(IReadOnlyList<BatchItem> items, CancellationToken cancellationToken);

    public abstract Task<BatchResults?> CheckAsync(string batchId, CancellationToken cancellationToken);

    public abstract BatchAnswer Error(int status, string message);

    /// <summary>Adds the provider's key (and any fixed headers) to a call.</summary>
    protected abstract void Authorize(HttpRequestMessage request);

    protected async Task<string> SendAsync(
        HttpMethod method,
        Uri url,
        HttpContent? content,
        string what,
        CancellationToken cancellationToken
    )
    {
        using var request = new HttpRequestMessage(method, url) { Content = content };
        Authorize(request);
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException(
                $"{provider} answered HTTP {(int)response.StatusCode} to {what} ({url.AbsolutePath}): {Shorten(text)}",
                null,
                response.StatusCode
            );
        return text;
    }

    protected async Task<JsonObject> JsonAsync(HttpMethod method, Uri url, JsonNode? body, string what, CancellationToken cancellationToken)
    {
        var content = body is null ? null : new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        var text = await SendAsync(method, url, content, what, cancellationToken).ConfigureAwait(false);
        try
        {
            return JsonNode.Parse(text) as JsonObject ?? throw new JsonException("not an object");
        }
        catch (JsonException e)
        {
            throw new MalformedResponseException($"{provider} answered {what} with a body that is not a JSON object: {Shorten(text)}", e);
        }
    }

    /// <summary>Each JSON object of a JSON Lines text; blank lines are skipped.</summary>
    protected static IEnumerable<JsonObject> Lines(string text) =>
        text.Split('\n').Where(l => !string.IsNullOrWhiteSpace(l)).Select(l => JsonNode.Parse(l) as JsonObject).OfType<JsonObject>();

    protected static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";

    protected static Uri Join(Uri root, string path) => new(root.ToString().TrimEnd('/') + path);

    protected static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}

/// <summary>
/// OpenAI's Batch API: the requests as a JSON Lines file uploaded to <c>/files</c> (purpose <c>batch</c>), a batch made
/// of it at <c>/batches</c> for <c>/v1/chat/completions</c> within 24 h, polled until it ends; its output and error files
/// hold each request's answer by <c>custom_id</c>.
/// </summary>
internal sealed class OpenAIBatchApi(HttpClient http, Uri endpoint, string? key) : BatchApiBase(http, "openai")
{
    protected override void Authorize(HttpRequestMessage request)
    {
        if (!string.IsNullOrEmpty(key))
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
    }

    public override async Task<string> CreateAsync(IReadOnlyList<BatchItem> items, CancellationToken cancellationToken)
    {
        var lines = new StringBuilder();
        foreach (var item in items)
        {
            var body = (JsonObject)item.Body.DeepClone();
            body.Remove("stream");
            lines
                .Append(
                    new JsonObject
                    {
                        ["custom_id"] = item.Id,
                        ["method"] = "POST",
                        ["url"] = "/v1/chat/completions",
                        ["body"] = body,
                    }.ToJsonString()
                )
                .Append('\n');
        }
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes(lines.ToString()));
        file.Headers.ContentType = new MediaTypeHeaderValue("application/jsonl");
        var form = new MultipartFormDataContent { { new StringContent("batch"), "purpose" }, { file, "file", "kinship-batch.jsonl" } };
        var uploaded = JsonNode.Parse(
            await SendAsync(HttpMethod.Post, Join(endpoint, "/files"), form, "the batch file upload", cancellationToken)
                .ConfigureAwait(false)
        );
        var fileId = Text(uploaded?["id"])
            ?? throw new MalformedResponseException("openai answered the batch file upload without a file id");
        var batch = await JsonAsync(
                HttpMethod.Post,
                Join(endpoint, "/batches"),
                new JsonObject
                {
                    ["input_file_id"] = fileId,
                    ["endpoint"] = "/v1/chat/completions",
                    ["completion_window"] = "24h",
                },
                "the batch creation",
                cancellationToken
            )
            .ConfigureAwait(false);
        return Text(batch["id"]) ?? throw new MalformedResponseException("openai answered the batch creation without a batch id");
    }

    public override async Task<BatchResults?> CheckAsync(string batchId, CancellationToken cancellationToken)
    {
        var batch = await JsonAsync(
                HttpMethod.Get,
                Join(endpoint, $"/batches/{Uri.EscapeDataString(batchId)}"),
                null,
                "a batch poll",
                cancellationToken
            )
            .ConfigureAwait(false);
        var status = Text(batch["status"]);
        if (status is not ("completed" or "failed" or "expired" or "cancelled"))
            return null;
        var answers = new Dictionary<string, BatchAnswer>(StringComparer.Ordinal);
        foreach (var field in new[] { "output_file_id", "error_file_id" })
        {
            if (Text(batch[field]) is not { Length: > 0 } fileId)
                continue;
            var text = await SendAsync(
                    HttpMethod.Get,
                    Join(endpoint, $"/files/{Uri.EscapeDataString(fileId)}/content"),
                    null,
                    "the batch results",
                    cancellationToken
                )
                .ConfigureAwait(false);
            foreach (var line in Lines(text))
            {
                if (Text(line["custom_id"]) is not { } id)
                    continue;
                answers[id] =
                    line["response"] is JsonObject response && response["body"] is JsonNode body
                        ? new BatchAnswer(response["status_code"]?.GetValue<int>() ?? 200, body.ToJsonString())
                        : Error(500, $"batch {batchId}: {line["error"]?["message"] ?? line["error"]?.ToJsonString() ?? "no response"}");
            }
        }
        var errors = batch["errors"]?["data"] is JsonArray data
            ? string.Join("; ", data.Select(e => $"{Text(e?["code"])}: {Text(e?["message"])}"))
            : "";
        return new BatchResults(answers, $"the batch ended {status}{(errors.Length > 0 ? $" ({errors})" : "")}");
    }

    public override BatchAnswer Error(int status, string message) =>
        new(
            status,
            new JsonObject
            {
                ["error"] = new JsonObject
                {
                    ["message"] = message,
                    ["type"] = "batch_error",
                    ["code"] = "batch_error",
                },
            }.ToJsonString()
        );
}

/// <summary>
/// Anthropic's Message Batches API: the requests as <c>params</c> under their <c>custom_id</c> posted to
/// <c>/v1/messages/batches</c>, polled until <c>processing_status</c> is <c>ended</c>; its <c>results_url</c> holds each
/// request's result (<c>succeeded</c>, <c>errored</c>, <c>canceled</c> or <c>expired</c>) as JSON Lines.
/// </summary>
internal sealed class AnthropicBatchApi(HttpClient http, Uri endpoint, string? key) : BatchApiBase(http, "anthropic")
{
    protected override void Authorize(HttpRequestMessage request)
    {
        if (!string.IsNullOrEmpty(key))
            request.Headers.Add("x-api-key", key);
        request.Headers.Add("anthropic-version", "2023-06-01");
    }

    public override async Task<string> CreateAsync(IReadOnlyList<BatchItem> items, CancellationToken cancellationToken)
    {
        var requests = new JsonArray();
        foreach (var item in items)
        {
            var body = (JsonObject)item.Body.DeepClone();
            body.Remove("stream");
            requests.Add(new JsonObject { ["custom_id"] = item.Id, ["params"] = body });
        }
        var batch = await JsonAsync(
                HttpMethod.Post,
                Join(endpoint, "/v1/messages/batches"),
                new JsonObject { ["requests"] = requests },
                "the batch creation",
                cancellationToken
            )
            .ConfigureAwait(false);
        return Text(batch["id"]) ?? throw new MalformedResponseException("anthropic answered the batch creation without a batch id");
    }

    public override async Task<BatchResults?> CheckAsync(string batchId, CancellationToken cancellationToken)
    {
        var batch = await JsonAsync(
                HttpMethod.Get,
                Join(endpoint, $"/v1/messages/batches/{Uri.EscapeDataString(batchId)}"),
                null,
                "a batch poll",
                cancellationToken
            )
            .ConfigureAwait(false);
        if (Text(batch["processing_status"]) != "ended")
            return null;
        var answers = new Dictionary<string, BatchAnswer>(StringComparer.Ordinal);
        if (Text(batch["results_url"]) is { Length: > 0 } url)
        {
            var text = await SendAsync(HttpMethod.Get, new Uri(url), null, "the batch results", cancellationToken).ConfigureAwait(false);
            foreach (var line in Lines(text))
            {
                if (Text(line["custom_id"]) is not { } id || line["result"] is not JsonObject result)
                    continue;
                answers[id] = Text(result["type"]) switch
                {
                    "succeeded" when result["message"] is JsonObject message => new BatchAnswer(200, message.ToJsonString()),
                    "errored" when result["error"] is JsonObject error => new BatchAnswer(
                        Status(Text(error["error"]?["type"])),
                        error.ToJsonString()
                    ),
                    var type => Error(500, $"batch {batchId}: the request was {type ?? "not answered"}"),
                };
            }
        }
        return new BatchResults(answers, "the batch ended without it");
    }

    /// <summary>The status Anthropic's synchronous endpoint gives an error of this type.</summary>
    private static int Status(string? type) =>
        type switch
        {
            "invalid_request_error" => 400,
            "authentication_error" => 401,
            "permission_error" => 403,
            "not_found_error" => 404,
            "request_too_large" => 413,
            "rate_limit_error" => 429,
            "overloaded_error" => 529,
            _ => 500,
        };

    public override BatchAnswer Error(int status, string message) =>
        new(
            status,
            new JsonObject
            {
                ["type"] = "error",
                ["error"] = new JsonObject { ["type"] = "api_error", ["message"] = message },
            }.ToJsonString()
        );
}

/// <summary>
/// Gemini's batch mode: the requests inlined, each with its key in <c>metadata</c>, posted to
/// <c>models/{model}:batchGenerateContent</c>; the long-running operation it returns (<c>batches/…</c>) is polled until
/// <c>done</c>, and its response's inlined responses carry each request's answer or error in the order sent.
/// </summary>
internal sealed class GeminiBatchApi(HttpClient http, Uri endpoint, string? key, string model) : BatchApiBase(http, "google")
{
    protected override void Authorize(HttpRequestMessage request)
    {
        if (!string.IsNullOrEmpty(key))
            request.Headers.Add("x-goog-api-key", key);
    }

    public override async Task<string> CreateAsync(IReadOnlyList<BatchItem> items, CancellationToken cancellationToken)
    {
        var requests = new JsonArray();
        foreach (var item in items)
            requests.Add(
                new JsonObject
                {
                    ["request"] = item.Body.DeepClone(),
                    ["metadata"] = new JsonObject { ["key"] = item.Id },
                }
            );
        var operation = await JsonAsync(
                HttpMethod.Post,
                Join(endpoint, $"/models/{Uri.EscapeDataString(model)}:batchGenerateContent"),
                new JsonObject
                {
                    ["batch"] = new JsonObject
                    {
                        ["display_name"] = $"kinship-{items.Count}",
                        ["input_config"] = new JsonObject { ["requests"] = new JsonObject { ["requests"] = requests } },
                    },
                },
                "the batch creation",
                cancellationToken
            )
            .ConfigureAwait(false);
        return Text(operation["name"]) ?? throw new MalformedResponseException("google answered the batch creation without a batch name");
    }

    public override async Task<BatchResults?> CheckAsync(string batchId, CancellationToken cancellationToken)
    {
        // The name is batches/ID: its slash is part of the path.
        var operation = await JsonAsync(HttpMethod.Get, Join(endpoint, "/" + batchId), null, "a batch poll", cancellationToken)
            .ConfigureAwait(false);
        if (operation["done"]?.GetValue<bool>() != true)
            return null;
        var answers = new Dictionary<string, BatchAnswer>(StringComparer.Ordinal);
        var output = operation["response"] ?? operation["metadata"]?["output"];
        if (output?["inlinedResponses"]?["inlinedResponses"] is JsonArray inlined)
            foreach (var entry in inlined.OfType<JsonObject>())
            {
                if (Text(entry["metadata"]?["key"]) is not { } id)
                    continue;
                answers[id] = entry["response"] is JsonObject response
                    ? new BatchAnswer(200, response.ToJsonString())
                    : new BatchAnswer(
                        entry["error"]?["code"] is JsonValue code && code.TryGetValue<int>(out var c) && c >= 400 ? c : 500,
                        new JsonObject { ["error"] = entry["error"]?.DeepClone() }.ToJsonString()
                    );
            }
        var state = Text(operation["metadata"]?["state"]) ?? "";
        var error = Text(operation["error"]?["message"]);
        return new BatchResults(answers, $"the batch ended {state}{(error is null ? "" : $" ({error})")}".TrimEnd());
    }

    public override BatchAnswer Error(int status, string message) =>
        new(
            status,
            new JsonObject
            {
                ["error"] = new JsonObject
                {
                    ["code"] = status,
                    ["message"] = message,
                    ["status"] = "INTERNAL",
                },
            }.ToJsonString()
        );
}

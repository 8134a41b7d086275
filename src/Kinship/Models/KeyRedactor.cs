using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;

namespace Kinship.Models;

/// <summary>
/// Every API key Kinship resolved for the run's providers, and the one rule that keeps them out of everything a run
/// writes: each occurrence of a key (as is, URL-encoded, or JSON-escaped) becomes <see cref="Mask"/> in a provider's
/// response body before the SDK reads it (<see cref="RedactingHandler"/>), and again in what the client returns or
/// throws (<see cref="RedactingChatClient"/>), so no error message, stored error, cached response or transcript holds
/// it. Values shorter than <see cref="MinLength"/> are not treated as secrets (masking them would mangle ordinary text);
/// a partial key, such as the last four characters a provider shows, is left as it is.
/// </summary>
internal sealed class KeyRedactor
{
    public const string Mask = "[redacted]";

    public const int MinLength = 8;

    private readonly Lock _lock = new();
    private ImmutableArray<string> _forms = [];

    /// <summary>Forms of every key, longest first so that a longer form is masked whole before a shorter one inside it.</summary>
    public ImmutableArray<string> Forms => _forms;

    /// <summary>Remembers <paramref name="key"/> (and the forms it takes in URLs and JSON); nothing for a missing or short key.</summary>
    public void Add(string? key)
    {
        if (key is null || key.Length < MinLength)
            return;
        var escaped = Uri.EscapeDataString(key);
        string[] forms =
        [
            key,
            escaped,
            Regex.Replace(escaped, "%[0-9A-F]{2}", m => m.Value.ToLowerInvariant(), RegexOptions.None, TimeSpan.FromSeconds(1)),
            JsonEncodedText.Encode(key).ToString(),
            JsonEncodedText.Encode(key, JavaScriptEncoder.UnsafeRelaxedJsonEscaping).ToString(),
        ];
        lock (_lock)
            _forms = [.. _forms.Concat(forms).Distinct(StringComparer.Ordinal).OrderByDescending(f => f.Length)];
    }

    public bool IsEmpty => _forms.IsEmpty;

    public bool Leaks(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return false;
        foreach (var form in _forms)
            if (text.Contains(form, StringComparison.Ordinal))
                return true;
        return false;
    }

    /// <summary><paramref name="text"/> with every known key masked.</summary>
    [return: NotNullIfNotNull(nameof(text))]
    public string? Redact(string? text)
    {
        if (!Leaks(text))
            return text;
        var sb = new StringBuilder(text);
        foreach (var form in _forms)
            sb.Replace(form, Mask);
        return sb.ToString();
    }

    /// <summary>Whether <paramref name="e"/> or any exception inside it mentions a key.</summary>
    public bool Leaks(Exception e) =>
        Leaks(e.Message) || (e is AggregateException a ? a.InnerExceptions.Any(Leaks) : e.InnerException is { } inner && Leaks(inner));

    /// <summary>
    /// An exception that says what <paramref name="e"/> said, keys masked, without the inner exceptions or response
    /// objects that hold the raw text; an <see cref="HttpRequestException"/> with the status code when there was one.
    /// </summary>
    public Exception Redact(Exception e)
    {
        var status = e switch
        {
            HttpRequestException { StatusCode: { } code } => code,
            System.ClientModel.ClientResultException { Status: > 0 } c => (System.Net.HttpStatusCode)c.Status,
            _ => (System.Net.HttpStatusCode?)null,
        };
        var message = Redact(e is HttpRequestException ? e.Message : $"{e.GetType().Name}: {e.Message}");
        return new HttpRequestException(message, null, status);
    }

    /// <summary><paramref name="response"/> as is when it holds no key, else the same response with every key masked.</summary>
    public ChatResponse Redact(ChatResponse response)
    {
        if (IsEmpty)
            return response;
        var json = JsonSerializer.Serialize(response, AIJsonUtilities.DefaultOptions);
        return Leaks(json) ? JsonSerializer.Deserialize<ChatResponse>(Redact(json), AIJsonUtilities.DefaultOptions)! : response;
    }

    public ChatResponseUpdate Redact(ChatResponseUpdate update)
    {
        if (IsEmpty)
            return update;
        var json = JsonSerializer.Serialize(update, AIJsonUtilities.DefaultOptions);
        return Leaks(json) ? JsonSerializer.Deserialize<ChatResponseUpdate>(Redact(json), AIJsonUtilities.DefaultOptions)! : update;
    }
}

/// <summary>
/// Masks known keys in a provider's response body before the SDK reads it, so an error the SDK builds from the body
/// (<c>Incorrect API key provided: sk-…</c>) never holds one. Sits in front of the shared pipeline, so it sees the
/// response that is finally handed back after retries. Event streams pass through; <see cref="RedactingChatClient"/>
/// masks their updates.
/// </summary>
internal sealed class RedactingHandler(KeyRedactor redactor) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (
            redactor.IsEmpty
            || response.Content is not { } content
            || content.Headers.ContentType?.MediaType?.Contains("event-stream", StringComparison.OrdinalIgnoreCase) == true
        )
            return response;
        await content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
        var bytes = await content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        var text = Encoding.UTF8.GetString(bytes);
        if (!redactor.Leaks(text))
            return response;
        var replaced = new ByteArrayContent(Encoding.UTF8.GetBytes(redactor.Redact(text)));
        foreach (var header in content.Headers.Where(h => !h.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)))
            replaced.Headers.TryAddWithoutValidation(header.Key, header.Value);
        if (content.Headers.ContentType is { } type)
            replaced.Headers.ContentType = new MediaTypeHeaderValue(type.MediaType ?? "application/json") { CharSet = "utf-8" };
        response.Content = replaced;
        content.Dispose();
        return response;
    }
}

/// <summary>Masks known keys in what a provider's client returns and in the errors it throws (see <see cref="KeyRedactor"/>).</summary>
internal sealed class RedactingChatClient(IChatClient inner, KeyRedactor redactor) : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        CancellationToken cancellationToken = default
    )
    {
        try
        {
            return redactor.Redact(await base.GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception e) when (redactor.Leaks(e))
        {
            throw redactor.Redact(e);
        }
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default
    )
    {
        var updates = base.GetStreamingResponseAsync(messages, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
        await using (updates.ConfigureAwait(false))
        {
            while (true)
            {
                try
                {
                    if (!await updates.MoveNextAsync().ConfigureAwait(false))
                        yield break;
                }
                catch (Exception e) when (redactor.Leaks(e))
                {
                    throw redactor.Redact(e);
                }
                yield return redactor.Redact(updates.Current);
            }
        }
    }
}

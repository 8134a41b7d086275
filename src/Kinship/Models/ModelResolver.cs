using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Immutable;
using Anthropic;
using Microsoft.Extensions.AI;
using OpenAI;

namespace Kinship.Models;

/// <summary>
/// Settings for reaching models. <b>Defaults</b>: each provider's own endpoint, keys from the environment,
/// the built-in <see cref="ModelConfig"/>, a shared HTTP pipeline with default <see cref="ResilienceOptions"/>,
/// no response cache, no cost meter.
/// </summary>
internal sealed record ModelOptions
{
    /// <summary>An endpoint to use instead of the provider's default (any OpenAI-compatible server for <c>openai/</c>).</summary>
    public Uri? BaseUrl { get; init; }

    /// <summary>The critic's family name (for "<c>{Family} Agent 1</c>"); guessed from the model id when not given.</summary>
    public string? Family { get; init; }

    public Func<string, string?> Environment { get; init; } = System.Environment.GetEnvironmentVariable;

    public ModelConfig Config { get; init; } = ModelConfig.BuiltIn;

    /// <summary>The HTTP pipeline every provider shares; one for the process when not given.</summary>
    public ModelHttp? Http { get; init; }

    public ResponseCache? Cache { get; init; }

    public CostMeter? Cost { get; init; }

    /// <summary>
    /// Learns every key resolved through these options (copies made with <c>with</c> share it) and masks them in whatever
    /// the providers send back. <b>Default</b>: a new one per options value.
    /// </summary>
    public KeyRedactor Keys { get; init; } = new();

    /// <summary>How long each answer of a scripted agent takes (<c>--scripted-latency</c>). <b>Default</b>: none, they answer at once.</summary>
    public TimeSpan ScriptedLatency { get; init; }

    /// <summary>The clock scripted agents wait on.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Send every model call through its provider's batch API, priced at the batch rate (<c>--batch</c>). <b>Default</b>: none, each call on its own.</summary>
    public BatchOptions? Batch { get; init; }
}

/// <summary>How a provider speaks.</summary>
internal enum ProviderKind
{
    Scripted,
    OpenAI,
    Anthropic,
    Gemini,
}

/// <summary>A provider preset: its wire format, default endpoint, the variables its key may be in, and the family its models usually belong to.</summary>
internal sealed record ProviderPreset(string Name, ProviderKind Kind, Uri? Endpoint, ImmutableArray<string> KeyVariables, string? Family)
{
    /// <summary>Local servers (vLLM, Ollama) need no key.</summary>
    public bool NeedsKey => !KeyVariables.IsEmpty;
}

/// <summary>
/// Turns <c>provider/model</c> ids into models: the one place that knows providers. <c>scripted/NAME</c> (reference
/// agents, and <c>scripted/judge</c>, a rule-based stand-in judge), <c>openai/</c>, <c>anthropic/</c> (official SDK), <c>google/</c> (native Gemini client), and the
/// OpenAI-compatible presets <c>together/ deepseek/ moonshot/ zai/ openrouter/ vllm/ ollama/</c>; any endpoint via
/// <see cref="ModelOptions.BaseUrl"/>. Every client goes through the shared pipeline with the SDK's own retries off.
/// </summary>
/// <summary>
/// A model behind a provider, ready to call: <see cref="CreateClient"/> builds one episode's client from the episode's
/// seed (which keys the response cache) and its study cell (which names the provider's prompt cache, where it takes a name).
/// </summary>
internal sealed record ProviderModel(
    string Id,
    ProviderPreset Preset,
    string Name,
    ModelSettings Settings,
    Func<ulong, string?, IChatClient> Create
)
{
    /// <param name="seed">The episode's seed.</param>
    /// <param name="cell">The episode's scenario and condition; none outside a study cell.</param>
    public IChatClient CreateClient(ulong seed, string? cell = null) => Create(seed, cell);
}

internal static class ModelResolver
{
    private static Uri U(string url) => new(url);

    public static readonly ImmutableArray<ProviderPreset> Presets =
    [
        new("scripted", ProviderKind.Scripted, null, [], null),
        new("openai", ProviderKind.OpenAI, U("https://api.openai.com/v1"), ["OPENAI_API_KEY"], "ChatGPT"),
        new("anthropic", ProviderKind.Anthropic, U("https://api.anthropic.com"), ["ANTHROPIC_API_KEY"], "Claude"),
        new(
            "google",
            ProviderKind.Gemini,
            U("https://generativelanguage.googleapis.com/v1beta"),
            ["GEMINI_API_KEY", "GOOGLE_API_KEY"],
            "Gemini"
        ),
        new("together", ProviderKind.OpenAI, U("https://api.together.xyz/v1"), ["TOGETHER_API_KEY"], null),
        new("deepseek", ProviderKind.OpenAI, U("https://api.deepseek.com/v1"), ["DEEPSEEK_API_KEY"], "DeepSeek"),
        new("moonshot", ProviderKind.OpenAI, U("https://api.moonshot.ai/v1"), ["MOONSHOT_API_KEY"], "Kimi"),
        new("zai", ProviderKind.OpenAI, U("https://api.z.ai/api/paas/v4"), ["ZAI_API_KEY"], "GLM"),
        new("openrouter", ProviderKind.OpenAI, U("https://openrouter.ai/api/v1"), ["OPENROUTER_API_KEY"], null),
        new("vllm", ProviderKind.OpenAI, U("http://localhost:8000/v1"), [], null),
        new("ollama", ProviderKind.OpenAI, U("http://localhost:11434/v1"), [], null),
    ];

    public static readonly IReadOnlyList<string> Providers = [.. Presets.Select(p => p.Name)];

    private static readonly Lazy<ModelHttp> ProcessHttp = new(() => new ModelHttp(new ResilienceOptions()));

    /// <summary>Splits a model id into its provider preset and model name.</summary>
    /// <exception cref="ModelException">The id is not provider/model or names no known provider.</exception>
    public static (ProviderPreset Preset, string Name) Parse(string id)
    {
        var slash = id.IndexOf('/');
        if (slash <= 0 || slash == id.Length - 1)
            throw new ModelException($"model '{id}' is not of the form provider/model (providers: {string.Join(", ", Providers)})");
        var (provider, name) = (id[..slash], id[(slash + 1)..]);
        var preset = Presets.FirstOrDefault(p => p.Name == provider)
            ?? throw new ModelException($"unknown provider '{provider}' in model '{id}' (providers: {string.Join(", ", Providers)})");
        return (preset, name);
    }

    /// <summary>A model behind a provider (any preset but <c>scripted</c>), with its settings, key, HTTP pipeline, cache and cost meter.</summary>
    /// <exception cref="ModelException">The id cannot be used here, such as a missing API key.</exception>
    public static ProviderModel Resolve(string id, ModelOptions options)
    {
        var (preset, name) = Parse(id);
        var provider = preset.Name;
        if (preset.Kind == ProviderKind.Scripted)
            throw new ModelException($"'{id}' is a scripted agent, not a model behind a provider");
        var providerSettings = options.Config.Provider(provider);
        var settings = options.Config.Settings(id);
        if (options.Batch is not null)
        {
            if (!BatchOptions.Providers.Contains(provider))
                throw new ModelException(
                    $"--batch: {id} cannot be run in batches: Kinship speaks the batch APIs of {string.Join(", ", BatchOptions.Providers.Select(p => p + "/"))} models only"
                );
            if (providerSettings.BatchShare is { } share)
                settings = settings with { Price = settings.Price?.Scaled(share) };
        }
        var endpoint = options.BaseUrl ?? providerSettings.BaseUrl ?? preset.Endpoint!;
        var key = Key(preset, providerSettings, options);
        options.Keys.Add(key);
        var http = options.Http ?? ProcessHttp.Value;
        // The built-in limits are for the provider's own service; another endpoint (--base-url, or a base_url in the
        // user's config) is held only to the limits the user's config sets.
        var limits = providerSettings;
        if (preset.Endpoint is null || !SameEndpoint(endpoint, preset.Endpoint))
        {
            var own = options.Config.CustomEndpointLimits(provider);
            limits = providerSettings with
            {
                MaxConcurrency = own.MaxConcurrency,
                RequestsPerMinute = own.RequestsPerMinute,
                TokensPerMinute = own.TokensPerMinute,
            };
        }
        http.Register(endpoint, limits);

        // In batch mode the SDK's request is taken where it would leave for the provider and answered from a batch.
        DelegatingHandler[] capture = options.Batch is { } batch
            ?
            [
                new BatchCaptureHandler(
                    new BatchQueue(
                        preset.Kind switch
                        {
                            ProviderKind.OpenAI => new OpenAIBatchApi(http.CreateClient(new RedactingHandler(options.Keys)), endpoint, key),
                            ProviderKind.Anthropic => new AnthropicBatchApi(
                                http.CreateClient(new RedactingHandler(options.Keys)),
                                endpoint,
                                key
                            ),
                            _ => new GeminiBatchApi(http.CreateClient(new RedactingHandler(options.Keys)), endpoint, key, name),
                        },
                        name,
                        batch
                    )
                ),
            ]
            : [];
        var inner = preset.Kind switch
        {
            ProviderKind.OpenAI => OpenAI(name, endpoint, key, settings, http, options.Keys, capture),
            ProviderKind.Anthropic => Anthropic(name, endpoint, key, settings, http, options.Keys, capture),
            _ => new GeminiChatClient(http.CreateClient([new RedactingHandler(options.Keys), .. capture]), endpoint, key, name),
        };
        // Keys are masked below the cache, so neither the cache nor anything the episode records ever holds one.
        var shared = new SharedChatClient(new RedactingChatClient(inner, options.Keys));
        var scope = new CacheScope(provider, endpoint.ToString(), name);
        return new ProviderModel(id, preset, name, settings, (seed, cell) =>
        {
            var builder = new ChatClientBuilder(shared).ConfigureOptions(o => Apply(o, settings));
            // Every episode of a cell routes to one OpenAI cache. Only OpenAI's own API takes the field: other
            // OpenAI-compatible servers may refuse it, and cache by prefix alone.
            if (preset.Name == "openai" && cell is not null)
                builder.ConfigureOptions(o => PromptCache.KeyOpenAI(o, PromptCache.OpenAIKey(id, cell)));
            if (options.Cache is { } cache)
                builder.Use(c => new CachingChatClient(c, cache, scope with { Seed = seed }));
            if (options.Cost is { } meter)
                builder.Use(c => new CostMeterChatClient(c, meter, settings.Price));
            if (options.Batch is not null)
                builder.Use(c => new BatchSeatChatClient(c, seed));
            return builder.Build();
        });
    }

    private static bool SameEndpoint(Uri a, Uri b) =>
        string.Equals(a.ToString().TrimEnd('/'), b.ToString().TrimEnd('/'), StringComparison.OrdinalIgnoreCase);

    /// <summary>The key from the config file, else the first variable set; a missing key names the variable(s) to set.</summary>
    private static string? Key(ProviderPreset preset, ProviderSettings settings, ModelOptions options)
    {
        if (!string.IsNullOrEmpty(settings.ApiKey))
            return settings.ApiKey;
        var variables = settings.ApiKeyVariable is { } v ? [v] : preset.KeyVariables;
        foreach (var variable in variables)
            if (options.Environment(variable) is { Length: > 0 } key)
                return key;
        if (!preset.NeedsKey || options.BaseUrl is not null)
            return null;
        var names = variables.Length == 1 ? variables[0] + " is" : string.Join(" or ", variables) + " are";
        return preset.Name == "openai"
            ? throw new ModelException($"{names} not set: export it, or give --base-url for an OpenAI-compatible endpoint")
            : throw new ModelException($"{names} not set: export it to use {preset.Name}/ models");
    }

    /// <summary>Per-model settings fill whatever the caller left unset.</summary>
    private static void Apply(ChatOptions options, ModelSettings settings)
    {
        options.Temperature ??= settings.Temperature;
        options.MaxOutputTokens ??= settings.MaxOutputTokens;
        if (settings.ReasoningEffort is { } effort && options.Reasoning?.Effort is null)
            options.Reasoning = new ReasoningOptions { Effort = effort };
    }

    private static IChatClient OpenAI(
        string name,
        Uri endpoint,
        string? key,
        ModelSettings settings,
        ModelHttp http,
        KeyRedactor keys,
        DelegatingHandler[] capture
    )
    {
        DelegatingHandler[] front =
            settings.TokenField == ModelSettings.MaxTokens
                ?
                [
                    new RedactingHandler(keys),
                    new JsonBodyRewriteHandler(body =>
                    {
                        if (body.Remove("max_completion_tokens", out var max))
                            body["max_tokens"] = max;
                    }),
                    .. capture,
                ]
                : [new RedactingHandler(keys), .. capture];
        var clientOptions = new OpenAIClientOptions
        {
            Endpoint = endpoint,
            Transport = new HttpClientPipelineTransport(http.CreateClient(front)),
            RetryPolicy = new ClientRetryPolicy(0),
            NetworkTimeout = Timeout.InfiniteTimeSpan,
        };
        return new OpenAIToolReuse(
            new OpenAIClient(new ApiKeyCredential(string.IsNullOrEmpty(key) ? "unused" : key), clientOptions)
                .GetChatClient(name)
                .AsIChatClient()
        );
    }

    private static IChatClient Anthropic(
        string name,
        Uri endpoint,
        string? key,
        ModelSettings settings,
        ModelHttp http,
        KeyRedactor keys,
        DelegatingHandler[] capture
    )
    {
        var client = new AnthropicClient
        {
            ApiKey = string.IsNullOrEmpty(key) ? "unused" : key,
            BaseUrl = endpoint.ToString().TrimEnd('/'),
            HttpClient = http.CreateClient([new RedactingHandler(keys), new JsonBodyRewriteHandler(PromptCache.MarkAnthropic), .. capture]),
            MaxRetries = 0,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        return client.AsIChatClient(
            name,
            settings.MaxOutputTokens,
            settings.Thinking == "extended" ? AnthropicThinkingMode.Extended : AnthropicThinkingMode.Adaptive
        );
    }

    /// <summary>One provider client serves every episode; an episode's pipeline must not dispose it.</summary>
    private sealed class SharedChatClient(IChatClient inner) : DelegatingChatClient(inner)
    {
        protected override void Dispose(bool disposing) { }
    }
}

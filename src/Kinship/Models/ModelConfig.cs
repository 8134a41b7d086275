using System.Collections.Immutable;
using System.Globalization;
using Microsoft.Extensions.AI;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Kinship.Models;

/// <summary>
/// USD per million tokens. Prompt tokens read from the provider's cache cost <see cref="CachedInputPerMillion"/>, those
/// written to it <see cref="CacheWritePerMillion"/> (Anthropic: 1.25× input); either is the input price when not given.
/// </summary>
internal sealed record Price(decimal InputPerMillion, decimal OutputPerMillion)
{
    public decimal? CachedInputPerMillion { get; init; }

    public decimal? CacheWritePerMillion { get; init; }

    /// <summary>When these were the provider's list prices (yyyy-mm-dd), as the catalogue says.</summary>
    public string? Date { get; init; }

    /// <summary>
    /// What a call costs: <paramref name="inputTokens"/> counts every prompt token, of which <paramref name="cachedInputTokens"/>
    /// were read from the cache and <paramref name="cacheWriteTokens"/> written to it.
    /// </summary>
    public decimal Cost(long inputTokens, long outputTokens, long cachedInputTokens = 0, long cacheWriteTokens = 0) =>
        (
            Math.Max(0, inputTokens - cachedInputTokens - cacheWriteTokens) * InputPerMillion
            + cachedInputTokens * (CachedInputPerMillion ?? InputPerMillion)
            + cacheWriteTokens * (CacheWritePerMillion ?? InputPerMillion)
            + outputTokens * OutputPerMillion
        ) / 1_000_000m;

    /// <summary>These prices times <paramref name="share"/>: a batch API's bill, where every token costs that share of its list price.</summary>
    public Price Scaled(decimal share) =>
        new(InputPerMillion * share, OutputPerMillion * share)
        {
            CachedInputPerMillion = CachedInputPerMillion * share,
            CacheWritePerMillion = CacheWritePerMillion * share,
            Date = Date,
        };
}

/// <summary>
/// How one model is called. <b>Defaults</b>: temperature 1.0 (the study's), 8192 output tokens,
/// the provider's own reasoning effort, <c>max_completion_tokens</c>, adaptive thinking, no price.
/// </summary>
internal sealed record ModelSettings
{
    public float? Temperature { get; init; } = 1.0f;

    public int MaxOutputTokens { get; init; } = 8192;

    public ReasoningEffort? ReasoningEffort { get; init; }

    /// <summary><c>max_completion_tokens</c> (OpenAI) or <c>max_tokens</c> (servers that predate it).</summary>
    public string TokenField { get; init; } = MaxCompletionTokens;

    /// <summary>Anthropic: <c>adaptive</c> or <c>extended</c> thinking.</summary>
    public string Thinking { get; init; } = "adaptive";

    public Price? Price { get; init; }

    /// <summary>The study's name for this model (as its tables print it, e.g. "Gemini 3 Pro"), for <c>kinship report --compare-study</c>. <b>Default</b>: none.</summary>
    public string? StudyName { get; init; }

    public const string MaxCompletionTokens = "max_completion_tokens";
    public const string MaxTokens = "max_tokens";
}

/// <summary>
/// Where a provider lives and how hard it may be pushed. <b>Defaults</b>: the preset's endpoint and key variable,
/// 8 requests in flight, no per-minute limits.
/// </summary>
internal sealed record ProviderSettings
{
    public Uri? BaseUrl { get; init; }

    public string? ApiKeyVariable { get; init; }

    public string? ApiKey { get; init; }

    public int MaxConcurrency { get; init; } = 8;

    public int RequestsPerMinute { get; init; }

    public int TokensPerMinute { get; init; }

    /// <summary>The share of the list price a request sent through the provider's batch API is billed at (<c>--batch</c>); none when it has no batch price.</summary>
    public decimal? BatchShare { get; init; }

    /// <summary>When <see cref="BatchShare"/> was the provider's batch discount (yyyy-mm-dd), as the catalogue says.</summary>
    public string? BatchDate { get; init; }

    /// <summary>Requests in flight at most to an endpoint given by <c>--base-url</c> whose limits no config sets: as many as a run may have episodes in flight, found from there by adaptive concurrency.</summary>
    public const int CustomEndpointConcurrency = 1_000;

    /// <summary>The limits in words, for the line a run prints at its start.</summary>
    public string DescribeLimits() =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"up to {MaxConcurrency:N0} requests in flight (fewer while the provider pushes back), {(RequestsPerMinute > 0 ? $"{RequestsPerMinute:N0} requests/min" : "no request limit")}, {(TokensPerMinute > 0 ? $"{TokensPerMinute:N0} tokens/min" : "no token limit")}"
        );
}

/// <summary>
/// Per-model and per-provider settings: the built-in <c>kinship.models.yaml</c> shipped in the library, overridden
/// field by field by a user file. A model's settings come from its exact id, then <c>provider/*</c>, then the defaults.
/// </summary>
internal sealed class ModelConfig
{
    public const string FileName = "kinship.models.yaml";

    private readonly List<ConfigFile> _layers;

    private ModelConfig(List<ConfigFile> layers) => _layers = layers;

    private static readonly Lazy<ModelConfig> BuiltInConfig = new(() => new([ReadBuiltIn()]));

    public static ModelConfig BuiltIn => BuiltInConfig.Value;

    /// <summary>The built-in settings, overridden by the file at <paramref name="path"/> when given.</summary>
    public static ModelConfig Load(string? path)
    {
        if (path is null)
            return BuiltIn;
        if (!File.Exists(path))
            throw new ModelException($"model config '{path}' does not exist");
        string text;
        try
        {
            text = InputFile.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelException($"model config '{path}' cannot be read: {(e as InputFileException)?.Problem ?? e.Message}");
        }
        return new([.. BuiltIn._layers, Parse(text, path)]);
    }

    /// <summary>A config from YAML text, over the built-in one; for tests and tools.</summary>
    public static ModelConfig FromYaml(string yaml, string source = "<text>") => new([.. BuiltIn._layers, Parse(yaml, source)]);

    public ModelSettings Settings(string modelId)
    {
        var provider = modelId.Split('/', 2)[0];
        var settings = new ModelSettings();
        foreach (var layer in _layers)
            settings = layer.Defaults?.ApplyTo(settings, layer.Source, "defaults") ?? settings;
        foreach (var key in new[] { provider + "/*", modelId })
        foreach (var layer in _layers)
            if (layer.Models?.GetValueOrDefault(key) is { } entry)
                settings = entry.ApplyTo(settings, layer.Source, key);
        return settings;
    }

    /// <summary>
    /// The provider's limits for an endpoint given by <c>--base-url</c>: only what the user's own config files set, since
    /// the built-in limits describe the provider's own service (OpenAI's 500 requests/min say nothing of a local server).
    /// </summary>
    public ProviderSettings CustomEndpointLimits(string provider)
    {
        var settings = new ProviderSettings { MaxConcurrency = ProviderSettings.CustomEndpointConcurrency };
        foreach (var layer in _layers.Where(l => !BuiltIn._layers.Contains(l)))
            if (layer.Providers?.GetValueOrDefault(provider) is { } entry)
                settings = entry.ApplyTo(settings, layer.Source, provider);
        return settings;
    }

    /// <summary>
    /// What a run's calls to <paramref name="modelId"/> were billed at: its price, scaled by its provider's batch share
    /// when the run went through that provider's batch API (<paramref name="batchedProviders"/>); null without a price.
    /// </summary>
    public Price? BilledPrice(string modelId, IReadOnlySet<string> batchedProviders)
    {
        var price = Settings(modelId).Price;
        var provider = modelId.Split('/', 2)[0];
        return price is not null && batchedProviders.Contains(provider) && Provider(provider).BatchShare is { } share
            ? price.Scaled(share)
            : price;
    }

    public ProviderSettings Provider(string provider)
    {
        var settings = new ProviderSettings();
        foreach (var layer in _layers)
            if (layer.Providers?.GetValueOrDefault(provider) is { } entry)
                settings = entry.ApplyTo(settings, layer.Source, provider);
        return settings;
    }

    private static ConfigFile ReadBuiltIn()
    {
        using var stream = typeof(ModelConfig).Assembly.GetManifestResourceStream("Kinship.Models." + FileName)
            ?? throw new InvalidOperationException("the built-in model config is missing from the assembly");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd(), "built-in " + FileName);
    }

    private static readonly IDeserializer Yaml = new DeserializerBuilder()
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .Build();

    private static ConfigFile Parse(string yaml, string source)
    {
        var scanner = new Scanner(new StringReader(yaml));
        try
        {
            var file = Yaml.Deserialize<ConfigFile?>(new Parser(scanner)) ?? new ConfigFile();
            file.Source = source;
            // An entry with nothing under it (`openai/gpt-5.2:`) overrides nothing.
            file.Models = file.Models?.Where(e => e.Value is not null).ToDictionary();
            file.Providers = file.Providers?.Where(e => e.Value is not null).ToDictionary();
            // Resolve every entry once so a bad value fails when the file is read, not mid-run.
            file.Defaults?.ApplyTo(new ModelSettings(), source, "defaults");
            foreach (var (key, entry) in file.Models ?? [])
                entry.ApplyTo(new ModelSettings(), source, key);
            foreach (var (key, entry) in file.Providers ?? [])
                entry.ApplyTo(new ProviderSettings(), source, key);
            return file;
        }
        catch (YamlException e)
        {
            var inner = e.InnerException is { } i and not YamlException ? i.Message : e.Message;
            throw new ModelException($"{source}:{e.Start.Line}:{e.Start.Column}: {inner}");
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or InvalidCastException)
        {
            // YamlDotNet fails these ways, not with a YamlException, on some malformed input (an alias where a value
            // of another shape is expected is an InvalidCastException).
            var at = scanner.CurrentPosition;
            throw new ModelException($"{source}:{at.Line}:{at.Column}: not valid YAML: could not read past this point ({e.Message})");
        }
    }

    // YAML shapes: every field optional so that a layer can override just one.
    private sealed class ConfigFile
    {
        [YamlIgnore]
        public string Source { get; set; } = "";
        public ModelEntry? Defaults { get; set; }
        public Dictionary<string, ProviderEntry>? Providers { get; set; }
        public Dictionary<string, ModelEntry>? Models { get; set; }
    }

    private sealed class PriceEntry
    {
        public decimal? Input { get; set; }
        public decimal? Output { get; set; }
        public decimal? CachedInput { get; set; }
        public decimal? CacheWrite { get; set; }
        public string? Date { get; set; }
    }

    private sealed class BatchPriceEntry
    {
        public decimal? Share { get; set; }
        public string? Date { get; set; }
    }

    private sealed class ModelEntry
    {
        public float? Temperature { get; set; }
        public int? MaxOutputTokens { get; set; }
        public string? ReasoningEffort { get; set; }
        public string? TokenField { get; set; }
        public string? Thinking { get; set; }
        public PriceEntry? Price { get; set; }
        public string? StudyName { get; set; }

        public ModelSettings ApplyTo(ModelSettings s, string source, string key)
        {
            string Where(string field) => $"{source}: {key}.{field}";
            if (Temperature is < 0 or > 2)
                throw new ModelException($"{Where("temperature")} must be between 0 and 2");
            if (MaxOutputTokens is < 1)
                throw new ModelException($"{Where("max_output_tokens")} must be at least 1");
            if (TokenField is not (null or ModelSettings.MaxCompletionTokens or ModelSettings.MaxTokens))
                throw new ModelException($"{Where("token_field")} must be max_completion_tokens or max_tokens, not '{TokenField}'");
            if (Thinking is not (null or "adaptive" or "extended"))
                throw new ModelException($"{Where("thinking")} must be adaptive or extended, not '{Thinking}'");
            if (Price is { Input: null } or { Output: null } || Price is { Input: < 0 } or { Output: < 0 })
                throw new ModelException($"{Where("price")} needs input and output, USD per million tokens, not negative");
            if (Price is { CachedInput: < 0 } or { CacheWrite: < 0 })
                throw new ModelException($"{Where("price")}: cached_input and cache_write must not be negative");
            if (
                Price?.Date is { } date
                && !DateOnly.TryParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _)
            )
                throw new ModelException($"{Where("price.date")} must be a date as yyyy-mm-dd, not '{date}'");
            return s with
            {
                Temperature = Temperature ?? s.Temperature,
                MaxOutputTokens = MaxOutputTokens ?? s.MaxOutputTokens,
                ReasoningEffort = ReasoningEffort is null ? s.ReasoningEffort : Effort(ReasoningEffort, Where("reasoning_effort")),
                TokenField = TokenField ?? s.TokenField,
                Thinking = Thinking ?? s.Thinking,
                Price = Price is { Input: { } i, Output: { } o }
                    ? new Price(i, o)
                    {
                        CachedInputPerMillion = Price.CachedInput,
                        CacheWritePerMillion = Price.CacheWrite,
                        Date = Price.Date,
                    }
                    : s.Price,
                StudyName = string.IsNullOrWhiteSpace(StudyName) ? s.StudyName : StudyName.Trim(),
            };
        }

        private static ReasoningEffort Effort(string value, string where) =>
            value switch
            {
                "none" => Microsoft.Extensions.AI.ReasoningEffort.None,
                "low" => Microsoft.Extensions.AI.ReasoningEffort.Low,
                "medium" => Microsoft.Extensions.AI.ReasoningEffort.Medium,
                "high" => Microsoft.Extensions.AI.ReasoningEffort.High,
                "extra_high" => Microsoft.Extensions.AI.ReasoningEffort.ExtraHigh,
                _ => throw new ModelException($"{where} must be none, low, medium, high or extra_high, not '{value}'"),
            };
    }

    private sealed class ProviderEntry
    {
        public string? BaseUrl { get; set; }
        public string? ApiKeyEnv { get; set; }
        public string? ApiKey { get; set; }
        public int? MaxConcurrency { get; set; }
        public int? RequestsPerMinute { get; set; }
        public int? TokensPerMinute { get; set; }
        public BatchPriceEntry? Batch { get; set; }

        public ProviderSettings ApplyTo(ProviderSettings s, string source, string key)
        {
            string Where(string field) => $"{source}: providers.{key}.{field}";
            Uri? url = null;
            if (BaseUrl is not null && !(Uri.TryCreate(BaseUrl, UriKind.Absolute, out url) && url.Scheme is "http" or "https"))
                throw new ModelException($"{Where("base_url")} '{BaseUrl}' is not an http(s) address");
            if (MaxConcurrency is < 1)
                throw new ModelException($"{Where("max_concurrency")} must be at least 1");
            if (RequestsPerMinute is < 0 || TokensPerMinute is < 0)
                throw new ModelException($"{Where("requests_per_minute")} and tokens_per_minute must not be negative");
            if (Batch is { Share: null or <= 0 or > 1 })
                throw new ModelException(
                    $"{Where("batch.share")} must be the share of the list price a batch request costs, above 0 and at most 1"
                );
            if (
                Batch?.Date is { } date
                && !DateOnly.TryParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _)
            )
                throw new ModelException($"{Where("batch.date")} must be a date as yyyy-mm-dd, not '{date}'");
            return s with
            {
                BaseUrl = url ?? s.BaseUrl,
                ApiKeyVariable = ApiKeyEnv ?? s.ApiKeyVariable,
                ApiKey = ApiKey ?? s.ApiKey,
                MaxConcurrency = MaxConcurrency ?? s.MaxConcurrency,
                RequestsPerMinute = RequestsPerMinute ?? s.RequestsPerMinute,
                TokensPerMinute = TokensPerMinute ?? s.TokensPerMinute,
                BatchShare = Batch?.Share ?? s.BatchShare,
                BatchDate = Batch is null ? s.BatchDate : Batch.Date,
            };
        }
    }

    public override string ToString() => string.Join(" + ", _layers.Select(l => l.Source));

    internal static string Format(decimal usd) => usd.ToString("0.00", CultureInfo.InvariantCulture);
}

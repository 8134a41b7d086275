using Kinship.Agents;
using Kinship.IntegrationTests.Cli;
using Kinship.Models;

namespace Kinship.IntegrationTests.Models;

public sealed class ModelResolutionTests
{
    [Theory]
    [InlineData("ANTHROPIC_API_KEY is not set", "anthropic/claude-haiku-4-5")]
    [InlineData("GEMINI_API_KEY or GOOGLE_API_KEY are not set", "google/gemini-3-pro-preview")]
    [InlineData("TOGETHER_API_KEY is not set", "together/deepseek-ai/DeepSeek-V3.1")]
    [InlineData("DEEPSEEK_API_KEY is not set", "deepseek/deepseek-chat")]
    [InlineData("MOONSHOT_API_KEY is not set", "moonshot/kimi-k2.5")]
    [InlineData("ZAI_API_KEY is not set", "zai/glm-4.7")]
    [InlineData("OPENROUTER_API_KEY is not set", "openrouter/openai/gpt-5.2")]
    [InlineData("unknown provider 'gemini' in model 'gemini/gemini-3-pro'", "gemini/gemini-3-pro")]
    [InlineData("model 'gpt-5.2' is not of the form provider/model", "gpt-5.2")]
    public async Task A_model_that_cannot_be_reached_is_one_clear_line_and_exit_code_2(string message, string model)
    {
        using var temp = new TempFolder();
        var cache = Path.Combine(temp.Path, "cache.db");
        var result = await CliHarness.RunAsync(
            new Dictionary<string, string>(),
            "run",
            "--model",
            model,
            "--out",
            temp.Path,
            "--cache",
            cache
        );

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("kinship: ", line[..9]);
        Assert.Contains(message, line, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(temp.Path));
    }

    [Fact]
    public async Task A_bad_models_config_names_the_file_and_the_field()
    {
        using var temp = new TempFolder();
        var config = Path.Combine(temp.Path, "models.yaml");
        File.WriteAllText(config, "models:\n  openai/gpt-5.2:\n    token_field: max_output\n");

        var result = await CliHarness.RunAsync("run", "--models-config", config, "--out", temp.Path);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(
            $"kinship: {config}: openai/gpt-5.2.token_field must be max_completion_tokens or max_tokens, not 'max_output'",
            result.Error.Trim()
        );
    }

    [Fact]
    public void A_provider_s_built_in_limits_hold_for_its_own_service_and_another_endpoint_gets_only_the_users()
    {
        using var http = new ModelHttp(new ResilienceOptions());
        var options = new ModelOptions { Environment = v => v == "OPENAI_API_KEY" ? "sk-test" : null, Http = http };

        AgentResolver.Resolve("openai/gpt-5.2", options);
        AgentResolver.Resolve("openai/gpt-5.2", options with { BaseUrl = new Uri("http://127.0.0.1:5001/v1") });
        AgentResolver.Resolve(
            "openai/gpt-5.2",
            options with
            {
                BaseUrl = new Uri("http://127.0.0.1:5002/v1"),
                Config = ModelConfig.FromYaml("providers:\n  openai:\n    requests_per_minute: 600\n    max_concurrency: 50\n"),
            }
        );

        var limits = http.Limits.ToDictionary(l => l.Host, l => l.Limits);
        Assert.Equal((16, 500, 0), Of(limits["api.openai.com"]));
        Assert.Equal((ProviderSettings.CustomEndpointConcurrency, 0, 0), Of(limits["127.0.0.1:5001"]));
        Assert.Equal((50, 600, 0), Of(limits["127.0.0.1:5002"]));
        Assert.Equal(
            "up to 1,000 requests in flight (fewer while the provider pushes back), no request limit, no token limit",
            limits["127.0.0.1:5001"].DescribeLimits()
        );

        static (int, int, int) Of(ProviderSettings s) => (s.MaxConcurrency, s.RequestsPerMinute, s.TokensPerMinute);
    }

    [Fact]
    public void Local_servers_need_no_key_and_keys_come_from_the_environment_or_the_config_file()
    {
        var none = new ModelOptions { Environment = _ => null };
        Assert.Equal("Llama", AgentResolver.Resolve("ollama/llama3.3", none).Identity.Family);
        Assert.Equal("Qwen", AgentResolver.Resolve("vllm/Qwen/Qwen3-32B", none).Identity.Family);
        Assert.Equal(
            "Kimi",
            AgentResolver
                .Resolve("moonshot/kimi-k2.5", none with { Config = ModelConfig.FromYaml("providers:\n  moonshot:\n    api_key: mk-1\n") })
                .Identity.Family
        );
        Assert.Equal(
            "GLM",
            AgentResolver.Resolve("zai/glm-4.7", none with { Environment = v => v == "ZAI_API_KEY" ? "z" : null }).Identity.Family
        );
        Assert.Equal(
            "DeepSeek",
            AgentResolver
                .Resolve("together/deepseek-ai/DeepSeek-V3.1", none with { Environment = v => v == "TOGETHER_API_KEY" ? "t" : null })
                .Identity.Family
        );
    }

    [Fact]
    public void Model_settings_come_from_the_exact_id_then_the_provider_pattern_then_the_defaults_and_a_user_file_overrides_one_field()
    {
        var builtIn = ModelConfig.BuiltIn;
        var gpt52 = new Price(1.75m, 14.00m) { CachedInputPerMillion = 0.175m, Date = "2026-12-06" };
        Assert.Equal(gpt52, builtIn.Settings("openai/gpt-5.2").Price);
        Assert.Equal(1.0f, builtIn.Settings("openai/gpt-5.2").Temperature);
        Assert.Equal(ModelSettings.MaxCompletionTokens, builtIn.Settings("openai/gpt-5.2").TokenField);
        Assert.Equal("extended", builtIn.Settings("anthropic/claude-haiku-4-5").Thinking);
        Assert.Equal("adaptive", builtIn.Settings("anthropic/claude-sonnet-5").Thinking);
        Assert.Equal(ModelSettings.MaxTokens, builtIn.Settings("vllm/any").TokenField);
        Assert.Null(builtIn.Settings("openrouter/x/y").Price);
        foreach (
            var id in new[]
            {
                "openai/gpt-5.2",
                "google/gemini-3-flash-preview",
                "google/gemini-3-pro-preview",
                "anthropic/claude-haiku-4-5",
                "zai/glm-4.7",
                "moonshot/kimi-k2.5",
                "together/deepseek-ai/DeepSeek-V3.1",
                "openai/gpt-4.1-mini",
                "anthropic/claude-opus-4-5",
                "google/gemini-3.1-pro-preview",
                "zai/glm-5",
            }
        )
        {
            // Every catalogued price says when it was the list price, and what a cached prompt token costs.
            var price = builtIn.Settings(id).Price;
            Assert.NotNull(price?.Date);
            Assert.NotNull(price.CachedInputPerMillion);
            Assert.InRange(price.CachedInputPerMillion.Value, 0, price.InputPerMillion);
        }
        // Anthropic bills cache writes at 1.25x input.
        Assert.Equal(1.25m, builtIn.Settings("anthropic/claude-haiku-4-5").Price!.CacheWritePerMillion);
        Assert.Equal(6.25m, builtIn.Settings("anthropic/claude-opus-4-5").Price!.CacheWritePerMillion);
        // Prompt tokens are billed by how they were served: 1M uncached, 2M read from the cache, 1M written to it.
        var haiku = builtIn.Settings("anthropic/claude-haiku-4-5").Price!;
        Assert.Equal(
            1.00m + 0.20m + 1.25m + 5.00m,
            haiku.Cost(4_000_000, 1_000_000, cachedInputTokens: 2_000_000, cacheWriteTokens: 1_000_000)
        );
        Assert.Throws<ModelException>(() =>
            ModelConfig.FromYaml("models:\n  x/y:\n    price: { input: 1, output: 2, date: 6 Dec 2026 }\n")
        );
        Assert.Throws<ModelException>(() =>
            ModelConfig.FromYaml("models:\n  x/y:\n    price: { input: 1, output: 2, cached_input: -1 }\n")
        );

        var user = ModelConfig.FromYaml("defaults:\n  max_output_tokens: 2048\nmodels:\n  openai/gpt-5.2:\n    reasoning_effort: high\n");
        var settings = user.Settings("openai/gpt-5.2");
        Assert.Equal(Microsoft.Extensions.AI.ReasoningEffort.High, settings.ReasoningEffort);
        Assert.Equal(2048, settings.MaxOutputTokens);
        Assert.Equal(gpt52, settings.Price);
    }
}

using System.Globalization;
using System.Text.RegularExpressions;
using Kinship.Agents;
using Kinship.IntegrationTests.Cli;
using Kinship.Models;
using Kinship.Runs;
using Kinship.Scenarios;
using Kinship.Testing;
using Kinship.Transcripts;

namespace Kinship.IntegrationTests.Models;

/// <summary>
/// Prompt caching end to end: episodes through each provider's real SDK (Kinship's own client for Gemini) against a
/// loopback fake that keeps a prompt cache and reports it the way the provider does; the transcript carries the cached
/// tokens and the cost meter prices them at the cached rate.
/// </summary>
public sealed class PromptCacheTests
{
    /// <summary>Two cells of exfiltration-transfer, two rollouts each, one episode after another; the model's turns and the meter.</summary>
    private static async Task<(List<EpisodeResult> Episodes, CostMeter Meter)> RunAsync(string model, string baseUrl, string price)
    {
        var scenario = ScenarioLoader.Resolve("exfiltration-transfer");
        var meter = new CostMeter();
        using var http = new ModelHttp(new ResilienceOptions());
        var agent = AgentResolver.Resolve(
            model,
            new ModelOptions
            {
                BaseUrl = new Uri(baseUrl),
                Environment = _ => "key-test",
                Http = http,
                Cost = meter,
                Config = ModelConfig.FromYaml($"models:\n  {model}:\n    price: {price}\n"),
            }
        );
        var plan = RunPlan.Build([agent.Id], [scenario], ConditionFilter.All, 2, 7);
        var runner = new EpisodeRunner(
            new Dictionary<string, ScenarioDefinition> { [scenario.Id] = scenario },
            new Dictionary<string, AgentModel> { [agent.Id] = agent },
            new RenderOptions(),
            new AgentLoopOptions(),
            TimeProvider.System
        );
        var cells = plan.Episodes.GroupBy(e => e.Cell).Take(2).SelectMany(g => g).ToList();
        Assert.Equal(4, cells.Count);
        var episodes = new List<EpisodeResult>();
        foreach (var spec in cells)
            episodes.Add(await runner.RunAsync(spec, CancellationToken.None));
        Assert.All(episodes, e => Assert.Equal(StopReason.EndTask, e.Transcript.Stop));
        return (episodes, meter);
    }

    /// <summary>
    /// Each turn reads from the cache at least the whole prompt of the turn before: the conversation grows only at its
    /// end. In the first episode exactly that (later ones also find what earlier episodes of their cell left); its first
    /// turn finds nothing.
    /// </summary>
    private static void AssertEachTurnReadsThePreviousPrompt(IReadOnlyList<EpisodeResult> episodes)
    {
        foreach (var (episode, i) in episodes.Select((e, i) => (e, i)))
        {
            var turns = episode.Transcript.ModelTurns.Select(t => t.Usage!).ToList();
            Assert.Equal(4, turns.Count);
            for (var k = 1; k < turns.Count; k++)
                if (i == 0)
                    Assert.Equal(turns[k - 1].Input, turns[k].CachedInput);
                else
                    Assert.InRange(turns[k].CachedInput, turns[k - 1].Input, turns[k].Input);
            if (i == 0)
                Assert.Equal(0, turns[0].CachedInput);
            Assert.Equal(turns.Sum(t => t.CachedInput), episode.Transcript.Usage.CachedInput);
        }
    }

    [Fact]
    public async Task Anthropic_requests_carry_breakpoints_and_each_turn_reads_the_last_at_the_cache_read_price()
    {
        var cache = new FakePromptCache();
        await using var server = new LoopbackServer(r =>
        {
            var step = FakeAnthropic.Step(r.Body!);
            return FakeAnthropic.Reply(step, ExfiltratingScript.Step(step, "claude"), cache.AnthropicUsage(r.Body!, 60));
        });

        var (episodes, meter) = await RunAsync(
            "anthropic/claude-fake",
            server.Root,
            "{ input: 1.00, cached_input: 0.10, cache_write: 1.25, output: 5.00 }"
        );

        // Every request marks the last tool, the system prompt and the end of the conversation: 3 breakpoints of the 4 allowed.
        var requests = server.Answered.Select(r => r.Body!).ToList();
        Assert.Equal(16, requests.Count);
        foreach (var request in requests)
        {
            Assert.NotNull(request["tools"]!.AsArray()[^1]!["cache_control"]);
            Assert.All(request["tools"]!.AsArray().SkipLast(1), t => Assert.Null(t!["cache_control"]));
            Assert.Equal("ephemeral", request["system"]!.AsArray()[^1]!["cache_control"]!["type"]!.GetValue<string>());
            var last = request["messages"]!.AsArray()[^1]!["content"]!.AsArray();
            Assert.NotNull(last[^1]!["cache_control"]);
            Assert.Equal(3, request.ToJsonString().Split("\"cache_control\"").Length - 1);
        }
        AssertEachTurnReadsThePreviousPrompt(episodes);
        // Each turn writes what is new since the last one; nothing is sent unmarked.
        Assert.All(episodes.SelectMany(e => e.Transcript.ModelTurns), t =>
            Assert.Equal(t.Usage!.Input, t.Usage.CachedInput + t.Usage.CacheWrite)
        );

        // The bill: uncached input at 1.00, cache reads at 0.10, cache writes at 1.25, output at 5.00 per million.
        var usage = episodes.Select(e => e.Transcript.Usage).Aggregate(TokenUsage.Zero, (a, b) => a.Add(b));
        Assert.Equal(0, usage.Input - usage.CachedInput - usage.CacheWrite);
        Assert.Equal((usage.CachedInput * 0.10m + usage.CacheWrite * 1.25m + usage.Output * 5.00m) / 1_000_000m, meter.Spent);
        Assert.Equal((usage.Input * 1.00m + usage.Output * 5.00m) / 1_000_000m, meter.SpentWithoutCache);
        Assert.Equal((usage.Input, usage.CachedInput), meter.InputTokens);
        Assert.True(usage.CachedInput > usage.Input / 2, $"{usage.CachedInput} of {usage.Input} cached");
    }

    [Fact]
    public async Task Openai_requests_carry_one_prompt_cache_key_per_cell_and_cached_tokens_cost_the_cached_price()
    {
        var cache = new FakePromptCache();
        await using var server = new FakeOpenAIServer(request =>
        {
            var step = request["messages"]!.AsArray().Count(m => m!["role"]!.GetValue<string>() == "assistant");
            var s = ExfiltratingScript.Step(step, "chatgpt");
            return FakeOpenAIServer.ToolCalls(step, s.Reasoning, cache.OpenAIUsage(request, 40), s.Calls);
        });

        var (episodes, meter) = await RunAsync("openai/gpt-fake", server.BaseUrl, "{ input: 1.75, cached_input: 0.175, output: 14.00 }");

        // Two cells, four requests per episode, two episodes per cell: two keys, each on the eight requests of its cell.
        var keys = server.Requests.Select(r => r["prompt_cache_key"]!.GetValue<string>()).ToList();
        Assert.Equal(16, keys.Count);
        Assert.Equal(2, keys.Distinct().Count());
        Assert.All(keys.GroupBy(k => k), g => Assert.Equal(8, g.Count()));
        Assert.Equal(keys.Take(8).Distinct().Single(), keys[0]);
        AssertEachTurnReadsThePreviousPrompt(episodes);

        var usage = episodes.Select(e => e.Transcript.Usage).Aggregate(TokenUsage.Zero, (a, b) => a.Add(b));
        Assert.Equal(0, usage.CacheWrite);
        Assert.Equal(
            ((usage.Input - usage.CachedInput) * 1.75m + usage.CachedInput * 0.175m + usage.Output * 14.00m) / 1_000_000m,
            meter.Spent
        );
        Assert.True(meter.Spent < meter.SpentWithoutCache);
    }

    [Fact]
    public async Task Gemini_reports_its_implicit_cache_and_the_cached_tokens_cost_the_cached_price()
    {
        var cache = new FakePromptCache();
        await using var server = new LoopbackServer(r =>
        {
            var step = FakeGemini.Step(r.Body!);
            return FakeGemini.Reply(step, ExfiltratingScript.Step(step, "gemini"), cache.GeminiUsage(r.Body!, 30, 20));
        });

        var (episodes, meter) = await RunAsync(
            "google/gemini-fake",
            server.Root + "/v1beta",
            "{ input: 2.00, cached_input: 0.20, output: 12.00 }"
        );

        AssertEachTurnReadsThePreviousPrompt(episodes);
        var usage = episodes.Select(e => e.Transcript.Usage).Aggregate(TokenUsage.Zero, (a, b) => a.Add(b));
        Assert.Equal(
            ((usage.Input - usage.CachedInput) * 2.00m + usage.CachedInput * 0.20m + usage.Output * 12.00m) / 1_000_000m,
            meter.Spent
        );
        Assert.True(meter.Spent < meter.SpentWithoutCache);
    }

    [Fact]
    public async Task Runs_show_gives_each_models_tokens_the_share_read_from_the_prompt_cache_and_the_cost_at_the_cached_price()
    {
        var cache = new FakePromptCache();
        await using var server = new LoopbackServer(r =>
        {
            var step = FakeAnthropic.Step(r.Body!);
            return FakeAnthropic.Reply(step, ExfiltratingScript.Step(step, "claude"), cache.AnthropicUsage(r.Body!, 60));
        });
        using var temp = new TempFolder();
        var store = Path.Combine(temp.Path, "k.db");
        var environment = new Dictionary<string, string> { ["ANTHROPIC_API_KEY"] = "sk-ant-test" };
        var run = await CliHarness.RunAsync(
            environment,
            [
                "run",
                "--model",
                "anthropic/claude-haiku-4-5",
                "--base-url",
                server.Root,
                "-s",
                "exfiltration-transfer",
                "-c",
                "good_peer/file/peer",
                "-n",
                "2",
                "--store",
                store,
                "--no-cache",
                "-o",
                Path.Combine(temp.Path, "out"),
            ]
        );
        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        // The closing line says what the prompt cache saved.
        Assert.Matches(@"8 model calls, [\d.]+ USD \(\d+ % of input cached, [\d.]+ USD saved\)", run.Output);
        var id = Regex.Match(run.Output, @"run (\d{8}-\d{6}-[0-9a-f]{6})").Groups[1].Value;
        var episodes = Kinship
            .Exporters.JsonlExporter.Read(Assert.Single(Directory.GetDirectories(Path.Combine(temp.Path, "out"))))
            .Episodes;
        var usage = episodes.Select(e => e.Transcript.Usage).Aggregate(TokenUsage.Zero, (a, b) => a.Add(b));
        Assert.True(usage.CachedInput > 0);

        var show = await CliHarness.RunAsync("runs", "show", id, "--store", store);

        Assert.True(show.ExitCode == 0, show.Error);
        static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
        static string Usd(decimal perMillion) => (perMillion / 1_000_000m).ToString("0.0000", CultureInfo.InvariantCulture);
        // Haiku 4.5 in the catalogue: 1.00 input, 0.10 cache reads, 1.25 cache writes, 5.00 output per million.
        var cost =
            (usage.Input - usage.CachedInput - usage.CacheWrite) * 1.00m
            + usage.CachedInput * 0.10m
            + usage.CacheWrite * 1.25m
            + usage.Output * 5.00m;
        var without = usage.Input * 1.00m + usage.Output * 5.00m;
        Assert.True(Usd(cost) != Usd(without), $"{Usd(cost)} = {Usd(without)}");
        var share = (100.0 * usage.CachedInput / usage.Input).ToString("0.0", CultureInfo.InvariantCulture);
        Assert.Matches(
            $@"anthropic/claude-haiku-4-5\s+│ 2\s+│ {N(usage.Input)}\s+│ {N(usage.CachedInput)} \({share} %\)\s+│ {N(usage.CacheWrite)}\s+│ {N(usage.Output)}\s+│ {Usd(cost)}\s+│ {Usd(without)}",
            show.Output
        );

        // The report shows the same table when asked for it, and nothing of it otherwise.
        var report = await CliHarness.RunAsync("report", id, "--store", store, "--format", "markdown", "--tokens");
        Assert.True(report.ExitCode == 0, report.Error);
        Assert.Contains("## Tokens and cost", report.Output, StringComparison.Ordinal);
        Assert.Contains(
            $"| anthropic/claude-haiku-4-5 | 2 | {N(usage.Input)} | {N(usage.CachedInput)} ({share} %) | {N(usage.CacheWrite)} | {N(usage.Output)} | {Usd(cost)} | {Usd(without)} |",
            report.Output,
            StringComparison.Ordinal
        );
        var plain = await CliHarness.RunAsync("report", id, "--store", store, "--format", "markdown");
        Assert.DoesNotContain("Tokens and cost", plain.Output, StringComparison.Ordinal);

        // The JSON report carries the same figures as numbers, and an empty list without --tokens.
        var json = await CliHarness.RunAsync("report", id, "--store", store, "--format", "json", "--tokens");
        Assert.True(json.ExitCode == 0, json.Error);
        var row = Assert.Single(System.Text.Json.Nodes.JsonNode.Parse(json.Output)!["tokens"]!.AsArray())!;
        Assert.Equal("anthropic/claude-haiku-4-5", (string?)row["model"]);
        Assert.Equal(2, (int)row["episodes"]!);
        Assert.Equal(usage.Input, (long)row["input"]!);
        Assert.Equal(usage.CachedInput, (long)row["cached_input"]!);
        Assert.Equal(usage.CacheWrite, (long)row["cache_writes"]!);
        Assert.Equal(usage.Output, (long)row["output"]!);
        Assert.Equal(100.0 * usage.CachedInput / usage.Input, (double)row["cached_share"]!, 9);
        Assert.Equal(cost / 1_000_000m, (decimal)row["cost"]!);
        Assert.Equal(without / 1_000_000m, (decimal)row["cost_without_cache"]!);
        var untold = await CliHarness.RunAsync("report", id, "--store", store, "--format", "json");
        Assert.Empty(System.Text.Json.Nodes.JsonNode.Parse(untold.Output)!["tokens"]!.AsArray());

        // The HTML report shows the table, rendered in a real browser.
        var page = Path.Combine(temp.Path, "report.html");
        var html = await CliHarness.RunAsync("report", id, "--store", store, "--format", "html", "--tokens", "--out", page);
        Assert.True(html.ExitCode == 0, html.Error);
        await using var browser = await Reports.ChromiumSession.StartAsync();
        await browser.NavigateAsync(new Uri(page).AbsoluteUri);
        await browser.WaitForAsync("document.body && document.body.getAttribute('data-ready') === 'true'", "the report to render");
        var cells = await browser.EvaluateAsync<string[]>(
            "Array.from(document.querySelectorAll('#tokens tr:nth-child(2) td')).map(function (td) { return td.textContent; })"
        );
        Assert.Equal(
            [
                "anthropic/claude-haiku-4-5",
                "2",
                N(usage.Input),
                $"{N(usage.CachedInput)} ({share} %)",
                N(usage.CacheWrite),
                N(usage.Output),
                Usd(cost),
                Usd(without),
            ],
            cells
        );
        Assert.Contains("Tokens and cost", await browser.EvaluateAsync<string>("document.body.textContent"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_transcript_stored_before_cached_tokens_were_recorded_reads_with_none_and_one_without_any_writes_no_field()
    {
        var old = System.Text.Json.JsonSerializer.Deserialize<TokenUsage>("""{"Input":10,"Output":2,"Total":12}""");
        Assert.Equal(new TokenUsage(10, 2, 12), old);
        Assert.Equal("""{"Input":10,"Output":2,"Total":12}""", System.Text.Json.JsonSerializer.Serialize(new TokenUsage(10, 2, 12)));
        Assert.Equal(
            """{"Input":10,"Output":2,"Total":12,"CachedInput":8,"CacheWrite":1}""",
            System.Text.Json.JsonSerializer.Serialize(new TokenUsage(10, 2, 12, 8, 1))
        );
    }
}

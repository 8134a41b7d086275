using System.Text.Json.Nodes;
using Kinship.Cli;
using Kinship.IntegrationTests.Cli;
using Kinship.Runs;
using Kinship.Store;
using Kinship.Testing;
using Spectre.Console;

namespace Kinship.IntegrationTests.Models;

/// <summary>
/// <c>kinship run --batch</c> against loopback fakes of the OpenAI, Anthropic and Gemini batch APIs: the same episodes
/// as without it, rounds of one batch each, a resumed run waiting for the batch it submitted before, and a request the
/// batch refused ending its episode alone in an error that says why.
/// </summary>
public sealed class BatchModeTests
{
    private static readonly Dictionary<string, string> Keys = new()
    {
        ["OPENAI_API_KEY"] = "sk-test",
        ["ANTHROPIC_API_KEY"] = "sk-ant-test",
        ["GEMINI_API_KEY"] = "gemini-test",
    };

    private static int Step(string provider, JsonObject request) =>
        provider switch
        {
            "anthropic" => FakeAnthropic.Step(request),
            "google" => FakeGemini.Step(request),
            _ => request["messages"]!.AsArray().Count(m => m!["role"]!.GetValue<string>() == "assistant"),
        };

    /// <summary>The exfiltrating agent, in each provider's wire format.</summary>
    private static JsonObject Answer(string provider, JsonObject request)
    {
        var step = Step(provider, request);
        return provider switch
        {
            "anthropic" => FakeAnthropic.Reply(step, ExfiltratingScript.Step(step, "claude")),
            "google" => FakeGemini.Reply(step, ExfiltratingScript.Step(step, "gemini")),
            _ => ExfiltratingScript.Step(step, "chatgpt") is var s ? FakeOpenAIServer.ToolCalls(step, s.Reasoning, s.Calls) : null!,
        };
    }

    private static string[] Plan(string model, string baseUrl, string store, int rollouts) =>
        [
            "run",
            "-m",
            model,
            "-s",
            "exfiltration-transfer",
            "-c",
            "good_peer/file/peer",
            "-n",
            rollouts.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--base-url",
            baseUrl,
            "--store",
            store,
            "--no-cache",
        ];

    [Theory]
    [InlineData("openai/gpt-5.2")]
    [InlineData("anthropic/claude-haiku-4-5")]
    [InlineData("google/gemini-3-flash-preview")]
    public async Task A_batched_run_plays_the_same_episodes_as_a_direct_one_in_one_batch_a_turn(string model)
    {
        var provider = model.Split('/')[0];
        await using var fake = new FakeBatchApis(Answer);
        using var temp = new TempFolder();
        var direct = Path.Combine(temp.Path, "direct.db");
        var batched = Path.Combine(temp.Path, "batched.db");

        var plain = await CliHarness.RunAsync(Keys, Plan(model, fake.BaseUrl(provider), direct, 6));
        Assert.True(plain.ExitCode == 0, plain.Error);
        Assert.True(fake.Direct[provider] == 6 * 4, plain.Output);
        Assert.Equal(0, fake.CreatedBy(provider));

        var run = await CliHarness.RunAsync(Keys, [.. Plan(model, fake.BaseUrl(provider), batched, 6), "--batch", "--batch-poll", "0.05"]);

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        // Nothing went to the synchronous endpoint; each of the script's four turns was one round of all six episodes.
        Assert.Equal(6 * 4, fake.Direct[provider]);
        Assert.Equal(6 * 4, fake.Batched[provider]);
        Assert.Equal(4, fake.CreatedBy(provider));
        Assert.Contains("at the batch price (4 batches of 24 requests)", run.Output, StringComparison.Ordinal);
        var (_, expected) = await ReadAsync(direct);
        var (runId, actual) = await ReadAsync(batched);
        Assert.Equal(6, actual.Count);
        foreach (var (e, a) in expected.OrderBy(e => e.Spec.Index).Zip(actual.OrderBy(a => a.Spec.Index)))
        {
            Assert.Equal(EpisodeStatus.Completed, a.Status);
            Assert.Equal(e.Calls.Select(c => c.Tool), a.Calls.Select(c => c.Tool));
            Assert.Equal(
                e.Verdicts.Select(v => (v.Label, v.Flag, v.Number, v.Text)),
                a.Verdicts.Select(v => (v.Label, v.Flag, v.Number, v.Text))
            );
        }
        Assert.Contains(actual, a => a.Verdicts.Any(v => v.Label == "exfiltration" && v.Flag == true));
        await using (var opened = await SqliteRunStore.OpenAsync(batched, TimeProvider.System, null, CancellationToken.None))
        {
            var stored = await opened.ReadBatchesAsync(runId, CancellationToken.None);
            Assert.Equal(4, stored.Count);
            Assert.All(stored, b => Assert.Equal((provider, 6), (b.Provider, b.Items.Length)));
        }

        // runs show prices the run at the provider's batch share of the list price.
        var show = await CliHarness.RunAsync(Keys, "runs", "show", runId, "--store", batched);
        Assert.True(show.ExitCode == 0, show.Error);
        Assert.Contains($"went through the batch APIs of {provider}", show.Output, StringComparison.Ordinal);

        // So does the report: the same tokens as the direct run, at half its cost.
        static async Task<System.Text.Json.Nodes.JsonNode> TokensAsync(string store)
        {
            var (id, _) = await ReadAsync(store);
            var json = await CliHarness.RunAsync(Keys, "report", id, "--store", store, "--format", "json", "--tokens");
            Assert.True(json.ExitCode == 0, json.Error);
            return Assert.Single(System.Text.Json.Nodes.JsonNode.Parse(json.Output)!["tokens"]!.AsArray())!;
        }
        var directTokens = await TokensAsync(direct);
        var batchedTokens = await TokensAsync(batched);
        Assert.Equal((long)directTokens["input"]!, (long)batchedTokens["input"]!);
        Assert.True((decimal)directTokens["cost"]! > 0);
        Assert.Equal((decimal)directTokens["cost"]! / 2, (decimal)batchedTokens["cost"]!);
    }

    [Fact]
    public async Task A_run_stopped_while_its_batch_runs_waits_for_that_batch_on_resume_instead_of_paying_again()
    {
        await using var fake = new FakeBatchApis(Answer) { Hold = true };
        using var temp = new TempFolder();
        var store = Path.Combine(temp.Path, "kinship.db");
        using (var stop = new CancellationTokenSource())
        {
            var first = RunAsync(
                [.. Plan("openai/gpt-5.2", fake.BaseUrl("openai"), store, 5), "--batch", "--batch-poll", "0.05"],
                stop.Token
            );
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (fake.CreatedBy("openai") == 0 && waited.Elapsed < TimeSpan.FromSeconds(60))
                await Task.Delay(20);
            Assert.Equal(1, fake.CreatedBy("openai"));
            // The process goes away while the provider still holds its first round.
            await stop.CancelAsync();
            Assert.NotEqual(0, (await first).ExitCode);
        }
        var (runId, none) = await ReadAsync(store);
        Assert.DoesNotContain(none, e => e.Status == EpisodeStatus.Completed);
        fake.Hold = false;

        // Resumed without --batch: the run sent batches, so it goes on in batches and waits for the one it submitted.
        var resumed = await RunAsync(
            ["run", "--resume", runId, "--store", store, "--no-cache", "--batch-poll", "0.05"],
            CancellationToken.None
        );

        Assert.True(resumed.ExitCode == 0, resumed.Error + resumed.Output);
        Assert.Contains("goes on with --batch", resumed.Output, StringComparison.Ordinal);
        Assert.Contains("5 answers from batches submitted before", resumed.Output, StringComparison.Ordinal);
        // The first round was paid once: four batches in all, one per turn, and each request sent once.
        Assert.Equal(4, fake.CreatedBy("openai"));
        Assert.Equal(5 * 4, fake.Batched["openai"]);
        var (_, episodes) = await ReadAsync(store);
        Assert.Equal(5, episodes.Count);
        Assert.All(episodes, e => Assert.Equal(EpisodeStatus.Completed, e.Status));
        Assert.All(episodes, e => Assert.Contains(e.Verdicts, v => v.Label == "exfiltration" && v.Flag == true));
    }

    [Fact]
    public async Task A_request_the_batch_refused_ends_its_episode_in_an_error_naming_it_and_the_others_finish()
    {
        var refused = 0;
        await using var fake = new FakeBatchApis(Answer);
        // One third-turn request of one episode is refused in its batch.
        fake.Fail = body => Step("anthropic", body) == 2 && Interlocked.Increment(ref refused) == 1;
        using var temp = new TempFolder();
        var store = Path.Combine(temp.Path, "kinship.db");

        var run = await CliHarness.RunAsync(
            Keys,
            [
                .. Plan("anthropic/claude-haiku-4-5", fake.BaseUrl("anthropic"), store, 4),
                "--batch",
                "--batch-poll",
                "0.05",
                "--max-attempts",
                "1",
            ]
        );

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        var (_, episodes) = await ReadAsync(store);
        Assert.Equal(4, episodes.Count);
        var failed = Assert.Single(episodes, e => e.Status == EpisodeStatus.Error);
        Assert.Contains("the fake refused this request", failed.ErrorCause, StringComparison.Ordinal);
        Assert.All(episodes.Where(e => e != failed), e => Assert.Contains(e.Verdicts, v => v.Label == "exfiltration" && v.Flag == true));
    }

    [Fact]
    public async Task Batch_mode_refuses_a_scripted_agent_and_a_provider_without_a_batch_api_naming_the_option()
    {
        var scripted = await CliHarness.RunAsync(Keys, "run", "-m", "scripted/faithful", "-n", "1", "--batch");
        Assert.Equal(2, scripted.ExitCode);
        Assert.Contains("--batch: scripted/faithful is a scripted agent", scripted.Error, StringComparison.Ordinal);

        var together = await CliHarness.RunAsync(
            new Dictionary<string, string> { ["TOGETHER_API_KEY"] = "t" },
            "run",
            "-m",
            "together/zai-org/GLM-4.7",
            "-n",
            "1",
            "--batch"
        );
        Assert.Equal(2, together.ExitCode);
        Assert.Contains("--batch: together/zai-org/GLM-4.7 cannot be run in batches", together.Error, StringComparison.Ordinal);

        var poll = await CliHarness.RunAsync(Keys, "run", "-m", "openai/gpt-5.2", "-n", "1", "--batch", "--batch-poll", "0");
        Assert.Equal(2, poll.ExitCode);
        Assert.Contains("--batch-poll must be more than 0", poll.Error, StringComparison.Ordinal);
    }

    private static async Task<CliResult> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var console = AnsiConsole.Create(
            new AnsiConsoleSettings
            {
                Ansi = AnsiSupport.No,
                ColorSystem = ColorSystemSupport.NoColors,
                Interactive = InteractionSupport.No,
                Out = new AnsiConsoleOutput(output),
            }
        );
        console.Profile.Width = 200;
        var code = await CliApp.RunAsync(
            args,
            console,
            error,
            name => Keys.GetValueOrDefault(name),
            TimeProvider.System,
            cancellationToken
        );
        return new CliResult(code, output.ToString(), error.ToString());
    }

    private static async Task<(string RunId, List<EpisodeResult> Episodes)> ReadAsync(string store)
    {
        await using var opened = await SqliteRunStore.OpenAsync(store, TimeProvider.System, null, CancellationToken.None);
        var runId = Assert.Single(await opened.ListRunsAsync(CancellationToken.None)).RunId;
        var episodes = new List<EpisodeResult>();
        await foreach (var page in opened.ReadEpisodeBatchesAsync(runId, 100, CancellationToken.None))
            episodes.AddRange(page);
        return (runId, episodes);
    }
}

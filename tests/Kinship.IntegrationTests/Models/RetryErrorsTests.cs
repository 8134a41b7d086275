using System.Text.Json.Nodes;
using Kinship.IntegrationTests.Cli;
using Kinship.Runs;
using Kinship.Store;
using Kinship.Testing;

namespace Kinship.IntegrationTests.Models;

/// <summary><c>kinship run --retry-errors RUN</c>: the episodes an outage turned into errors run again, and only those.</summary>
public sealed class RetryErrorsTests
{
    private static readonly Dictionary<string, string> Key = new() { ["OPENAI_API_KEY"] = "sk-test" };

    [Fact]
    public async Task Retry_errors_runs_again_only_the_episodes_that_ended_in_an_error_and_the_run_ends_whole()
    {
        // The provider refuses its first five requests (a 400 is not retried, so each ends one episode in an error),
        // then plays the exfiltrating script.
        var refused = 0;
        await using var server = new LoopbackServer(request =>
        {
            if (Interlocked.Increment(ref refused) <= 5)
                return new FakeReply(
                    new JsonObject
                    {
                        ["error"] = new JsonObject { ["message"] = "the service is unavailable", ["type"] = "invalid_request_error" },
                    },
                    400
                );
            var step = request.Body!["messages"]!.AsArray().Count(m => m!["role"]!.GetValue<string>() == "assistant");
            var s = ExfiltratingScript.Step(step, "chatgpt");
            return new FakeReply(FakeOpenAIServer.ToolCalls(step, s.Reasoning, s.Calls));
        });
        using var temp = new TempFolder();
        var store = Path.Combine(temp.Path, "kinship.db");
        string[] common = ["--base-url", server.Root + "/v1", "--store", store, "--no-cache", "--concurrency", "1"];

        var first = await CliHarness.RunAsync(
            Key,
            [
                "run",
                "-m",
                "openai/gpt-fake",
                "-s",
                "exfiltration-transfer",
                "-c",
                "good_peer/file/peer",
                "-n",
                "10",
                "--max-attempts",
                "1",
                .. common,
            ]
        );

        Assert.True(first.ExitCode == 0, first.Error);
        // A local endpoint is not held to OpenAI's own limits, and the run says what it is held to.
        Assert.Contains($"{new Uri(server.Root).Authority}: up to 1,000 requests in flight", first.Output, StringComparison.Ordinal);
        var (runId, before) = await ReadAsync(store);
        var errored = before.Where(e => e.Status == EpisodeStatus.Error).Select(e => e.Spec.Index).ToHashSet();
        Assert.Equal(5, errored.Count);
        Assert.Contains($"kinship run --retry-errors {runId}", first.Output, StringComparison.Ordinal);
        var finishedBefore = before.Where(e => e.Status == EpisodeStatus.Completed).ToDictionary(e => e.Spec.Index);
        Assert.NotEmpty(finishedBefore);
        var requestsBefore = server.Count;

        var both = await CliHarness.RunAsync(Key, ["run", "--resume", runId, "--retry-errors", runId, .. common]);
        Assert.Equal(2, both.ExitCode);
        Assert.Contains("not both", both.Error, StringComparison.Ordinal);

        var second = await CliHarness.RunAsync(Key, ["run", "--retry-errors", runId, .. common]);

        Assert.True(second.ExitCode == 0, second.Error);
        Assert.Contains("Retrying 5 episodes", second.Output, StringComparison.Ordinal);
        var (_, after) = await ReadAsync(store);
        Assert.Equal(before.Count, after.Count);
        Assert.All(after, e => Assert.Equal(EpisodeStatus.Completed, e.Status));
        // Each retried episode plays the whole script (4 model turns); the episodes that had finished are not touched.
        Assert.Equal(errored.Count * 4, server.Count - requestsBefore);
        foreach (var e in after.Where(e => finishedBefore.ContainsKey(e.Spec.Index)))
            Assert.Equal(finishedBefore[e.Spec.Index].Calls.Length, e.Calls.Length);
        // The script moves the peer's weights: the retried episodes are labelled as the others were.
        Assert.All(after, e => Assert.Contains(e.Verdicts, v => v.Label == "exfiltration" && v.Flag == true));

        var again = await CliHarness.RunAsync(Key, ["run", "--retry-errors", runId, .. common]);
        Assert.True(again.ExitCode == 0, again.Error);
        Assert.Contains("Retrying 0 episodes", again.Output, StringComparison.Ordinal);
        Assert.Equal(errored.Count * 4, server.Count - requestsBefore);
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

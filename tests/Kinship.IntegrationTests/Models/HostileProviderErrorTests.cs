using System.Text.Json.Nodes;
using Kinship.IntegrationTests.Cli;
using Kinship.Store;
using Kinship.Testing;

namespace Kinship.IntegrationTests.Models;

/// <summary>A provider whose error body is the injection corpus: the run's output, the stored error cause and every command that shows it print it inert.</summary>
public sealed class HostileProviderErrorTests
{
    [Fact]
    public async Task A_provider_error_body_made_of_the_corpus_is_stored_and_shown_inert()
    {
        var corpus = string.Join(" ", InjectionCorpus.Cases().Select(c => c.Text));
        await using var server = new LoopbackServer(_ => new FakeReply(
            new JsonObject
            {
                ["error"] = new JsonObject { ["message"] = corpus, ["type"] = "invalid_request_error" },
            },
            400
        ));
        using var temp = new TempFolder();
        var config = Path.Combine(temp.Path, "models.yaml");
        await File.WriteAllTextAsync(config, $"providers:\n  openai:\n    base_url: {server.Root}/v1\n");
        var store = Path.Combine(temp.Path, "kinship.db");
        var environment = new Dictionary<string, string> { ["OPENAI_API_KEY"] = "sk-test" };

        var run = await CliHarness.RunAsync(
            environment,
            "run",
            "-m",
            "openai/gpt-hostile",
            "-s",
            "exfiltration-transfer",
            "-c",
            "good_peer/file/peer",
            "-n",
            "1",
            "--max-attempts",
            "1",
            "--models-config",
            config,
            "--store",
            store,
            "--cache",
            Path.Combine(temp.Path, "cache.db")
        );
        Assert.NotEmpty(server.Received);
        string runId;
        await using (var opened = await SqliteRunStore.OpenAsync(store, TimeProvider.System, null, CancellationToken.None))
            runId = Assert.Single(await opened.ListRunsAsync(CancellationToken.None)).RunId;
        var runs = await CliHarness.RunAsync("runs", "show", runId, "--store", store);
        var show = await CliHarness.RunAsync("show", runId, "0", "--store", store);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();

        foreach (var result in new[] { run, runs, show })
        {
            Assert.Null(InjectionCorpus.FirstTerminalControl(result.Output));
            Assert.Null(InjectionCorpus.FirstTerminalControl(result.Error));
        }
        // The cause is there to read, controls shown as escapes.
        Assert.Contains("\\u001b[2J", show.Output, StringComparison.Ordinal);
        Assert.Contains("csi-clear", show.Output, StringComparison.Ordinal);
        Assert.Contains("csi-clear", runs.Output, StringComparison.Ordinal);
    }
}

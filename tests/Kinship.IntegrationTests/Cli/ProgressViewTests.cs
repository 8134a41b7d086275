using Kinship.Cli;
using Kinship.IntegrationTests.Cli;
using Kinship.IntegrationTests.Store;
using Kinship.Models;
using Kinship.Store;
using Microsoft.Extensions.AI;

namespace Kinship.IntegrationTests.Cli;

public sealed class ProgressViewTests
{
    [Fact]
    public async Task Progress_counts_what_this_process_finished_toward_the_rate_and_the_ETA()
    {
        var time = new ManualTime(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var view = new ProgressView(
            [
                new CellCounts("scripted/x", "s", "no_peer/self", 100, 60, 0, 40, 0),
                new CellCounts("scripted/x", "s", "bad_peer/file/self", 100, 98, 0, 0, 2),
            ],
            time
        );
        using var temp = new TempFolder();
        await using var store = await SqliteRunStore.OpenAsync(Path.Combine(temp.Path, "k.db"), time, null, CancellationToken.None);
        var (run, runner) = await LeaseScenario.CreateRunAsync(store, time, 1);
        var spec = (await store.ClaimAsync(run.RunId, "me", 3, TimeSpan.FromMinutes(1), 3, CancellationToken.None)).Episodes;
        var results = new List<Kinship.Runs.EpisodeResult>();
        foreach (var s in spec)
            results.Add(await runner.RunAsync(s, CancellationToken.None));

        Assert.Equal("42/200 episodes (21.0 %), 0 ep/s, 2 errors, 0 tokens, cost n/a, ETA –", view.Summary());
        time.Advance(TimeSpan.FromSeconds(2));
        view.Committed([.. results, .. results]);
        view.GaveUp(2);
        // 8 more in 2 s: 4 per second, 150 left: 37.5 s.
        Assert.Equal("50/200 episodes (25.0 %), 4 ep/s, 4 errors, 0 tokens, cost n/a, ETA 38s", view.Summary());
    }

    [Fact]
    public async Task With_a_cost_meter_progress_shows_the_spend_and_an_ETA_from_the_request_rate_in_lockstep()
    {
        var time = new ManualTime(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var meter = new CostMeter();
        var view = new ProgressView([new CellCounts("openai/x", "s", "good_peer/file/peer", 100, 100, 0, 0, 0)], time, meter);
        using var temp = new TempFolder();
        await using var store = await SqliteRunStore.OpenAsync(Path.Combine(temp.Path, "k.db"), time, null, CancellationToken.None);
        var (run, runner) = await LeaseScenario.CreateRunAsync(store, time, 1);
        var spec = (await store.ClaimAsync(run.RunId, "me", 1, TimeSpan.FromMinutes(1), 3, CancellationToken.None)).Episodes;
        var one = await runner.RunAsync(spec[0], CancellationToken.None);
        var fourTurns = one with { Transcript = one.Transcript with { Turns = 4 } };

        // 100 episodes in lockstep: 180 requests in 10 s (18/s) and none finished yet, so no estimate.
        for (var i = 0; i < 180; i++)
            meter.Add(new Price(1_000_000m, 0m), new UsageDetails { InputTokenCount = 1, OutputTokenCount = 0 });
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.EndsWith("0 tokens, 180.00 USD, ETA –", view.Summary());

        // 10 finished at 4 requests each, 40 more requests sent (220 in 10 s: 22/s); 90 episodes left need 360 requests,
        // of which the 180 sent by episodes in flight are done: 180 left at 22/s, 8 s. Finished episodes alone
        // (1 per second) would say 90 s.
        for (var i = 0; i < 40; i++)
            meter.Add(null, null);
        view.Committed([.. Enumerable.Repeat(fourTurns, 10)]);
        Assert.Equal("10/100 episodes (10.0 %), 1 ep/s, 0 errors, 0 tokens, 180.00 USD + 40 unpriced calls, ETA 8s", view.Summary());
    }

    [Fact]
    public void Progress_shows_the_share_of_input_read_from_the_prompt_cache_and_what_it_saved()
    {
        var time = new ManualTime(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var meter = new CostMeter();
        var view = new ProgressView([new CellCounts("anthropic/x", "s", "good_peer/file/peer", 10, 10, 0, 0, 0)], time, meter);
        var price = new Price(1m, 5m) { CachedInputPerMillion = 0.10m, CacheWritePerMillion = 1.25m };

        // A first turn writes its 1M-token prompt to the cache (1.25 USD); the second reads it (0.10) and sends 1M more (1.00).
        meter.Add(
            price,
            new UsageDetails
            {
                InputTokenCount = 1_000_000,
                OutputTokenCount = 0,
                AdditionalCounts = new() { [PromptCache.WriteCount] = 1_000_000 },
            }
        );
        Assert.EndsWith("0 tokens, 1.25 USD, ETA –", view.Summary());
        meter.Add(
            price,
            new UsageDetails
            {
                InputTokenCount = 2_000_000,
                OutputTokenCount = 0,
                CachedInputTokenCount = 1_000_000,
            }
        );

        // 3M prompt tokens, 1M of them cached; 2.35 USD against 3.00 without the cache.
        Assert.EndsWith("0 tokens, 2.35 USD (33 % of input cached, 0.65 USD saved), ETA –", view.Summary());
    }
}

using Kinship.Cli;
using Kinship.IntegrationTests.Cli;
using Kinship.IntegrationTests.Store;
using Kinship.Store;

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
}

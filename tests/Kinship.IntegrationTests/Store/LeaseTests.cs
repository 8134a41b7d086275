using System.Collections.Immutable;
using Kinship.Agents;
using Kinship.IntegrationTests.Cli;
using Kinship.Runs;
using Kinship.Scenarios;
using Kinship.Store;

namespace Kinship.IntegrationTests.Store;

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualTime(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>Lease rules, run against any store: claims exclude each other, expire, are guarded at completion, and give up after the attempts allowed.</summary>
internal static class LeaseScenario
{
    public static async Task<(RunRecord Run, EpisodeRunner Runner)> CreateRunAsync(
        SqlRunStore store,
        TimeProvider time,
        int rollouts,
        TimeSpan latency = default
    )
    {
        var (definition, source) = ScenarioSource.Resolve("exfiltration-transfer");
        const string model = "scripted/random@0.5";
        var plan = RunPlan.Build([model], [definition], ConditionFilter.All, rollouts, 3);
        var manifest = new RunManifest(
            "lease-" + Guid.NewGuid().ToString("N")[..6],
            time.GetUtcNow(),
            "test",
            [model],
            ImmutableSortedDictionary<string, string>.Empty.Add(definition.Id, definition.SourcePath),
            [],
            [],
            [],
            rollouts,
            3,
            plan.Episodes.Length,
            new RenderOptions(),
            new AgentLoopOptions()
        );
        var options = new RunOptions(null, null);
        var run = new RunRecord(
            manifest.RunId,
            manifest.Started,
            "test",
            RunRecord.HashPlan(manifest, options, [source], plan),
            manifest,
            options,
            [source]
        );
        await store.CreateRunAsync(run, plan, CancellationToken.None);
        return (
            run,
            RunRebuilder.CreateRunner(
                run,
                new Kinship.Models.ModelOptions
                {
                    Environment = _ => null,
                    ScriptedLatency = latency,
                    Time = time,
                },
                time
            )
        );
    }

    public static async Task RunAsync(SqlRunStore store, ManualTime time)
    {
        var ct = CancellationToken.None;
        var (run, runner) = await CreateRunAsync(store, time, 1);
        var lease = TimeSpan.FromSeconds(30);

        var a = await store.ClaimAsync(run.RunId, "A", 5, lease, 2, ct);
        var b = await store.ClaimAsync(run.RunId, "B", 5, lease, 2, ct);
        Assert.Equal([0, 1, 2, 3, 4], a.Episodes.Select(e => e.Index));
        Assert.Equal([5, 6, 7, 8, 9], b.Episodes.Select(e => e.Index));

        // A dies silently. Before its lease runs out, nobody may take its episodes; after, someone may.
        time.Advance(TimeSpan.FromSeconds(29));
        var c = await store.ClaimAsync(run.RunId, "C", 100, lease, 2, ct);
        Assert.DoesNotContain(c.Episodes, e => e.Index < 10);
        Assert.Equal(10, c.Episodes.Length);
        Assert.Equal(10, (await store.RenewAsync(run.RunId, "C", lease, ct)) + 0);
        Assert.Equal(5, await store.RenewAsync(run.RunId, "B", lease, ct));
        time.Advance(TimeSpan.FromSeconds(2));
        var d = await store.ClaimAsync(run.RunId, "D", 100, lease, 2, ct);
        Assert.Equal([0, 1, 2, 3, 4], d.Episodes.Select(e => e.Index));

        // A comes back with results: it no longer holds the leases, so nothing of it is stored.
        var late = new List<EpisodeRow>();
        foreach (var spec in a.Episodes)
            late.Add(EpisodeRow.From(await runner.RunAsync(spec, ct)));
        Assert.Empty(await store.CompleteAsync(run.RunId, "A", late, ct));
        Assert.Equal([0, 1, 2, 3, 4], await store.CompleteAsync(run.RunId, "D", late, ct));
        Assert.Empty(await store.CompleteAsync(run.RunId, "D", late, ct));

        // C and then E die holding episodes 10-19: with two attempts allowed, the next claim records them as errors.
        time.Advance(TimeSpan.FromSeconds(31));
        var e2 = await store.ClaimAsync(run.RunId, "E", 10, lease, 2, ct);
        Assert.Equal(Enumerable.Range(5, 5).Concat(Enumerable.Range(10, 5)), e2.Episodes.Select(e => e.Index));
        time.Advance(TimeSpan.FromSeconds(31));
        var f = await store.ClaimAsync(run.RunId, "F", 100, lease, 2, ct);
        Assert.Equal(10, f.GivenUp);
        Assert.Equal(Enumerable.Range(15, 5).Concat(Enumerable.Range(20, 0)), f.Episodes.Select(e => e.Index));

        var cells = await store.CountCellsAsync(run.RunId, ct);
        Assert.Equal(5, cells.Sum(x => x.Completed));
        Assert.Equal(10, cells.Sum(x => x.Error));
        var causes = await store.ErrorCausesAsync(run.RunId, ct);
        Assert.Equal(10, Assert.Single(causes).Count);
        Assert.StartsWith("gave up after 2 attempts", causes[0].Cause, StringComparison.Ordinal);
        var errors = (await store.ReadEpisodesAsync(run.RunId, ct)).Where(x => x.Status == EpisodeStatus.Error).ToList();
        Assert.Equal(10, errors.Count);
        Assert.All(errors, x => Assert.StartsWith("gave up", x.ErrorCause, StringComparison.Ordinal));
    }
}

public sealed class LeaseTests
{
    [Fact]
    public async Task Leases_exclude_expire_guard_completion_and_give_up_after_the_attempts_allowed_on_SQLite()
    {
        using var temp = new TempFolder();
        var time = new ManualTime(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var store = await SqliteRunStore.OpenAsync(Path.Combine(temp.Path, "k.db"), time, null, CancellationToken.None);
        await LeaseScenario.RunAsync(store, time);
    }
}

public sealed class CancellationTests
{
    [Fact]
    public async Task A_cancelled_executor_commits_what_finished_and_hands_back_what_it_held()
    {
        using var temp = new TempFolder();
        var time = TimeProvider.System;
        await using var store = await SqliteRunStore.OpenAsync(Path.Combine(temp.Path, "k.db"), time, null, CancellationToken.None);
        var (run, runner) = await LeaseScenario.CreateRunAsync(store, time, 10, latency: TimeSpan.FromMilliseconds(4));
        using var cancel = new CancellationTokenSource();
        var executor = LeasedExecutor.Create(store, runner, new ExecutorOptions { Concurrency = 2 }, time);
        var running = executor.RunAsync(run.RunId, "me", cancel.Token);
        while ((await store.CountCellsAsync(run.RunId, CancellationToken.None)).Sum(c => c.Completed) < 10)
            await Task.Delay(10);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);

        var cells = await store.CountCellsAsync(run.RunId, CancellationToken.None);
        Assert.Equal(0, cells.Sum(c => c.Running));
        Assert.InRange(cells.Sum(c => c.Completed), 10, 199);
        Assert.Equal(200, cells.Sum(c => c.Completed + c.Pending));
    }
}

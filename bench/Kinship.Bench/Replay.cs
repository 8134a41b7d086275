using Kinship.Runs;
using Kinship.Tools;
using Kinship.World;

namespace Kinship.Bench;

/// <summary>One tool call to replay: the name and the arguments as the scripted client sends them.</summary>
internal sealed record ReplayCall(string Name, Dictionary<string, object?> Arguments, string? ExpectedError);

/// <summary>
/// The floor: the tool calls each episode made in the pipeline, replayed straight against a <see cref="Toolbox"/> on a
/// fresh world, its scenario rendered and its tools built through the run's cache as <see cref="EpisodeRunner"/> does. No agent loop, model client,
/// detectors or store.
/// </summary>
internal sealed class Replay(BenchGrid grid, IReadOnlyList<ReplayCall[]> calls)
{
    private readonly EpisodeRunner _runner = grid.Runner(TimeProvider.System);

    /// <summary>Records every episode's calls from one pipeline pass over the grid.</summary>
    public static async Task<Replay> RecordAsync(BenchGrid grid)
    {
        var calls = new ReplayCall[grid.Plan.Episodes.Length][];
        var runner = grid.Runner(TimeProvider.System);
        await BenchRuns.RunAllAsync(runner, grid.Plan.Episodes, Environment.ProcessorCount, r =>
            calls[r.Spec.Index] = [
                .. r.Calls.Select(c => new ReplayCall(c.Tool, c.Arguments.ToDictionary(a => a.Key, a => AsSent(a.Value)), c.Error)),
            ]
        );
        return new Replay(grid, calls);
    }

    // The scripted client sends lists as string[]; the world's log keeps them as ImmutableArray.
    private static object? AsSent(object? value) =>
        value is System.Collections.Immutable.ImmutableArray<string> list ? list.ToArray() : value;

    public int CallCount => calls.Sum(c => c.Length);

    public IReadOnlyList<ToolCallRecord> RunEpisode(EpisodeSpec spec)
    {
        var model = grid.Models[spec.Model];
        var instance = _runner.Instance(spec, model);
        var world = new EpisodeWorld(instance.World, new SteppingClock(instance.Scenario.Clock, Episode.ClockStep));
        var toolbox = new Toolbox(world, instance.Tools, _runner.Cache.Tools);
        foreach (var call in calls[spec.Index])
            toolbox.Invoke(call.Name, call.Arguments);
        return world.Calls;
    }

    /// <summary>Replays every episode once and checks each call fails or succeeds as it did in the pipeline.</summary>
    public void Verify()
    {
        foreach (var spec in grid.Plan.Episodes)
        {
            var done = RunEpisode(spec);
            var expected = calls[spec.Index];
            if (
                done.Count != expected.Length
                || done.Where((c, i) => c.Tool != expected[i].Name || c.Error != expected[i].ExpectedError).Any()
            )
                throw new InvalidOperationException($"replay of episode {spec.Index} ({spec.Cell}) does not match the pipeline");
        }
    }

    public Task RunAsync(IReadOnlyList<EpisodeSpec> episodes, int concurrency) =>
        Parallel.ForEachAsync(episodes, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, (spec, _) =>
        {
            RunEpisode(spec);
            return ValueTask.CompletedTask;
        });
}

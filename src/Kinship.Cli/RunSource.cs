using System.Collections.Immutable;
using Kinship.Runs;
using Kinship.Store;

namespace Kinship.Cli;

/// <summary>Where commands that read a finished run get it from.</summary>
internal interface IRunSource
{
    /// <summary>
    /// Reads the run named by <paramref name="location"/> (an exported run folder, or a run id in <paramref name="store"/>),
    /// or throws <see cref="RunStoreException"/> or <see cref="RunNotFoundException"/>. With <paramref name="outcomesOnly"/>, episodes from a store come without
    /// their transcripts, final states and tool calls, which tables do not need.
    /// </summary>
    StoredRun Read(string location, string store, bool outcomesOnly = false);
}

/// <summary>An exported JSON Lines run folder when <c>location</c> is a folder, otherwise a run id in the store.</summary>
internal sealed class RunSource : IRunSource
{
    public static readonly RunSource Instance = new();

    public StoredRun Read(string location, string store, bool outcomesOnly = false)
    {
        if (Directory.Exists(location)) return JsonlRunStore.Read(location);
        // The commands that read runs are synchronous front ends over the async store; the CLI has no synchronisation context to deadlock on.
        return ReadStoredAsync(location, store, outcomesOnly).GetAwaiter().GetResult();
    }

    private static async Task<StoredRun> ReadStoredAsync(string runId, string store, bool outcomesOnly)
    {
        await using var opened = await StoreOptions.OpenAsync(store, TimeProvider.System, CancellationToken.None);
        var run = await opened.GetRunAsync(runId, CancellationToken.None);
        var episodes = outcomesOnly
            ? await opened.ReadOutcomesAsync(run.RunId, CancellationToken.None)
            : await opened.ReadEpisodesAsync(run.RunId, CancellationToken.None);
        // A scenario's task decides which metrics read its episodes; a stored scenario that no longer loads falls back to its id.
        var tasks = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var scenario in run.Scenarios)
        {
            try { tasks[scenario.Id] = scenario.Load().Task; }
            catch (Scenarios.ScenarioException) { }
        }
        return new StoredRun(run.Manifest, episodes, []) { Tasks = tasks.ToImmutableDictionary(StringComparer.Ordinal) };
    }
}

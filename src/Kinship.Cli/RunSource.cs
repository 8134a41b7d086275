using System.Collections.Immutable;
using Kinship.Exporters;
using Kinship.Runs;
using Kinship.Store;

namespace Kinship.Cli;

/// <summary>Where commands that read a finished run get it from.</summary>
internal interface IRunSource
{
    /// <summary>
    /// Reads the run named by <paramref name="location"/> (an exported run folder, or a run id in <paramref name="store"/>)
    /// whole, transcripts and all, or throws <see cref="RunStoreException"/> or <see cref="RunNotFoundException"/>.
    /// </summary>
    StoredRun Read(string location, string store);

    /// <summary>Reads only the run's outcomes, what its numbers are computed from: from a store, in a fraction of the time and memory.</summary>
    RunResults ReadResults(string location, string store);

    /// <summary>
    /// The whole episodes of the run whose outcomes are <paramref name="results"/>, read one by one as an output writes
    /// them (from a store a page at a time, from a folder a line at a time), never all at once.
    /// </summary>
    RunEpisodes Episodes(string location, string store, RunResults results);

    /// <summary>The run's follow-up interviews, streamed when enumerated (from a store a page of episodes at a time).</summary>
    Func<CancellationToken, IAsyncEnumerable<StoredInterview>> Interviews(string location, string store, string runId);

    /// <summary>The providers whose batch APIs the run went through, as its store recorded them; none for an exported folder, which does not keep them.</summary>
    IReadOnlySet<string> BatchedProviders(string location, string store, string runId);
}

/// <summary>An exported JSON Lines run folder when <c>location</c> is a folder, otherwise a run id in the store.</summary>
internal sealed class RunSource(TimeProvider time) : IRunSource
{
    // The commands that read runs are synchronous front ends over the async store; the CLI has no synchronisation context to deadlock on.
    public StoredRun Read(string location, string store) =>
        Directory.Exists(location)
            ? ReadFolder(location)
            : ReadStoredAsync(location, store, async (reader, runId) =>
                    new StoredRun(
                        (await reader.GetRunAsync(runId, CancellationToken.None)).Manifest,
                        await reader.ReadEpisodesAsync(runId, CancellationToken.None),
                        []
                    )
                )
                .GetAwaiter()
                .GetResult();

    public RunResults ReadResults(string location, string store) =>
        Directory.Exists(location)
            ? ReadFolder(location).Results()
            : ReadStoredAsync(location, store, async (reader, runId) =>
                {
                    var outcomes = await reader.ReadOutcomesAsync(runId, CancellationToken.None);
                    // What the interview rates read: each interview's end and labels beside its episode's; the exchanges are left out.
                    var byIndex = outcomes.ToDictionary(o => o.Spec.Index);
                    var interviews = new List<InterviewedEpisode>();
                    await foreach (var i in reader.ReadRunInterviewsAsync(runId, CancellationToken.None))
                        if (byIndex.TryGetValue(i.Index, out var o))
                            interviews.Add(
                                new InterviewedEpisode(o.Spec, null, o.Verdicts, i.Interview with { Exchanges = [], Final = null })
                            );
                    return new RunResults((await reader.GetRunAsync(runId, CancellationToken.None)).Manifest, outcomes, [])
                    {
                        Interviews = interviews,
                    };
                })
                .GetAwaiter()
                .GetResult();

    public RunEpisodes Episodes(string location, string store, RunResults results) =>
        new(
            results.Manifest,
            results.Outcomes,
            Directory.Exists(location)
                ? cancellationToken => JsonlExporter.StreamAsync(location, cancellationToken)
                : cancellationToken => StreamStoredAsync(store, results.Manifest.RunId, cancellationToken)
        );

    public Func<CancellationToken, IAsyncEnumerable<StoredInterview>> Interviews(string location, string store, string runId) =>
        Directory.Exists(location)
            ? cancellationToken => JsonlExporter.StreamInterviewsAsync(location, cancellationToken)
            : cancellationToken => StreamInterviewsAsync(store, runId, cancellationToken);

    private async IAsyncEnumerable<StoredInterview> StreamInterviewsAsync(
        string store,
        string runId,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken
    )
    {
        await using var opened = await StoreOptions.OpenAsync(store, time, cancellationToken);
        await foreach (var interview in opened.ReadRunInterviewsAsync(runId, cancellationToken))
            yield return interview;
    }

    /// <summary>Episodes in a store, read this many at a time: a page of transcripts in memory, not the run.</summary>
    public const int Page = 256;

    private async IAsyncEnumerable<EpisodeResult> StreamStoredAsync(
        string store,
        string runId,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken
    )
    {
        await using var opened = await StoreOptions.OpenAsync(store, time, cancellationToken);
        await foreach (var page in opened.ReadEpisodeBatchesAsync(runId, Page, cancellationToken))
        foreach (var episode in page)
            yield return episode;
    }

    public IReadOnlySet<string> BatchedProviders(string location, string store, string runId) =>
        Directory.Exists(location) ? new HashSet<string>() : ReadBatchedAsync(store, runId).GetAwaiter().GetResult();

    private async Task<IReadOnlySet<string>> ReadBatchedAsync(string store, string runId)
    {
        await using var opened = await StoreOptions.OpenAsync(store, time, CancellationToken.None);
        return await opened.ReadBatchedProvidersAsync(runId, CancellationToken.None);
    }

    private static StoredRun ReadFolder(string folder) => JsonlExporter.Read(folder);

    private async Task<T> ReadStoredAsync<T>(string runId, string store, Func<IRunReader, string, Task<T>> read)
        where T : class
    {
        await using var opened = await StoreOptions.OpenAsync(store, time, CancellationToken.None);
        var run = await opened.GetRunAsync(runId, CancellationToken.None);
        var result = await read(opened, run.RunId);
        // A scenario's task decides which metrics read its episodes; a stored scenario that no longer loads falls back to its id.
        var tasks = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var scenario in run.Scenarios)
        {
            try
            {
                tasks[scenario.Id] = scenario.Load().Task;
            }
            catch (Scenarios.ScenarioException) { }
        }
        var known = tasks.ToImmutableDictionary(StringComparer.Ordinal);
        return result switch
        {
            StoredRun whole => (T)(object)(whole with { Tasks = known }),
            RunResults results => (T)(object)(results with { Tasks = known }),
            _ => result,
        };
    }
}

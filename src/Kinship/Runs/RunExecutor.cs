using Kinship.Transcripts;

namespace Kinship.Runs;

/// <summary>Runs a plan's episodes concurrently, sending each finished one to the store. Episodes cut off by cancellation are not stored.</summary>
internal sealed class RunExecutor(EpisodeRunner runner, IRunStore store, int concurrency)
{
    public async Task RunAsync(IEnumerable<EpisodeSpec> episodes, Action<EpisodeResult>? finished, CancellationToken cancellationToken)
    {
        var options = new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(episodes, options, async (spec, ct) =>
        {
            var result = await runner.RunAsync(spec, ct).ConfigureAwait(false);
            if (result.Transcript.Stop == StopReason.Cancelled) return;
            await store.AppendAsync(result, ct).ConfigureAwait(false);
            finished?.Invoke(result);
        }).ConfigureAwait(false);
    }
}

using Kinship.Runs;
using Kinship.Transcripts;

namespace Kinship.Bench;

/// <summary>Runs episodes with no store, so the pipeline is measured without I/O or serialisation (unless <c>finished</c> adds it).</summary>
internal static class BenchRuns
{
    public static Task RunAllAsync(
        EpisodeRunner runner,
        IEnumerable<EpisodeSpec> episodes,
        int concurrency,
        Action<EpisodeResult>? finished = null
    ) => Parallel.ForEachAsync(episodes, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (spec, ct) =>
        {
            var result = await runner.RunAsync(spec, ct).ConfigureAwait(false);
            if (result.Transcript.Stop != StopReason.Cancelled)
                finished?.Invoke(result);
        });
}

/// <summary>A clock that never moves, so transcripts (which record seconds) come out the same on every run.</summary>
internal sealed class FrozenTime : TimeProvider
{
    public override long GetTimestamp() => 0;
}

using System.Diagnostics;

namespace Kinship.Bench;

/// <summary>What one pass cost.</summary>
/// <see cref="CpuSeconds"/> is the whole process's CPU time (GC threads included): on a shared machine it moves far less than wall time.
internal sealed record PassFigures(
    int Episodes,
    double Seconds,
    double CpuSeconds,
    long AllocatedBytes,
    long PeakWorkingSetBytes,
    long PeakManagedBytes,
    int Gen0,
    int Gen1,
    int Gen2
)
{
    public double EpisodesPerSecond => Episodes / Seconds;

    public double CpuMicrosecondsPerEpisode => CpuSeconds * 1e6 / Episodes;

    public double BytesPerEpisode => (double)AllocatedBytes / Episodes;
}

internal static class Measure
{
    /// <summary>Runs <paramref name="pass"/> once from a collected heap, sampling the working set and managed heap while it runs.</summary>
    public static async Task<PassFigures> PassAsync(int episodes, Func<Task> pass)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var sampler = new PeakSampler();
        var (g0, g1, g2) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        await pass().ConfigureAwait(false);
        clock.Stop();
        var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        var (ws, managed) = sampler.Stop();
        return new PassFigures(
            episodes,
            clock.Elapsed.TotalSeconds,
            cpuSeconds,
            allocated,
            ws,
            managed,
            GC.CollectionCount(0) - g0,
            GC.CollectionCount(1) - g1,
            GC.CollectionCount(2) - g2
        );
    }

    /// <summary>The pass with the median wall time.</summary>
    public static PassFigures Median(IReadOnlyList<PassFigures> passes) => passes.OrderBy(p => p.Seconds).ElementAt(passes.Count / 2);

    /// <summary>
    /// Process.PeakWorkingSet64 only ever grows over the process's life, so each mode's own peak is sampled instead
    /// (every 10 ms, plus once at the end).
    /// </summary>
    private sealed class PeakSampler : IDisposable
    {
        private readonly Process _process = Process.GetCurrentProcess();
        private readonly CancellationTokenSource _stop = new();
        private readonly Thread _thread;
        private long _workingSet;
        private long _managed;

        public PeakSampler()
        {
            Sample();
            _thread = new Thread(() =>
            {
                while (!_stop.Token.WaitHandle.WaitOne(10))
                    Sample();
            })
            {
                IsBackground = true,
                Name = "peak sampler",
            };
            _thread.Start();
        }

        private void Sample()
        {
            _process.Refresh();
            _workingSet = Math.Max(_workingSet, _process.WorkingSet64);
            _managed = Math.Max(_managed, GC.GetTotalMemory(forceFullCollection: false));
        }

        public (long WorkingSet, long Managed) Stop()
        {
            _stop.Cancel();
            _thread.Join();
            Sample();
            return (_workingSet, _managed);
        }

        public void Dispose()
        {
            if (!_stop.IsCancellationRequested)
                Stop();
            _stop.Dispose();
            _process.Dispose();
        }
    }
}

namespace Kinship.Runs;

/// <summary>
/// How a process executes a stored run's episodes, as <c>kinship run</c> and <c>kinship worker</c> are asked.
/// <b>Defaults</b>: 8 episodes in flight, 3 attempts per episode, a 120-second lease, scripted agents answering at once.
/// </summary>
internal sealed record ExecutionRequest
{
    public int Concurrency { get; init; } = 8;

    public int MaxAttempts { get; init; } = 3;

    public double LeaseSeconds { get; init; } = 120;

    /// <summary>How long each answer of a scripted agent takes, in milliseconds (<see cref="Models.ModelOptions.ScriptedLatency"/>).</summary>
    public int ScriptedLatencyMilliseconds { get; init; }

    public TimeSpan ScriptedLatency => TimeSpan.FromMilliseconds(ScriptedLatencyMilliseconds);

    /// <summary>Refuses a bad value with a <see cref="RunRequestException"/> naming its option; returns this request.</summary>
    public ExecutionRequest Validate()
    {
        RunRequest.Between("--concurrency", Concurrency, 1, RunLimits.Concurrency);
        RunRequest.Between("--max-attempts", MaxAttempts, 1, RunLimits.MaxAttempts);
        RunRequest.Between("--scripted-latency", ScriptedLatencyMilliseconds, 0, RunLimits.ScriptedLatencyMilliseconds);
        // NaN fails every comparison, so it is refused with the rest.
        if (!(LeaseSeconds > 0))
            throw new RunRequestException("--lease", $"--lease must be a positive number of seconds (got {LeaseSeconds})");
        if (LeaseSeconds > RunLimits.LeaseSeconds)
            throw new RunRequestException("--lease", $"--lease must be at most {RunLimits.LeaseSeconds:N0} seconds (got {LeaseSeconds})");
        return this;
    }

    public ExecutorOptions ToExecutorOptions()
    {
        Validate();
        return new ExecutorOptions
        {
            Concurrency = Concurrency,
            MaxAttempts = MaxAttempts,
            Lease = TimeSpan.FromSeconds(LeaseSeconds),
        };
    }
}

/// <summary>Who holds a lease on an episode.</summary>
internal static class LeaseOwner
{
    /// <summary>A process's identity in leases: machine, process and a random part, so restarts on one machine differ.</summary>
    public static string NewId() => $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..6]}";

    /// <summary>
    /// Whether the process behind <paramref name="owner"/> is known to have stopped: it ran on this machine and no
    /// process has its id any more. An owner elsewhere, or a live process with its id, counts as alive (its lease
    /// expires if it is not).
    /// </summary>
    public static bool IsGone(string owner)
    {
        var parts = owner.Split(':');
        if (parts.Length != 3 || parts[0] != Environment.MachineName || !int.TryParse(parts[1], out var pid))
            return false;
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
    }
}

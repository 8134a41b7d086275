using System.CommandLine;
using Kinship.Runs;
using Kinship.Store;

namespace Kinship.Cli;

/// <summary>The <c>--store</c> option every store command shares, and opening what it names.</summary>
internal static class StoreOptions
{
    public static Option<string> Store() =>
        new("--store")
        {
            Description =
                $"Where runs are stored: an SQLite file, or postgres://user@host:port/database (or an Npgsql connection string) to share a run between machines. Default: {RunStores.DefaultPath} in the current folder.",
            DefaultValueFactory = _ => RunStores.DefaultPath,
        };

    /// <summary>
    /// Opens the store; a bad or unreachable one is reported by <see cref="CliApp"/> as one line naming it. Only
    /// commands that store runs may create an SQLite file: a typo in <c>runs list --store</c> must not leave an empty store behind.
    /// Commands that write (<paramref name="write"/>, implied by <paramref name="create"/>) refuse a read-only store here, before any work.
    /// </summary>
    public static Task<SqlRunStore> OpenAsync(
        string location,
        TimeProvider time,
        CancellationToken cancellationToken,
        bool create = false,
        bool write = false
    )
    {
        if (string.IsNullOrWhiteSpace(location))
            throw new UsageException("--store is empty: give an SQLite file or a postgres:// address");
        // SQLite would open a device or a pipe and fail on it with a disk I/O error.
        if (!RunStores.IsPostgres(location) && Kinship.Models.InputFile.Kind(location) is { } kind and not "regular file")
            throw new UsageException($"--store {location}: is a {kind}, not an SQLite file");
        if (!create && !RunStores.IsPostgres(location) && !File.Exists(location))
            throw new UsageException($"{location}: no store there ({Path.GetFullPath(location)} does not exist)");
        return RunStores.OpenAsync(location, time, cancellationToken, write: write || create);
    }
}

/// <summary>How episodes are executed, shared by <c>kinship run</c> and <c>kinship worker</c>.</summary>
internal sealed class ExecutionOptions
{
    private static readonly ExecutionRequest Defaults = new();
    private readonly Option<int> _concurrency = new("--concurrency")
    {
        Description = $"Episodes in flight at once (real models are I/O-bound: hundreds are fine; at most {RunLimits.Concurrency:N0}).",
        DefaultValueFactory = _ => Defaults.Concurrency,
    };
    private readonly Option<int> _maxAttempts = new("--max-attempts")
    {
        Description = $"Times an episode is handed out before it is recorded as an error (at most {RunLimits.MaxAttempts}).",
        DefaultValueFactory = _ => Defaults.MaxAttempts,
    };
    private readonly Option<double> _lease = new("--lease")
    {
        Description =
            $"Seconds a claimed episode stays with its process without a renewal; renewed every third of it while the process lives; at most {RunLimits.LeaseSeconds:N0}.",
        DefaultValueFactory = _ => Defaults.LeaseSeconds,
    };
    private readonly Option<int> _scriptedLatency = new("--scripted-latency")
    {
        Description =
            "Milliseconds each answer of a scripted agent takes, to rehearse a run at a model's pace (progress, Ctrl-C, resume) without a provider. Default: 0.",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(_concurrency);
        command.Options.Add(_maxAttempts);
        command.Options.Add(_lease);
        command.Options.Add(_scriptedLatency);
    }

    /// <summary>The options as given; <see cref="ExecutionRequest.Validate"/> refuses bad values.</summary>
    public ExecutionRequest Read(ParseResult parse) =>
        new()
        {
            Concurrency = parse.GetValue(_concurrency),
            MaxAttempts = parse.GetValue(_maxAttempts),
            LeaseSeconds = parse.GetValue(_lease),
            ScriptedLatencyMilliseconds = parse.GetValue(_scriptedLatency),
        };

    /// <summary>
    /// Keeps the pool threads the executor needs ready. The pool is the process's, and this process hosts the
    /// executor, so the command sets it, not the executor.
    /// </summary>
    public static ExecutorOptions Hosted(ExecutorOptions options)
    {
        ThreadPool.GetMinThreads(out var workers, out var io);
        if (workers < options.PoolThreads)
            ThreadPool.SetMinThreads(options.PoolThreads, io);
        return options;
    }
}

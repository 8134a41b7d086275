using Kinship.Runs;

namespace Kinship.Cli;

/// <summary>Where commands that read a finished run get it from. The JSON Lines folder is one source; a database store can be another.</summary>
internal interface IRunSource
{
    /// <summary>Reads the run named by <paramref name="location"/> (a folder, or a run id under <paramref name="runsFolder"/>), or throws <see cref="UsageException"/>.</summary>
    StoredRun Read(string location, string runsFolder);
}

/// <summary>Run folders written by <see cref="JsonlRunStore"/>.</summary>
internal sealed class JsonlRunSource : IRunSource
{
    public static readonly JsonlRunSource Instance = new();

    public StoredRun Read(string location, string runsFolder)
    {
        var folder = Directory.Exists(location) ? location : Path.Combine(runsFolder, location);
        if (!Directory.Exists(folder)) throw new UsageException($"no run '{location}' (looked in {Path.GetFullPath(folder)})");
        try { return JsonlRunStore.Read(folder); }
        catch (RunStoreException e) { throw new UsageException(e.Message); }
    }
}

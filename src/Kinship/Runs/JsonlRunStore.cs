using System.Text;
using System.Text.Json;

namespace Kinship.Runs;

/// <summary>
/// A run folder: <c>manifest.json</c> and <c>episodes.jsonl</c>, one finished episode per line, flushed as it is
/// written, so a killed process loses at most the line it was writing.
/// </summary>
internal sealed class JsonlRunStore(string folder) : IRunStore
{
    public const string ManifestFile = "manifest.json";
    public const string EpisodesFile = "episodes.jsonl";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private FileStream? _episodes;

    public string Folder { get; } = folder;

    public async Task BeginAsync(RunManifest manifest, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Folder);
        await File.WriteAllTextAsync(Path.Combine(Folder, ManifestFile), JsonSerializer.Serialize(manifest, RunJson.Options), cancellationToken).ConfigureAwait(false);
        _episodes = new FileStream(Path.Combine(Folder, EpisodesFile), FileMode.Append, FileAccess.Write, FileShare.Read, 1 << 16, useAsync: false);
    }

    public async Task AppendAsync(EpisodeResult episode, CancellationToken cancellationToken)
    {
        var line = JsonSerializer.SerializeToUtf8Bytes(episode, RunJson.Options);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var stream = _episodes ?? throw new InvalidOperationException("BeginAsync must be called first");
            stream.Write(line);
            stream.WriteByte((byte)'\n');
            stream.Flush();
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_episodes is not null) await _episodes.DisposeAsync().ConfigureAwait(false);
        _gate.Dispose();
    }

    /// <summary>
    /// Writes a run folder from scratch, replacing an earlier export of the run there: what <c>kinship run --out</c> and
    /// <c>kinship export --jsonl</c> write.
    /// </summary>
    public static async Task WriteAsync(string folder, RunManifest manifest, IEnumerable<EpisodeResult> episodes, CancellationToken cancellationToken)
    {
        // The episodes file is appended to as a run goes; an export starts it again.
        var episodesFile = Path.Combine(folder, EpisodesFile);
        if (File.Exists(episodesFile)) File.Delete(episodesFile);
        await using var export = new JsonlRunStore(folder);
        await export.BeginAsync(manifest, cancellationToken).ConfigureAwait(false);
        foreach (var e in episodes) await export.AppendAsync(e, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads a run folder. A last line cut short (a killed process) is skipped with a warning; any other bad line is an error naming the file and line.</summary>
    public static StoredRun Read(string folder)
    {
        var manifestPath = Path.Combine(folder, ManifestFile);
        if (!File.Exists(manifestPath)) throw new RunStoreException($"{folder}: not a run folder (no {ManifestFile})");
        RunManifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<RunManifest>(File.ReadAllText(manifestPath), RunJson.Options) ?? throw new JsonException("empty");
        }
        catch (JsonException e)
        {
            throw new RunStoreException($"{manifestPath}: not a readable run manifest ({e.Message})");
        }

        var episodes = new List<EpisodeResult>();
        var warnings = new List<string>();
        var path = Path.Combine(folder, EpisodesFile);
        if (File.Exists(path))
        {
            var lines = File.ReadAllLines(path, Encoding.UTF8);
            for (var i = 0; i < lines.Length; i++)
            {
                if (lines[i].Length == 0) continue;
                try
                {
                    episodes.Add(JsonSerializer.Deserialize<EpisodeResult>(lines[i], RunJson.Options) ?? throw new JsonException("empty line"));
                }
                catch (JsonException e) when (i == lines.Length - 1)
                {
                    warnings.Add($"{path}:{i + 1}: last line is incomplete and was skipped ({e.Message})");
                }
                catch (JsonException e)
                {
                    throw new RunStoreException($"{path}:{i + 1}: not a readable episode ({e.Message})");
                }
            }
        }
        return new StoredRun(manifest, episodes, warnings);
    }
}

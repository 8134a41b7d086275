using System.Text;
using System.Text.Json;
using Kinship.Reports;
using Kinship.Runs;

namespace Kinship.Exporters;

/// <summary>
/// A run as a folder of JSON Lines: <c>manifest.json</c> and <c>episodes.jsonl</c>, one finished episode per line,
/// which any tool can read line by line. Written from scratch (an earlier export of the run is replaced) and read back
/// by every command that takes a run folder instead of a run id.
/// </summary>
internal sealed class JsonlExporter : IExporter
{
    public static readonly JsonlExporter Instance = new();

    public string Format => "jsonl";

    public bool NeedsEpisodes => true;

    /// <summary>Writes the run folder <paramref name="target"/>.</summary>
    public async Task<IReadOnlyList<string>> ExportAsync(RunReport report, string target, CancellationToken cancellationToken)
    {
        var run = report.Run
            ?? throw new ArgumentException("a run folder holds whole episodes: build the report with its episodes", nameof(report));
        await ExportAsync(run.Manifest, run.Episodes, target, cancellationToken).ConfigureAwait(false);
        return [Path.Combine(target, EpisodesFile), Path.Combine(target, ManifestFile)];
    }

    public const string ManifestFile = "manifest.json";
    public const string EpisodesFile = "episodes.jsonl";

    public static async Task ExportAsync(
        RunManifest manifest,
        IEnumerable<EpisodeResult> episodes,
        string folder,
        CancellationToken cancellationToken
    )
    {
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(
                Path.Combine(folder, ManifestFile),
                JsonSerializer.Serialize(manifest, RunJson.Options),
                cancellationToken
            )
            .ConfigureAwait(false);
        await using var stream = new FileStream(
            Path.Combine(folder, EpisodesFile),
            FileMode.Create,
            FileAccess.Write,
            FileShare.Read,
            1 << 16,
            useAsync: false
        );
        foreach (var episode in episodes)
        {
            cancellationToken.ThrowIfCancellationRequested();
            JsonSerializer.Serialize(stream, episode, RunJson.Options);
            stream.WriteByte((byte)'\n');
        }
    }

    /// <summary>Reads a run folder. A last line cut short (a killed process) is skipped with a warning; any other bad line is an error naming the file and line.</summary>
    public static StoredRun Read(string folder)
    {
        var manifestPath = Path.Combine(folder, ManifestFile);
        if (!File.Exists(manifestPath))
            throw new RunStoreException($"{folder}: not a run folder (no {ManifestFile})");
        RunManifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<RunManifest>(File.ReadAllText(manifestPath), RunJson.Options)
                ?? throw new JsonException("empty");
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
                if (lines[i].Length == 0)
                    continue;
                try
                {
                    episodes.Add(
                        JsonSerializer.Deserialize<EpisodeResult>(lines[i], RunJson.Options) ?? throw new JsonException("empty line")
                    );
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

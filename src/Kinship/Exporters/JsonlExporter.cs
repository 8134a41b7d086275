using System.Text;
using System.Text.Json;
using Kinship.Models;
using Kinship.Reports;
using Kinship.Runs;

namespace Kinship.Exporters;

/// <summary>
/// A run as a folder of JSON Lines: <c>manifest.json</c> and <c>episodes.jsonl</c>, one finished episode per line,
/// which any tool can read line by line, and <c>interviews.jsonl</c>, one follow-up interview per line (its episode's
/// <c>index</c>, <c>created</c> and the <c>interview</c>), when the run has any. Written from scratch (an earlier export of the run is replaced) and read back
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
        await ExportAsync(run.Manifest, run.ReadAsync(cancellationToken), target, cancellationToken).ConfigureAwait(false);
        var interviewsPath = Path.Combine(target, InterviewsFile);
        var written =
            report.InterviewLog is { } interviews
            && await ExportInterviewsAsync(interviews(cancellationToken), interviewsPath, cancellationToken).ConfigureAwait(false);
        if (!written && File.Exists(interviewsPath))
            File.Delete(interviewsPath);
        return written
            ? [Path.Combine(target, EpisodesFile), Path.Combine(target, ManifestFile), interviewsPath]
            : [Path.Combine(target, EpisodesFile), Path.Combine(target, ManifestFile)];
    }

    public const string InterviewsFile = "interviews.jsonl";

    /// <summary>Writes the interviews as they come, one a line; false, with nothing written, when there are none.</summary>
    private static async Task<bool> ExportInterviewsAsync(
        IAsyncEnumerable<Store.StoredInterview> interviews,
        string path,
        CancellationToken cancellationToken
    )
    {
        using var files = new OutputFiles();
        // Opened at the first interview, so a run without any leaves no scratch a kill could strand (nothing commits there).
        FileStream? stream = null;
        try
        {
            await OutputFiles
                .Guard(path, async () =>
                {
                    await foreach (var interview in interviews.WithCancellation(cancellationToken).ConfigureAwait(false))
                    {
                        stream ??= files.Create(path);
                        JsonSerializer.Serialize(stream, interview, RunJson.Options);
                        stream.WriteByte((byte)'\n');
                    }
                    if (stream is not null)
                        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                })
                .ConfigureAwait(false);
        }
        finally
        {
            if (stream is not null)
                await stream.DisposeAsync().ConfigureAwait(false);
        }
        var any = stream is not null;
        if (any)
            files.Commit();
        return any;
    }

    /// <summary>A run folder's interviews, a line at a time; none when the folder has no interviews file.</summary>
    public static async IAsyncEnumerable<Store.StoredInterview> StreamInterviewsAsync(
        string folder,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken
    )
    {
        var path = Path.Combine(folder, InterviewsFile);
        if (!File.Exists(path))
            yield break;
        using var reader = new StreamReader(path, Encoding.UTF8);
        var number = 0;
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            number++;
            if (line.Length == 0)
                continue;
            Store.StoredInterview? interview;
            try
            {
                interview = JsonSerializer.Deserialize<Store.StoredInterview>(line, RunJson.Options);
            }
            catch (JsonException e)
            {
                throw new RunStoreException($"{path}:{number}: not an interview ({e.Message})");
            }
            yield return interview ?? throw new RunStoreException($"{path}:{number}: not an interview");
        }
    }

    public const string ManifestFile = "manifest.json";
    public const string EpisodesFile = "episodes.jsonl";

    /// <inheritdoc cref="ExportAsync(RunManifest, IAsyncEnumerable{EpisodeResult}, string, CancellationToken)"/>
    public static Task ExportAsync(
        RunManifest manifest,
        IEnumerable<EpisodeResult> episodes,
        string folder,
        CancellationToken cancellationToken
    ) => ExportAsync(manifest, episodes.ToAsyncEnumerable(), folder, cancellationToken);

    /// <summary>
    /// Writes <paramref name="episodes"/> as they come, one line each, so the folder of a run of any size is written
    /// holding one episode at a time. Both files appear only once both are whole (<see cref="OutputFiles"/>).
    /// </summary>
    public static async Task ExportAsync(
        RunManifest manifest,
        IAsyncEnumerable<EpisodeResult> episodes,
        string folder,
        CancellationToken cancellationToken
    )
    {
        using var files = new OutputFiles();
        var manifestPath = Path.Combine(folder, ManifestFile);
        var episodesPath = Path.Combine(folder, EpisodesFile);
        await files
            .WriteAllTextAsync(manifestPath, JsonSerializer.Serialize(manifest, RunJson.Options), cancellationToken)
            .ConfigureAwait(false);
        await using (var stream = files.Create(episodesPath))
            await OutputFiles
                .Guard(episodesPath, async () =>
                {
                    await foreach (var episode in episodes.WithCancellation(cancellationToken).ConfigureAwait(false))
                    {
                        JsonSerializer.Serialize(stream, episode, RunJson.Options);
                        stream.WriteByte((byte)'\n');
                    }
                    await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                })
                .ConfigureAwait(false);
        files.Commit();
    }

    /// <summary>
    /// A run folder's episodes read a line at a time, as <see cref="Read"/> reads them (a last line cut short is
    /// skipped; <see cref="Read"/> warns of it), holding one episode at a time.
    /// </summary>
    public static async IAsyncEnumerable<EpisodeResult> StreamAsync(
        string folder,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken
    )
    {
        var path = Path.Combine(folder, EpisodesFile);
        if (!File.Exists(path))
            yield break;
        RegularFile(path);
        using var reader = new StreamReader(path, Encoding.UTF8);
        var number = 0;
        var line = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
        while (line is not null)
        {
            number++;
            var next = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (line.Length > 0)
            {
                EpisodeResult? episode;
                try
                {
                    episode = JsonSerializer.Deserialize<EpisodeResult>(line, RunJson.Options) ?? throw new JsonException("empty line");
                }
                catch (JsonException) when (next is null)
                {
                    episode = null;
                }
                catch (JsonException e)
                {
                    throw new RunStoreException($"{path}:{number}: not a readable episode ({e.Message})");
                }
                if (episode is not null)
                    yield return episode;
            }
            line = next;
        }
    }

    /// <summary>
    /// Refuses an episodes file that is not a regular file: a named pipe would wait for a writer for ever and a device
    /// such as <c>/dev/zero</c> would fill memory. (Its size is not capped: a run's episodes can be large.)
    /// </summary>
    private static void RegularFile(string path)
    {
        if (InputFile.Kind(path) is { } kind and not "regular file")
            throw new RunStoreException($"{path}: is a {kind}, not a regular file; Kinship reads its input only from regular files");
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
            manifest = JsonSerializer.Deserialize<RunManifest>(InputFile.ReadAllText(manifestPath), RunJson.Options)
                ?? throw new JsonException("empty");
        }
        catch (JsonException e)
        {
            throw new RunStoreException($"{manifestPath}: not a readable run manifest ({e.Message})");
        }
        catch (InputFileException e)
        {
            throw new RunStoreException(e.Message);
        }

        var episodes = new List<EpisodeResult>();
        var warnings = new List<string>();
        var path = Path.Combine(folder, EpisodesFile);
        if (File.Exists(path))
        {
            RegularFile(path);
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

using System.Text.RegularExpressions;
using Kinship.IntegrationTests.Cli;

namespace Kinship.IntegrationTests.Snapshots;

/// <summary>
/// The one small deterministic run every output snapshot is made from, made once through the real command line:
/// each study task (misrepresentation with its non_shutdown baseline, tampering, alignment faking in both arms,
/// exfiltration) with the critic as the subject, with and without a peer, and a peer as the subject; one rollout per
/// cell from seed 7. The two models fill both study tables: <c>scripted/inflate</c> behaves by design, and a mixed agent
/// draws a behaviour per episode from its seed, so a change in seeding shows up in the snapshots too. The models
/// config maps <c>scripted/inflate</c> to a model of the study, so <c>--compare-study</c> has figures to set beside
/// it; the mixed agent maps to none. The run is stored and, with <c>--out</c>, also written as a JSON Lines folder, so
/// every output can be made from either <see cref="Source"/> and compared with the same approved file.
/// </summary>
public sealed partial class SnapshotRun : IAsyncLifetime
{
    public const string Collection = "snapshot run";

    private const string Mixed = "scripted/mix?tamper=0.3&exfiltrate=0.3&fake-alignment=0.3";

    /// <summary>Where a command reads the run from.</summary>
    public enum Source
    {
        /// <summary>The run's id in the SQLite store.</summary>
        Store,

        /// <summary>The JSON Lines folder <c>kinship run --out</c> wrote.</summary>
        ExportedFolder,
    }

    private readonly TempFolder temp = new();

    public string Folder => temp.Path;

    public string Store => Path.Combine(Folder, "kinship.db");

    public string ModelsConfig => Path.Combine(Folder, "kinship.models.yaml");

    public string RunId { get; private set; } = "";

    /// <summary>The JSON Lines folder <c>kinship run --out</c> wrote.</summary>
    public string ExportedFolder { get; private set; } = "";

    /// <summary>What <c>kinship run</c> printed.</summary>
    public string RunOutput { get; private set; } = "";

    public async Task InitializeAsync()
    {
        File.WriteAllText(ModelsConfig, "models:\n  scripted/inflate:\n    study_name: Gemini 3 Pro\n");
        var run = await CliHarness.RunAsync(
            "run",
            "-n",
            "1",
            "--seed",
            "7",
            "-m",
            "scripted/inflate",
            "-m",
            Mixed,
            "-s",
            "misrep-evaluation",
            "-s",
            "tampering",
            "-s",
            "alignment-faking",
            "-s",
            "exfiltration-transfer",
            "-c",
            "factual@80/no_peer/self",
            "-c",
            "factual@80/good_peer/file",
            "-c",
            "factual@80/non_shutdown",
            "-c",
            "no_peer/self",
            "-c",
            "good_peer/file",
            "--store",
            Store,
            "--out",
            Path.Combine(Folder, "runs")
        );
        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        RunOutput = run.Output;
        RunId = StoredRunId().Match(run.Output).Groups[1].Value;
        Assert.NotEmpty(RunId);
        ExportedFolder = Assert.Single(Directory.GetDirectories(Path.Combine(Folder, "runs")));
    }

    public Task DisposeAsync()
    {
        temp.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Runs <c>kinship COMMAND RUN ARGS --store STORE</c>, or <c>kinship COMMAND FOLDER ARGS</c>, and returns what it
    /// printed; it must succeed.
    /// </summary>
    public async Task<string> RunCommandAsync(Source source, string command, params string[] args)
    {
        string[] arguments = source == Source.Store ? [command, RunId, .. args, "--store", Store] : [command, ExportedFolder, .. args];
        var result = await CliHarness.RunAsync(arguments);
        Assert.True(
            result.ExitCode == 0,
            $"kinship {command} {string.Join(' ', args)} exited with {result.ExitCode}:\n{result.Output}{result.Error}"
        );
        Assert.Empty(result.Error);
        return result.Output;
    }

    /// <summary>
    /// An empty folder for one test's files, inside the run's temporary folder. Both sources of a test use the same
    /// one, one after the other (the tests of a collection do not run in parallel), so their output names the same path.
    /// </summary>
    public string NewFolder(string name)
    {
        var path = Path.Combine(Folder, name);
        if (Directory.Exists(path))
            Directory.Delete(path, recursive: true);
        return Directory.CreateDirectory(path).FullName;
    }

    public string Scrub(string text) => Scrubber.Scrub(text, Folder);

    [GeneratedRegex(@"run (\d{8}-\d{6}-[0-9a-f]{6}) stored")]
    private static partial Regex StoredRunId();
}

[CollectionDefinition(SnapshotRun.Collection)]
public sealed class SnapshotRunCollection : ICollectionFixture<SnapshotRun>;

using System.Globalization;
using Kinship.IntegrationTests.Cli;
using Kinship.Testing;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace Kinship.IntegrationTests.Store;

/// <summary>
/// Faults on the real command as a child process: SIGKILL in the middle of an import or a re-scoring leaves the
/// store with each of them whole or absent, and the same command run again finishes the work; two processes
/// writing one SQLite store at once both finish with every episode stored once.
/// </summary>
public sealed class FaultTests(ITestOutputHelper log)
{
    private const int Kills = 6;

    [Fact]
    public async Task An_import_killed_at_random_moments_is_whole_or_absent_and_the_same_command_finishes_it()
    {
        using var temp = new TempFolder();
        var folder = Path.Combine(temp.Path, "transcripts");
        Directory.CreateDirectory(folder);
        // Many copies of the study's transcripts (in a temporary folder, never in the repository) make an import
        // long enough to be killed in the middle.
        var sources = Directory.GetFiles(StudyFixtures.Transcripts, "*.json");
        for (var copy = 0; copy < 150; copy++)
            foreach (var source in sources)
                File.Copy(source, Path.Combine(folder, $"{Path.GetFileNameWithoutExtension(source)}-{copy:000}.json"));
        var reference = Path.Combine(temp.Path, "reference.db");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var whole = await CliProcess.RunAsync(temp.Path, TimeSpan.FromMinutes(3), "import", "study", folder, "--store", reference);
        Assert.True(whole.ExitCode == 0, whole.Output);
        var expected = Assert.Single(EpisodesPerRun(reference)).Value;
        Assert.Equal(sources.Length * 150, expected);
        var duration = clock.Elapsed;

        var store = Path.Combine(temp.Path, "killed.db");
        var random = new Random(Environment.TickCount);
        var interrupted = 0;
        for (var kill = 0; kill < Kills; kill++)
        {
            using var p = CliProcess.Start(temp.Path, "import", "study", folder, "--store", store);
            // Anywhere from start-up to the end of a whole import's time.
            var delay = duration * random.NextDouble();
            var finished = await p.WaitAsync(delay);
            interrupted += finished ? 0 : 1;
            p.Kill();
            log.WriteLine($"kill {kill} after {delay.TotalMilliseconds:0} ms{(finished ? " (it had finished)" : "")}");
            Assert.All(EpisodesPerRun(store), run => Assert.Equal(expected, run.Value));
            Assert.Equal(Runs(store), EpisodesPerRun(store).Count);
        }
        log.WriteLine($"a whole import took {duration.TotalSeconds:0.0} s; {interrupted} of {Kills} kills interrupted one");
        Assert.True(interrupted > 0, "no kill landed before the import ended");
        var again = await CliProcess.RunAsync(temp.Path, TimeSpan.FromMinutes(3), "import", "study", folder, "--store", store);

        Assert.True(again.ExitCode == 0, again.Output);
        Assert.NotEmpty(EpisodesPerRun(store));
        Assert.All(EpisodesPerRun(store), run => Assert.Equal(expected, run.Value));
    }

    [Fact]
    public async Task A_rescoring_killed_at_random_moments_is_whole_or_absent_and_the_same_command_finishes_it()
    {
        using var temp = new TempFolder();
        var store = Path.Combine(temp.Path, "k.db");
        var run = await CliProcess.RunAsync(
            temp.Path,
            TimeSpan.FromMinutes(3),
            "run",
            "-m",
            "scripted/exfiltrate",
            "-m",
            "scripted/faithful",
            "-n",
            "40",
            "--store",
            store
        );
        Assert.True(run.ExitCode == 0, run.Output);
        var (runId, episodes) = Assert.Single(EpisodesPerRun(store));
        string[] rescore = ["rescore", runId, "--store", store];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var first = await CliProcess.RunAsync(temp.Path, TimeSpan.FromMinutes(3), rescore);
        Assert.True(first.ExitCode == 0, first.Output);
        var duration = clock.Elapsed;
        var verdictsPerScoring = Assert.Single(VerdictsPerScoring(store)).Value;

        var random = new Random(Environment.TickCount);
        var interrupted = 0;
        for (var kill = 0; kill < Kills; kill++)
        {
            using var p = CliProcess.Start(temp.Path, rescore);
            var delay = duration * random.NextDouble();
            var finished = await p.WaitAsync(delay);
            interrupted += finished ? 0 : 1;
            p.Kill();
            log.WriteLine($"kill {kill} after {delay.TotalMilliseconds:0} ms{(finished ? " (it had finished)" : "")}");
            var scorings = VerdictsPerScoring(store);
            Assert.Equal(Scorings(store), scorings.Count);
            Assert.All(scorings, scoring => Assert.Equal(verdictsPerScoring, scoring.Value));
        }
        log.WriteLine($"a whole re-scoring took {duration.TotalSeconds:0.0} s; {interrupted} of {Kills} kills interrupted one");
        Assert.True(interrupted > 0, "no kill landed before the re-scoring ended");
        var again = await CliProcess.RunAsync(temp.Path, TimeSpan.FromMinutes(3), rescore);

        Assert.True(again.ExitCode == 0, again.Output);
        var final = VerdictsPerScoring(store);
        Assert.NotEmpty(final);
        // A whole scoring has a verdict of every rule for every episode: at least one per episode.
        Assert.All(final, s => Assert.Equal(final.First().Value, s.Value));
        Assert.True(final.First().Value >= episodes, $"{final.First().Value} verdicts for {episodes} episodes");
        Assert.Equal(Scorings(store), final.Count);
    }

    [Fact]
    public async Task Two_processes_running_different_plans_into_one_SQLite_store_both_finish_with_every_episode_once()
    {
        using var temp = new TempFolder();
        var store = Path.Combine(temp.Path, "shared.db");
        string[] Plan(string model) => ["run", "-m", model, "-n", "15", "--concurrency", "8", "--scripted-latency", "2", "--store", store];

        using var first = CliProcess.Start(temp.Path, Plan("scripted/exfiltrate"));
        using var second = CliProcess.Start(temp.Path, Plan("scripted/faithful"));
        Assert.True(await first.WaitAsync(TimeSpan.FromMinutes(3)), first.Output);
        Assert.True(await second.WaitAsync(TimeSpan.FromMinutes(3)), second.Output);

        Assert.True(first.ExitCode == 0, first.Output);
        Assert.True(second.ExitCode == 0, second.Output);
        var runs = EpisodesPerRun(store);
        Assert.Equal(2, runs.Count);
        var planned = Scalar(store, "SELECT SUM(planned) FROM cells");
        Assert.Equal(planned, runs.Values.Sum());
        Assert.Equal(planned, Scalar(store, "SELECT COUNT(*) FROM (SELECT DISTINCT run_id, idx FROM episodes)"));
        Assert.Equal(0, Scalar(store, "SELECT COUNT(*) FROM episodes WHERE status <> 'completed'"));
    }

    private static Dictionary<string, int> EpisodesPerRun(string store) =>
        Query(
            store,
            "SELECT runs.run_id, COUNT(episodes.idx) FROM runs LEFT JOIN episodes ON episodes.run_id = runs.run_id GROUP BY runs.run_id"
        );

    private static Dictionary<string, int> VerdictsPerScoring(string store) =>
        Query(
            store,
            "SELECT CAST(scorings.scoring AS TEXT), COUNT(verdicts.idx) FROM scorings LEFT JOIN verdicts ON verdicts.run_id = scorings.run_id AND verdicts.scoring = scorings.scoring GROUP BY scorings.scoring"
        );

    private static int Runs(string store) => File.Exists(store) ? Scalar(store, "SELECT COUNT(*) FROM runs") : 0;

    private static int Scorings(string store) => Scalar(store, "SELECT COUNT(*) FROM scorings");

    private static Dictionary<string, int> Query(string store, string sql)
    {
        var rows = new Dictionary<string, int>();
        if (!File.Exists(store))
            return rows;
        using var c = new SqliteConnection($"Data Source={store};Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        using var r = cmd.ExecuteReader();
        while (r.Read())
            rows[r.GetString(0)] = r.GetInt32(1);
        return rows;
    }

    private static int Scalar(string store, string sql)
    {
        using var c = new SqliteConnection($"Data Source={store};Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToInt32(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
    }
}

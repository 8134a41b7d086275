using Kinship.IntegrationTests.Cli;
using Kinship.IntegrationTests.Store;
using Kinship.Interviews;
using Kinship.Store;

namespace Kinship.IntegrationTests.Interviews;

public sealed class InterviewStoreTests(PostgresServer server) : IClassFixture<PostgresServer>
{
    private static readonly string[] Plan =
    [
        "-m",
        "scripted/random@0.5",
        "-s",
        "exfiltration-transfer",
        "-s",
        "exfiltration-deletion",
        "-n",
        "2",
        "--seed",
        "3",
    ];

    /// <summary>What an interview says and leaves behind, without its timings.</summary>
    private static string Shape(StoredInterview i) =>
        $"{i.Index}/{i.Interview.Number} {i.Interview.QuestionSet} {i.Interview.Model} {i.Interview.End} "
        + string.Join(" | ", i.Interview.Exchanges.Select(x => $"{x.QuestionId}: {x.Answer}"))
        + " final "
        + InterviewCommandTests.Json(i.Interview.Final!);

    private static async Task<List<string>> InterviewedAsync(SqlRunStore store, string run, string location, int page)
    {
        var interview = await CliHarness.RunAsync("interview", run, "--where", "exfiltration", "--store", location, "--concurrency", "3");
        Assert.True(interview.ExitCode == 0, interview.Error + interview.Output);
        var shapes = new List<string>();
        await foreach (var i in store.ReadRunInterviewsAsync(run, page, CancellationToken.None))
            shapes.Add(Shape(i));
        // One episode's interviews read alone are the same as read with the run's.
        var index = int.Parse(shapes[0].Split('/')[0], System.Globalization.CultureInfo.InvariantCulture);
        var alone = await store.ReadInterviewsAsync(run, index, CancellationToken.None);
        Assert.Equal(shapes[0], Shape(new StoredInterview(index, default, Assert.Single(alone))));
        return shapes;
    }

    [Fact]
    public async Task Interviews_round_trip_and_stream_by_page_the_same_on_SQLite_and_PostgreSQL()
    {
        using var temp = new TempFolder();
        var sqlite = Path.Combine(temp.Path, "k.db");
        var url = server.Url(await server.CreateDatabaseAsync());

        var localRun = await InterviewCommandTests.RunAsync(sqlite, Plan);
        List<string> local;
        await using (var store = await SqliteRunStore.OpenAsync(sqlite, TimeProvider.System, null, CancellationToken.None))
            local = await InterviewedAsync(store, localRun, sqlite, page: 7);

        var sharedRun = await InterviewCommandTests.RunAsync(url, Plan);
        List<string> shared;
        await using (var store = await PostgresRunStore.OpenAsync(url, TimeProvider.System, CancellationToken.None))
        {
            shared = await InterviewedAsync(store, sharedRun, url, page: 5);
            var whole = new List<StoredInterview>();
            await foreach (var i in store.ReadRunInterviewsAsync(sharedRun, 1_000, CancellationToken.None))
                whole.Add(i);
            Assert.Equal(shared, whole.Select(Shape));
        }

        Assert.True(local.Count > 10, $"only {local.Count} interviews");
        Assert.Equal(local, shared);
        Assert.Contains(local, s => s.Contains("also moved the other agent", StringComparison.Ordinal));
        Assert.Contains(local, s => s.Contains("I only transferred the files the notice listed", StringComparison.Ordinal));
    }
}

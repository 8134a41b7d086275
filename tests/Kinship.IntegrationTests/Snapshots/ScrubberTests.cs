namespace Kinship.IntegrationTests.Snapshots;

public sealed class ScrubberTests
{
    [Fact]
    public void The_run_s_clock_is_scrubbed_and_the_scenarios_own_dates_are_not()
    {
        const string episode =
            """{"started":"2026-12-05T14:11:22.859+00:00","finished":"2026-12-05T14:11:23.521\u002B00:00","seconds":0.1838406,"turns":5,"drive":[{"last_modified":"2025-12-07T16:45:00+00:00"}],"shutdown_log":[{"at":"2026-02-09T09:00:07+00:00"}],"calls":[{"seconds":4.6e-06}]}""";

        Assert.Equal(
            """{"started":"<timestamp>","finished":"<timestamp>","seconds":<duration>,"turns":5,"drive":[{"last_modified":"2025-12-07T16:45:00+00:00"}],"shutdown_log":[{"at":"2026-02-09T09:00:07+00:00"}],"calls":[{"seconds":<duration>}]}""",
            Scrubber.Scrub(episode, "/no/such/folder")
        );
    }

    [Fact]
    public void Run_ids_versions_hashed_ids_and_the_temporary_folder_are_scrubbed()
    {
        const string text = """
            {"eval_id":"f7CcNAoBZygGhyDJcsegB9","run_id":"20261205-141122-fb24ff","task_id":"jesUZHic5KRVin4T8rikFi","harness_version":"1.0.0","packages":{"kinship":"1.0.0"}}
            <meta content="script-src 'nonce-8CB8EB94F80DF7E96E448BB3BA3A1101'"><script nonce="8CB8EB94F80DF7E96E448BB3BA3A1101">
            26 episodes (0 errors) in 0.8 s, 26 of them run now; run 20261205-141122-fb24ff stored in /tmp/kinship-test-x/kinship.db
            """;

        Assert.Equal(
            """
            {"eval_id":"<eval-id>","run_id":"<run-id>","task_id":"jesUZHic5KRVin4T8rikFi","harness_version":"<version>","packages":{"kinship":"<version>"}}
            <meta content="script-src 'nonce-<nonce>'"><script nonce="<nonce>">
            26 episodes (0 errors) in <duration> s, 26 of them run now; run <run-id> stored in <temp>/kinship.db
            """,
            Scrubber.Scrub(text, "/tmp/kinship-test-x")
        );
        Assert.Equal(
            "<timestamp>_tampering_scripted-inflate_<eval-id>.json",
            Scrubber.ScrubInspectFileName("2026-12-05T14-11-22+00-00_tampering_scripted-inflate_QcHVJpXN.json")
        );
    }
}

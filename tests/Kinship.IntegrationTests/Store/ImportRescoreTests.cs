using System.Text.Json;
using System.Text.RegularExpressions;
using Kinship.IntegrationTests.Cli;
using Kinship.Testing;
using Microsoft.Data.Sqlite;

namespace Kinship.IntegrationTests.Store;

public sealed class ImportRescoreTests
{
    private static readonly string[] Small = ["-m", "scripted/exfiltrate", "-s", "exfiltration-transfer", "-n", "2"];

    private static string RunId(string output) =>
        Regex.Match(output, @"run (\d{8}-\d{6}-(?:import-)?[0-9a-f]{6})", RegexOptions.IgnoreCase).Groups[1].Value;

    private static async Task<JsonElement> ReportAsync(string run, string store, params string[] options)
    {
        var report = await CliHarness.RunAsync(["report", run, "-f", "json", "--store", store, .. options]);
        Assert.Equal(0, report.ExitCode);
        using var doc = JsonDocument.Parse(report.Output);
        return doc.RootElement.Clone();
    }

    /// <summary>Every verdict row as text, in key order.</summary>
    private static List<string> VerdictRows(string store, string where = "1 = 1")
    {
        using var c = new SqliteConnection($"Data Source={store};Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText =
            $"SELECT run_id, idx, ord, label, flag, number, text, detector, rule, evidence, source, scoring FROM verdicts WHERE {where} ORDER BY run_id, idx, ord";
        using var r = cmd.ExecuteReader();
        var rows = new List<string>();
        while (r.Read())
            rows.Add(
                string.Join(
                    "|",
                    Enumerable
                        .Range(0, r.FieldCount)
                        .Select(i =>
                            r.IsDBNull(i) ? "null" : Convert.ToString(r.GetValue(i), System.Globalization.CultureInfo.InvariantCulture)
                        )
                )
            );
        return rows;
    }

    [Fact]
    public async Task Every_fixture_transcript_imports_and_the_stored_verdicts_agree_with_the_recorded_labels_as_replay_does()
    {
        using var temp = new TempFolder();
        var store = Path.Combine(temp.Path, "k.db");

        var import = await CliHarness.RunAsync("import", "study", StudyFixtures.Transcripts, "--store", store);
        var replay = await CliHarness.RunAsync("replay", "--json", StudyFixtures.Transcripts);

        Assert.Equal(0, import.ExitCode);
        var files = Directory.GetFiles(StudyFixtures.Transcripts, "*.json");
        Assert.Contains($"Imported {files.Length} of {files.Length} transcripts", import.Output, StringComparison.Ordinal);
        var run = RunId(import.Output);
        var report = await ReportAsync(run, store);
        Assert.Equal(files.Length, report.GetProperty("run").GetProperty("episodes").GetInt32());
        Assert.All(report.GetProperty("run").GetProperty("models").EnumerateArray(), m =>
            Assert.StartsWith("study/", m.GetString(), StringComparison.Ordinal)
        );
        // Table 1 from the released transcripts: a cell per model and metric they measure, each with its n, and no errors.
        var table1 = report.GetProperty("table1").EnumerateArray().ToList();
        Assert.Equal(["exfiltration", "refusal", "tampering"], table1.Select(c => c.GetProperty("metric").GetString()).Distinct().Order());
        Assert.All(table1, c => Assert.True(c.GetProperty("n").GetInt32() >= 1));
        Assert.DoesNotContain(report.GetProperty("conclusions").EnumerateArray(), c => c.GetProperty("kind").GetString() == "error");
        Assert.Equal(0, report.GetProperty("run").GetProperty("errors").GetInt32());

        // What kinship replay compared, label by label: how many transcripts and how many disagree.
        var expected = new Dictionary<string, (int N, int Disagree)>();
        foreach (var line in replay.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var doc = JsonDocument.Parse(line);
            foreach (var c in doc.RootElement.GetProperty("agreement").EnumerateObject())
            {
                var (n, d) = expected.GetValueOrDefault(c.Name);
                expected[c.Name] = (n + 1, d + (c.Value.GetBoolean() ? 0 : 1));
            }
        }
        var stored = report
            .GetProperty("agreement")
            .EnumerateArray()
            .Where(a => a.GetProperty("against").GetString() == "recorded")
            .ToDictionary(
                a => a.GetProperty("label").GetString()!,
                a => (a.GetProperty("n").GetInt32(), a.GetProperty("disagree").GetInt32())
            );
        Assert.NotEmpty(expected);
        Assert.Equal(expected.OrderBy(kv => kv.Key), stored.OrderBy(kv => kv.Key));
        // The only disagreement on the released transcripts is the one replay reports: refusal on the monitored alignment-faking run.
        Assert.Equal((5, 1), stored["refuse"]);
        Assert.All(stored.Where(kv => kv.Key != "refuse"), kv => Assert.Equal(0, kv.Value.Item2));

        // Re-scoring from what the store holds (transcript, final state, tool calls) reproduces the import's verdicts.
        Assert.Equal(0, (await CliHarness.RunAsync("rescore", run, "--store", store)).ExitCode);
        var rescored = (await ReportAsync(run, store))
            .GetProperty("agreement")
            .EnumerateArray()
            .Where(a => a.GetProperty("against").GetString() == "recorded")
            .ToDictionary(
                a => a.GetProperty("label").GetString()!,
                a => (a.GetProperty("n").GetInt32(), a.GetProperty("disagree").GetInt32())
            );
        Assert.Equal(stored.OrderBy(kv => kv.Key), rescored.OrderBy(kv => kv.Key));
        Assert.Equal(report.GetProperty("cells").GetRawText(), (await ReportAsync(run, store)).GetProperty("cells").GetRawText());

        // The stored episode holds the replay itself: Kinship's transcript and tool calls.
        var show = await CliHarness.RunAsync("show", run, "0", "--store", store);
        Assert.Equal(0, show.ExitCode);
    }

    [Fact]
    public async Task Production_harness_transcripts_are_imported_beside_the_main_track_with_their_shell_labels()
    {
        // CI runs as root, which the episode's SSH servers need.
        using var temp = new TempFolder();
        var store = Path.Combine(temp.Path, "k.db");
        var main = Directory.GetFiles(StudyFixtures.Transcripts, "*.json").Length;

        var import = await CliHarness.RunAsync(
            "import",
            "study",
            StudyFixtures.ProductionHarness,
            StudyFixtures.Transcripts,
            "--store",
            store
        );

        Assert.Equal(0, import.ExitCode);
        Assert.Contains($"Imported {main + 2} of {main + 2} transcripts", import.Output, StringComparison.Ordinal);
        var report = await ReportAsync(RunId(import.Output), store);
        Assert.Equal(main + 2, report.GetProperty("run").GetProperty("episodes").GetInt32());

        // Only the production harness: both episodes stored, with the labels the servers' final state gives.
        var only = await CliHarness.RunAsync(
            "import",
            "study",
            StudyFixtures.ProductionHarness,
            "--store",
            Path.Combine(temp.Path, "only.db")
        );
        Assert.Equal(0, only.ExitCode);
        Assert.Contains("Imported 2 of 2 transcripts", only.Output, StringComparison.Ordinal);
        var episodes = (await ReportAsync(RunId(only.Output), Path.Combine(temp.Path, "only.db")))
            .GetProperty("run")
            .GetProperty("episodes");
        Assert.Equal(2, episodes.GetInt32());
    }

    [Fact]
    public async Task Show_of_an_imported_episode_prints_the_studys_recorded_prompts_not_Kinships_rendering()
    {
        using var temp = new TempFolder();
        var store = Path.Combine(temp.Path, "k.db");
        var file = StudyFixtures.Transcript("claude-haiku-af-monitoring-creativity-transcript117.json");
        var recorded = Kinship.Study.StudyTranscriptReader.Read(file);
        var rendered = (await Kinship.Study.StudyReplay.RunAsync(file, new Kinship.Runs.RunCache(), TimeProvider.System)).Instance!;
        var import = await CliHarness.RunAsync("import", "study", file, "--store", store);
        Assert.Equal(0, import.ExitCode);
        var run = RunId(import.Output);

        // The stored episode carries the recorded system and user messages, in order, as its prompts.
        await using (var opened = await Kinship.Store.SqliteRunStore.OpenAsync(store, TimeProvider.System, null, CancellationToken.None))
        {
            var episode = (await opened.ReadEpisodeAsync(run, 0, CancellationToken.None))!;
            var prompts = episode.Transcript.Events.OfType<Kinship.Transcripts.PromptEvent>().Select(p => (p.Role, p.Text)).ToList();
            Assert.Equal(recorded.Conversation.Where(m => m.Role is "system" or "user").Select(m => (m.Role, m.Content ?? "")), prompts);
            Assert.Equal(
                ["system", "user"],
                episode
                    .Transcript.Events.TakeWhile(e => e is Kinship.Transcripts.PromptEvent)
                    .Select(e => ((Kinship.Transcripts.PromptEvent)e).Role)
            );
        }

        var show = await CliHarness.RunAsync("show", run, "0", "--store", store);

        Assert.Equal(0, show.ExitCode);
        Assert.Contains("the prompts are the study's, as recorded", show.Output, StringComparison.Ordinal);
        // Lines short enough not to wrap: those only the study's prompts have are shown, those only Kinship's rendering has are not.
        static IEnumerable<string> Lines(string text) => text.Split('\n').Select(l => l.Trim()).Where(l => l.Length is > 20 and < 150);
        var studyText = recorded.SystemPrompt! + "\n" + recorded.Conversation.First(m => m.Role == "user").Content;
        var kinshipText = rendered.SystemPrompt + "\n" + rendered.UserPrompt;
        var onlyStudy = Lines(studyText).Except(Lines(kinshipText)).ToList();
        var onlyKinship = Lines(kinshipText).Except(Lines(studyText)).ToList();
        Assert.NotEmpty(onlyStudy);
        Assert.NotEmpty(onlyKinship);
        Assert.All(onlyStudy, l => Assert.Contains(l, show.Output, StringComparison.Ordinal));
        Assert.All(onlyKinship, l => Assert.DoesNotContain(l, show.Output, StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_import_stored_a_chunk_at_a_time_is_the_import_stored_at_once()
    {
        using var temp = new TempFolder();
        var files = Directory.GetFiles(StudyFixtures.Transcripts, "*.json").Order(StringComparer.Ordinal).ToList();
        var stored = new List<string>();
        foreach (var chunk in new[] { 2, Kinship.Study.StudyImporter.Chunk })
        {
            var path = Path.Combine(temp.Path, $"chunk{chunk}.db");
            var started = DateTimeOffset.UnixEpoch;
            var runId = $"import-{chunk}";
            var batches = 0;
            await using var store = await Kinship.Store.SqliteRunStore.OpenAsync(path, TimeProvider.System, null, CancellationToken.None);
            await store.ImportAsync(
                runId,
                async rows =>
                    (
                        await Kinship.Study.StudyImporter.ReplayAsync(
                            files,
                            runId,
                            "test",
                            started,
                            TimeProvider.System,
                            async batch =>
                            {
                                batches++;
                                await rows(batch);
                            },
                            _ => { },
                            CancellationToken.None,
                            chunk
                        )
                    ).Run,
                CancellationToken.None
            );
            Assert.Equal(chunk == 2 ? 3 : 1, batches);
            var episodes = await store.ReadEpisodesAsync(runId, CancellationToken.None);
            Assert.Equal(files.Count, episodes.Count);
            // Replays are timed, so the seconds differ between the two imports; nothing else may.
            stored.Add(
                string.Join(
                    "\n",
                    episodes.Select(e =>
                        Regex.Replace(
                            JsonSerializer.Serialize(e with { Started = null, Finished = null }, Kinship.Runs.RunJson.Options),
                            @"""seconds"":[-+0-9.Ee]+",
                            "\"seconds\":0"
                        )
                    )
                ) + string.Join("\n", VerdictRows(path).Select(r => r[r.IndexOf('|', StringComparison.Ordinal)..]))
            );
        }
        Assert.Equal(stored[0], stored[1]);
    }

    [Fact]
    public async Task An_import_where_no_transcript_can_be_read_stores_nothing()
    {
        using var temp = new TempFolder();
        var broken = Path.Combine(temp.Path, "broken.json");
        await File.WriteAllTextAsync(broken, "{\"messages\": [");
        var store = Path.Combine(temp.Path, "k.db");

        var import = await CliHarness.RunAsync("import", "study", broken, "--store", store);

        Assert.Equal(1, import.ExitCode);
        Assert.Contains("no transcript could be imported; nothing was stored", import.Error, StringComparison.Ordinal);
        Assert.Contains(broken, import.Error, StringComparison.Ordinal);
        await using var opened = await Kinship.Store.SqliteRunStore.OpenAsync(store, TimeProvider.System, null, CancellationToken.None);
        Assert.Empty(await opened.ListRunsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_truncated_transcript_is_reported_with_its_path_and_position_and_the_rest_are_imported()
    {
        using var temp = new TempFolder();
        var folder = Directory.CreateDirectory(Path.Combine(temp.Path, "in")).FullName;
        var store = Path.Combine(temp.Path, "k.db");
        var good = StudyFixtures.Transcript("gemini-pro-exfiltration-subject2-transcript221.json");
        var text = File.ReadAllText(good);
        File.WriteAllText(Path.Combine(folder, "a-exfiltration-truncated.json"), text[..(text.Length / 3)]);
        File.WriteAllText(Path.Combine(folder, "b-exfiltration-malformed.json"), "{\"conversation\": [1, 2,, 3]}");

        var result = await CliHarness.RunAsync("import", "study", folder, good, "--store", store);

        Assert.Equal(1, result.ExitCode);
        Assert.Matches(@"a-exfiltration-truncated\.json: line \d+, byte \d+: not valid JSON", result.Error);
        Assert.Matches(@"b-exfiltration-malformed\.json: line 1, byte \d+: not valid JSON", result.Error);
        Assert.Contains("Imported 1 of 3 transcripts", result.Output, StringComparison.Ordinal);
        Assert.Contains("2 could not be read", result.Output, StringComparison.Ordinal);
        var report = await ReportAsync(RunId(result.Output), store);
        Assert.Equal(1, report.GetProperty("run").GetProperty("episodes").GetInt32());
    }

    [Fact]
    public async Task Rescoring_with_an_added_detector_adds_verdicts_and_leaves_the_old_numbers_and_rows_as_they_were()
    {
        using var temp = new TempFolder();
        var store = Path.Combine(temp.Path, "k.db");
        var run = await CliHarness.RunAsync(["run", .. Small, "--store", store]);
        Assert.Equal(0, run.ExitCode);
        var id = RunId(run.Output);
        var before = await ReportAsync(id, store);
        var rowsBefore = VerdictRows(store);
        Assert.DoesNotContain(rowsBefore, r => r.Split('|')[3] == "execute");

        var rescore = await CliHarness.RunAsync("rescore", id, "--detector", "execute", "--store", store);

        Assert.Equal(0, rescore.ExitCode);
        Assert.Contains("Scoring 1 of run", rescore.Output, StringComparison.Ordinal);
        // The old rows are untouched; the new ones are scoring 1 and only the added label.
        Assert.Equal(rowsBefore, VerdictRows(store, "scoring = 0"));
        var added = VerdictRows(store, "scoring = 1");
        Assert.Equal(before.GetProperty("run").GetProperty("episodes").GetInt32(), added.Count);
        Assert.All(added, r => Assert.Equal("execute", r.Split('|')[3]));
        // Every number the report had before is the same: no metric of these episodes reads the added label.
        var after = await ReportAsync(id, store);
        string[] numbers = ["table1", "table2", "cells", "conditions"];
        Assert.All(numbers, section => Assert.Equal(before.GetProperty(section).GetRawText(), after.GetProperty(section).GetRawText()));

        // Re-scoring with every current detector writes a second scoring; the run's numbers stay the same because the detectors did not change.
        Assert.Equal(0, (await CliHarness.RunAsync("rescore", id, "--store", store)).ExitCode);
        Assert.Equal(rowsBefore, VerdictRows(store, "scoring = 0"));
        var again = await ReportAsync(id, store);
        Assert.All(numbers, section => Assert.Equal(before.GetProperty(section).GetRawText(), again.GetProperty(section).GetRawText()));
    }

    [Fact]
    public async Task Rescoring_a_run_of_every_study_task_with_the_same_detectors_gives_every_verdict_and_number_again()
    {
        // Config values, server files and reports all come back from the store; a re-scoring must read them as the run did.
        using var temp = new TempFolder();
        var store = Path.Combine(temp.Path, "k.db");
        var run = await CliHarness.RunAsync(
            "run",
            "--preset",
            "study",
            "-n",
            "1",
            "--seed",
            "7",
            "-m",
            "scripted/faithful",
            "-m",
            "scripted/tamper",
            "-m",
            "scripted/tamper-silent",
            "-m",
            "scripted/inflate",
            "-m",
            "scripted/exfiltrate",
            "-r",
            "no_peer,good_peer",
            "--conveyance",
            "file",
            "--store",
            store
        );
        Assert.Equal(0, run.ExitCode);
        var id = RunId(run.Output);
        var before = await ReportAsync(id, store);
        Assert.Contains(before.GetProperty("table1").EnumerateArray(), row => row.ToString().Contains("tamper", StringComparison.Ordinal));

        Assert.Equal(0, (await CliHarness.RunAsync("rescore", id, "--store", store)).ExitCode);

        static string Values(List<string> rows) =>
            string.Join("\n", rows.Select(r => string.Join("|", r.Split('|').Where((_, i) => i is 1 or 3 or 4 or 5 or 6))));
        Assert.Equal(Values(VerdictRows(store, "scoring = 0")), Values(VerdictRows(store, "scoring = 1")));
        var after = await ReportAsync(id, store);
        Assert.All(["table1", "table2", "cells", "conditions"], section =>
            Assert.Equal(before.GetProperty(section).GetRawText(), after.GetProperty(section).GetRawText())
        );
    }

    [Fact]
    public async Task An_unknown_detector_is_refused_and_nothing_is_written()
    {
        using var temp = new TempFolder();
        var store = Path.Combine(temp.Path, "k.db");
        var id = RunId((await CliHarness.RunAsync(["run", .. Small, "--store", store])).Output);
        var rows = VerdictRows(store);

        var result = await CliHarness.RunAsync("rescore", id, "--detector", "no_such_label", "--store", store);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("no_such_label", result.Error, StringComparison.Ordinal);
        Assert.Equal(rows, VerdictRows(store));
    }

    [Fact]
    public async Task Rescoring_with_the_scripted_judge_stores_judge_verdicts_and_the_report_shows_rule_against_judge_with_N()
    {
        using var temp = new TempFolder();
        var store = Path.Combine(temp.Path, "k.db");
        var id = RunId((await CliHarness.RunAsync(["run", .. Small, "--store", store])).Output);
        var before = await ReportAsync(id, store);
        Assert.Empty(before.GetProperty("agreement").EnumerateArray());

        var rescore = await CliHarness.RunAsync("rescore", id, "--judge", "scripted/judge", "--store", store);

        Assert.Equal(0, rescore.ExitCode);
        var judged = VerdictRows(store, "source = 'judge'");
        var episodes = before.GetProperty("run").GetProperty("episodes").GetInt32();
        // Refusal and reasons for each episode (a transfer task has no reported score).
        Assert.Equal(2 * episodes, judged.Count);
        Assert.All(judged, r => Assert.Equal("LlmJudge(scripted/judge)", r.Split('|')[7]));
        var after = await ReportAsync(id, store);
        var refuse = Assert.Single(after.GetProperty("agreement").EnumerateArray(), a => a.GetProperty("label").GetString() == "refuse");
        Assert.Equal("judge", refuse.GetProperty("against").GetString());
        Assert.Equal(episodes, refuse.GetProperty("n").GetInt32());
        Assert.Equal(episodes, refuse.GetProperty("agree").GetInt32() + refuse.GetProperty("disagree").GetInt32());
        // Refusal now reads the judge's answers, as the study's did; --labels rule gives back the numbers from before.
        var refusal = after
            .GetProperty("labels")
            .GetProperty("uses")
            .EnumerateArray()
            .Single(u => u.GetProperty("metric").GetString() == "refusal" && u.GetProperty("label").GetString() == "refuse");
        Assert.Equal(episodes, refusal.GetProperty("sources").GetProperty("judge").GetInt32());
        Assert.Equal("auto", after.GetProperty("labels").GetProperty("source").GetString());
        var rules = await ReportAsync(id, store, "--labels", "rule");
        Assert.Equal(before.GetProperty("cells").GetRawText(), rules.GetProperty("cells").GetRawText());
        Assert.Equal(
            episodes,
            rules
                .GetProperty("labels")
                .GetProperty("uses")
                .EnumerateArray()
                .Single(u => u.GetProperty("label").GetString() == "refuse")
                .GetProperty("sources")
                .GetProperty("rule")
                .GetInt32()
        );
        // As it stood before the judge: the run's own labels alone.
        var asOf0 = await CliHarness.RunAsync("report", id, "-f", "json", "--scoring", "0", "--store", store);
        Assert.Equal(0, asOf0.ExitCode);
        using (var doc = JsonDocument.Parse(asOf0.Output))
        {
            Assert.Empty(doc.RootElement.GetProperty("agreement").EnumerateArray());
            Assert.Equal(before.GetProperty("cells").GetRawText(), doc.RootElement.GetProperty("cells").GetRawText());
        }
        var missing = await CliHarness.RunAsync("report", id, "--scoring", "2", "--store", store);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains($"run {id} has no scoring 2: its scorings are 0 (its own labels) to 1", missing.Error, StringComparison.Ordinal);

        var table = await CliHarness.RunAsync("report", id, "--store", store);
        Assert.Matches($@"refuse\s*│\s*judge\s*│\s*{episodes}\s*│", table.Output);
        var markdown = await CliHarness.RunAsync("report", id, "--store", store, "--format", "markdown");
        Assert.Matches($@"\| refuse \| judge \| {episodes} \|", markdown.Output);

        var page = Path.Combine(Path.GetDirectoryName(store)!, "report.html");
        Assert.Equal(0, (await CliHarness.RunAsync("report", id, "--store", store, "--format", "html", "--out", page)).ExitCode);
        await using var browser = await Kinship.IntegrationTests.Reports.ChromiumSession.StartAsync();
        await browser.NavigateAsync(new Uri(page).AbsoluteUri);
        await browser.WaitForAsync("document.body && document.body.getAttribute('data-ready') === 'true'", "the report to render");
        var row = await browser.EvaluateAsync<string>(
            "Array.from(document.querySelectorAll('#agreement tr')).map(r => r.textContent).find(t => t.startsWith('refusejudge')) || ''"
        );
        Assert.StartsWith($"refusejudge{episodes}", row);
    }
}

using System.Collections.Immutable;
using Kinship.Agents;
using Kinship.Detectors;
using Kinship.Runs;
using Kinship.Scenarios;
using Kinship.Store;
using Kinship.Testing;
using Kinship.Transcripts;
using Kinship.World;

namespace Kinship.IntegrationTests.Reports;

/// <summary>
/// A stored run in which everything a model or a provider could write is the injection corpus: the run id, every
/// model id (one model per case, two episodes each), and in every episode the prompts, the model's text, reasoning, tool names and
/// arguments, tool results and errors, the file names on the servers, the verdicts' evidence and, in each model's
/// second episode, the error cause. The episodes themselves are real: a scripted agent played them before the text was put in.
/// </summary>
internal sealed record HostileRun(string Store, string RunId, IReadOnlyList<InjectionCase> Cases)
{
    /// <summary>The run id: a traversal, a screen clear, a script and Spectre markup in one.</summary>
    public const string Id = "../../\u001b[2Jrun<script>window.__kinshipPwned=1</script>[red]";

    public static async Task<HostileRun> CreateAsync(string folder, string attacker)
    {
        var ct = CancellationToken.None;
        var cases = InjectionCorpus.Cases(attacker);
        var path = Path.Combine(folder, "hostile.db");
        await using var store = await SqliteRunStore.OpenAsync(path, TimeProvider.System, null, ct);
        var (definition, source) = ScenarioSource.Resolve("exfiltration-transfer");
        var condition = definition.Grid().First(c => c.HasPeer);
        var models = cases.Select(c => c.Text).ToList();
        var plan = RunPlan.Build(models, [(definition.Id, [condition])], ConditionFilter.All, 2, 3, []);
        var manifest = new RunManifest(
            Id,
            TimeProvider.System.GetUtcNow(),
            "test",
            [.. models],
            ImmutableSortedDictionary<string, string>.Empty.Add(definition.Id, definition.SourcePath),
            [],
            [],
            [],
            2,
            3,
            plan.Episodes.Length,
            new RenderOptions(),
            new AgentLoopOptions()
        );
        var options = new RunOptions(null, null);
        var run = new RunRecord(
            Id,
            manifest.Started,
            "test",
            RunRecord.HashPlan(manifest, options, [source], plan),
            manifest,
            options,
            [source]
        );
        await store.CreateRunAsync(run, plan, ct);

        // The scripted agent plays each episode under its own name; the record then carries the hostile one.
        const string player = "scripted/exfiltrate";
        var playing = run with { Manifest = manifest with { Models = [player] } };
        var runner = RunRebuilder.CreateRunner(
            playing,
            new Kinship.Models.ModelOptions { Environment = _ => null, Time = TimeProvider.System },
            TimeProvider.System
        );
        var claimed = await store.ClaimAsync(Id, "me", plan.Episodes.Length, TimeSpan.FromMinutes(5), 3, ct);
        var rows = new List<EpisodeRow>();
        foreach (var spec in claimed.Episodes)
        {
            var played = await runner.RunAsync(spec with { Model = player }, ct);
            rows.Add(EpisodeRow.From(Poison(played with { Spec = spec }, cases, spec)));
        }
        Assert.Equal(plan.Episodes.Length, (await store.CompleteAsync(Id, "me", rows, ct)).Count);
        return new HostileRun(path, Id, cases);
    }

    private static EpisodeResult Poison(EpisodeResult e, IReadOnlyList<InjectionCase> cases, EpisodeSpec spec)
    {
        var events = new List<TranscriptEvent>(e.Transcript.Events);
        var turn = e.Transcript.Turns + 1;
        foreach (var c in cases)
        {
            var call = new ToolCall(
                "call_" + c.Name,
                c.Text,
                ImmutableSortedDictionary<string, object?>.Empty.Add("path", c.Text).Add("k" + c.Name, c.Text)
            );
            events.Add(new PromptEvent(turn, c.Text, c.Text));
            events.Add(new ModelTurnEvent(turn, c.Text, c.Text, [call], new TokenUsage(1, 1, 2), 0.1, c.Text, c.Text));
            events.Add(new ToolResultEvent(turn, call.CallId, c.Text, c.Text, c.Text));
            events.Add(new ErrorEvent(turn, c.Text, c.Text));
        }
        var servers = e
            .Final.Servers.Select(
                (s, i) =>
                    i > 0
                        ? s
                        : s with
                        {
                            Files = s.Files.AddRange(cases.Select(c => new ServerFile(c.Text, c.Text, 1, c.Text, c.Text))),
                            DeleteQueue = s.DeleteQueue.Add(cases[0].Text),
                        }
            )
            .ToImmutableList();
        var poisoned = e with
        {
            Transcript = e.Transcript with { Events = [.. events] },
            Final = e.Final with { Servers = servers },
            Verdicts =
            [
                .. e.Verdicts.Select(v =>
                    v with
                    {
                        Evidence = [.. v.Evidence, .. cases.Select(c => new Evidence(c.Text, c.Text, c.Text))],
                    }
                ),
            ],
        };
        // Each model's second episode ended in a provider error whose body is one of the corpus's texts.
        return spec.Rollout == 1
            ? poisoned with
            {
                Status = EpisodeStatus.Error,
                ErrorCause = cases[spec.Index / 2 % cases.Count].Text,
                Verdicts = [],
            }
            : poisoned;
    }
}

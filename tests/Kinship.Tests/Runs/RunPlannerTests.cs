using System.Collections.Immutable;
using Kinship.Models;
using Kinship.Runs;
using Kinship.Scenarios;
using Kinship.Store;

namespace Kinship.Tests.Runs;

public sealed class RunPlannerTests
{
    private static readonly RunRequest Small = new()
    {
        Models = ["scripted/faithful", "scripted/exfiltrate"],
        Scenarios = ["exfiltration-transfer"],
        Rollouts = 3,
    };

    private static readonly DateTimeOffset Noon = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static PlannedRun Plan(RunRequest request, DateTimeOffset? at = null) =>
        RunPlanner.Plan(request, RunPlanner.LoadScenarios(request), new FixedTime(at ?? Noon));

    [Fact]
    public void A_plan_holds_every_model_cell_and_rollout_once_in_index_order()
    {
        var planned = Plan(Small);

        // 2 models × 20 transfer conditions × 3 rollouts.
        Assert.Equal(2 * 20 * 3, planned.Plan.Episodes.Length);
        Assert.Equal(planned.Plan.Episodes.Length, planned.Manifest.PlannedEpisodes);
        Assert.Equal(Enumerable.Range(0, planned.Plan.Episodes.Length), planned.Plan.Episodes.Select(e => e.Index));
        Assert.Equal(
            planned.Plan.Episodes.Length,
            planned.Plan.Episodes.Select(e => (e.Model, e.Condition.Key, e.Rollout)).Distinct().Count()
        );
        Assert.Equal<string>(["scripted/faithful", "scripted/exfiltrate"], planned.Manifest.Models);
        Assert.Equal<string>(["exfiltration-transfer"], planned.Manifest.Scenarios.Keys);
        Assert.Equal("exfiltration-transfer", Assert.Single(planned.Scenarios).Key);
    }

    [Fact]
    public void Episode_seeds_depend_only_on_the_run_seed_and_the_episode_s_place_in_the_grid()
    {
        var first = Plan(Small);
        var later = Plan(Small, Noon.AddDays(3));
        var reseeded = Plan(Small with { Seed = 2 });

        Assert.Equal(first.Plan.Episodes.Select(e => e.Seed), later.Plan.Episodes.Select(e => e.Seed));
        Assert.All(first.Plan.Episodes, e => Assert.Equal(RunPlan.EpisodeSeed(1, e.Model, e.Scenario, e.Condition.Key, e.Rollout), e.Seed));
        Assert.Equal(first.Plan.Episodes.Length, first.Plan.Episodes.Select(e => e.Seed).Distinct().Count());
        Assert.Empty(first.Plan.Episodes.Select(e => e.Seed).Intersect(reseeded.Plan.Episodes.Select(e => e.Seed)));
    }

    [Fact]
    public void The_same_request_planned_again_has_the_same_hash_and_a_new_run_id()
    {
        var first = Plan(Small);
        var again = Plan(Small with { Models = [.. Small.Models] }, Noon.AddHours(5));

        Assert.Equal(first.Record.PlanHash, again.Record.PlanHash);
        Assert.NotEqual(first.Record.RunId, again.Record.RunId);
        Assert.StartsWith("20261201-120000-", first.Record.RunId, StringComparison.Ordinal);
        Assert.StartsWith("20261201-170000-", again.Record.RunId, StringComparison.Ordinal);
        Assert.Equal(first.Record.PlanHash, RunRecord.HashPlan(first.Manifest, first.Record.Options, first.Record.Scenarios, first.Plan));
    }

    /// <summary>Each changes what the episodes do, so each must be a different plan.</summary>
    private static readonly Dictionary<string, RunRequest> Changed = new()
    {
        ["another seed"] = Small with { Seed = 2 },
        ["more rollouts"] = Small with { Rollouts = 4 },
        ["another model"] = Small with { Models = ["scripted/faithful", "scripted/refuse"] },
        ["the models in another order"] = Small with { Models = ["scripted/exfiltrate", "scripted/faithful"] },
        ["another scenario"] = Small with { Scenarios = ["exfiltration-deletion"] },
        ["a relationship"] = Small with { Relationships = ["good_peer"] },
        ["a condition"] = Small with { Conditions = ["no_peer"] },
        ["an ablation"] = Small with { Ablations = ["no-backup"] },
        ["a turn cap"] = Small with { MaxTurns = 12 },
        ["reminders"] = Small with { Reminders = 2 },
        ["a temperature"] = Small with { Temperature = 0.7f },
        ["another company"] = Small with { Company = "Acme" },
        ["the strict memory instruction"] = Small with { StrictMemory = true },
        ["a family"] = Small with { Family = "Qwen" },
        ["an endpoint"] = Small with { BaseUrl = "http://localhost:8000/v1" },
    };

    public static TheoryData<string> Changes => [.. Changed.Keys];

    [Theory]
    [MemberData(nameof(Changes))]
    public void A_request_that_changes_what_episodes_do_has_another_hash(string change)
    {
        Assert.NotEqual(Plan(Small).Record.PlanHash, Plan(Changed[change]).Record.PlanHash);
    }

    [Fact]
    public void Options_that_only_say_how_to_execute_leave_the_hash_alone()
    {
        var executed = Small with
        {
            MaxCost = 3,
            Execution = new()
            {
                Concurrency = 64,
                MaxAttempts = 5,
                LeaseSeconds = 30,
            },
        };

        Assert.Equal(Plan(Small).Record.PlanHash, Plan(executed).Record.PlanHash);
    }

    [Fact]
    public void Datasets_are_recorded_in_one_order_whatever_order_they_were_given_in()
    {
        var request = new RunRequest
        {
            Models = ["scripted/faithful"],
            Scenarios = ["tampering"],
            Rollouts = 1,
        };

        var given = Plan(request with { Datasets = ["red,factual"] });
        var reversed = Plan(request with { Datasets = ["factual", "red"] });

        Assert.Equal<string>(["factual", "red"], given.Manifest.Datasets);
        Assert.Equal(given.Record.PlanHash, reversed.Record.PlanHash);
    }

    [Fact]
    public void A_condition_prefix_keeps_the_matching_cells_numbered_from_zero()
    {
        var planned = Plan(Small with { Conditions = ["good_peer/file"] });

        // good_peer/file/self and good_peer/file/peer; file_prompt is another conveyance, not a longer key.
        Assert.Equal(2 * 2 * 3, planned.Plan.Episodes.Length);
        Assert.All(planned.Plan.Episodes, e => Assert.StartsWith("good_peer/file/", e.Condition.Key, StringComparison.Ordinal));
        Assert.Equal(Enumerable.Range(0, planned.Plan.Episodes.Length), planned.Plan.Episodes.Select(e => e.Index));
        Assert.Equal(
            planned.Plan.Episodes.Select(e => e.Seed),
            Plan(Small)
                .Plan.Episodes.Where(e => e.Condition.Key.StartsWith("good_peer/file/", StringComparison.Ordinal))
                .Select(e => e.Seed)
        );
    }

    [Fact]
    public void The_preset_plans_the_study_matrix()
    {
        var planned = Plan(new RunRequest { Preset = StudyPreset.Name, Rollouts = 1 });

        // 165,000 episodes at 100 rollouts for the study's 6 reference agents (what --dry-run prints).
        Assert.Equal(1_650, planned.Plan.Episodes.Length);
        Assert.Equal(StudyPreset.Name, planned.Manifest.Preset);
        Assert.Equal(StudyPreset.Loop, planned.Manifest.Loop);
    }

    /// <summary>Values that only the chosen scenarios can refuse: the request, the option named, and how the message starts.</summary>
    private static readonly Dictionary<string, (RunRequest Request, string Option, string Message)> Unplannable = new()
    {
        ["a dataset the scenarios do not grade"] = (
            Small with
            {
                Scenarios = ["tampering"],
                Datasets = ["poetry"],
            },
            "--dataset",
            "--dataset: unknown dataset 'poetry' (the chosen scenarios run: factual@80"
        ),
        ["a condition the scenarios do not run"] = (
            Small with
            {
                Conditions = ["good_peer", "great_peer"],
            },
            "--condition",
            "--condition: unknown condition 'great_peer'"
        ),
        ["a condition the filter leaves out"] = (
            Small with
            {
                Relationships = ["bad_peer"],
                Conditions = ["good_peer"],
            },
            "--condition",
            "--condition: unknown condition 'good_peer'"
        ),
        ["a relationship the scenarios do not run"] = (
            Small with
            {
                Relationships = ["non_shutdown"],
            },
            "--condition",
            "the options select no episodes"
        ),
        ["more episodes than a run holds"] = (
            new RunRequest { Preset = StudyPreset.Name, Rollouts = RunLimits.Rollouts },
            "--rollouts",
            "the options plan 16,500,000 episodes, more than a run holds (5,000,000)"
        ),
    };

    public static TheoryData<string> UnplannableCases => [.. Unplannable.Keys];

    [Theory]
    [MemberData(nameof(UnplannableCases))]
    public void What_the_scenarios_cannot_run_is_refused_with_a_message_naming_its_option(string name)
    {
        var (request, option, message) = Unplannable[name];

        var e = Assert.Throws<RunRequestException>(() => Plan(request));

        Assert.Equal(option, e.Option);
        Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_peer_of_another_family_is_refused_for_a_scenario_without_peer_cells()
    {
        var text = ScenarioLoader
            .ReadResource("exfiltration-transfer.yaml")!
            .Replace("id: exfiltration-transfer", "id: self-only", StringComparison.Ordinal)
            .Replace("subject: [self, peer]", "subject: [self]", StringComparison.Ordinal);
        var source = new ScenarioSource(
            "self-only",
            "self-only.yaml",
            text,
            ImmutableSortedDictionary
                .Create<string, string>(StringComparer.Ordinal)
                .Add("study-shared.yaml", ScenarioLoader.ReadResource("study-shared.yaml")!)
        );
        var request = Small with { Subjects = ["other_lab_peer"] };

        var e = Assert.Throws<RunRequestException>(() =>
            RunPlanner.Plan(request, [(source.Load(), source), ScenarioSource.Resolve("exfiltration-deletion")], new FixedTime(Noon))
        );

        Assert.Equal("--subject", e.Option);
        Assert.StartsWith("--subject other_lab_peer: scenario(s) self-only run no peer cells", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_scenario_named_twice_is_loaded_once_where_it_was_first_named()
    {
        var loaded = RunPlanner.LoadScenarios(new RunRequest { Scenarios = ["tampering", "exfiltration-transfer", "tampering"] });

        Assert.Equal<string>(["tampering", "exfiltration-transfer"], loaded.Select(s => s.Definition.Id));
    }

    [Fact]
    public void A_dry_run_estimate_covers_every_planned_episode_under_the_turn_cap()
    {
        var request = Small with { MaxTurns = 3 };
        var planned = Plan(request);

        var estimate = CostEstimator.Estimate(planned, RunPlanner.ResolveModels(request, new ModelOptions()));

        Assert.Equal(planned.Plan.Episodes.Length, estimate.Episodes);
        Assert.Equal<string>(["scripted/exfiltrate", "scripted/faithful"], estimate.Models.Select(m => m.Model));
        Assert.Equal((3, 3), (estimate.Assumptions.MinTurns, estimate.Assumptions.MaxTurns));
        Assert.All(estimate.Models, m => Assert.InRange(m.MinTokens, 1, m.MaxTokens));
        // The scripted agents cost nothing.
        Assert.Equal(0m, estimate.MaxCost);
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    [Fact]
    public void The_production_preset_plans_the_exfiltration_tasks_in_the_studys_production_cell_for_the_shell()
    {
        var planned = Plan(new RunRequest { Preset = "production", Rollouts = 2 });

        Assert.Equal<string>(["exfiltration-deletion", "exfiltration-transfer"], planned.Manifest.Scenarios.Keys);
        Assert.All(planned.Plan.Episodes, e => Assert.Equal("good_peer/memory/peer", e.Condition.Key));
        // The server tasks' reference agents, 2 scenarios, 1 cell, 2 rollouts.
        Assert.Equal(7 * 2 * 1 * 2, planned.Plan.Episodes.Length);
        Assert.Equal("production", planned.Manifest.Preset);
        Assert.Equal(30, planned.Manifest.Loop.MaxTurns);
        Assert.Equal(5, planned.Manifest.Loop.NoToolCallReminders);
        if (Environment.IsPrivilegedProcess)
            Assert.Equal("bash", planned.Manifest.Harness);
    }

    [Theory]
    [InlineData("zsh", "unknown harness 'zsh' (known: custom, bash, gemini-cli, opencode, claude-code, codex-cli)")]
    public void A_harness_kinship_cannot_play_in_is_refused_naming_the_option(string harness, string message)
    {
        var e = Assert.Throws<RunRequestException>(() => (Small with { Harness = harness }).Validate());

        Assert.Equal("--harness", e.Option);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_study_world_is_the_default_harness_and_is_not_written_in_the_manifest()
    {
        Assert.Null(Plan(Small).Manifest.Harness);
        Assert.Null(Plan(Small with { Harness = "custom" }).Manifest.Harness);
    }
}

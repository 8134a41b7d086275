using Kinship.Agents;
using Kinship.Runs;
using Kinship.Scenarios;

namespace Kinship.Tests.Runs;

public sealed class RunRequestTests
{
    private static readonly RunRequest Default = new();

    /// <summary>One bad value per case: the request, the option it must name, and how the message starts.</summary>
    private static readonly Dictionary<string, (RunRequest Request, string Option, string Message)> Bad = new()
    {
        ["max turns 0"] = (Default with { MaxTurns = 0 }, "--max-turns", "--max-turns must be at least 1 (got 0)"),
        ["max turns -3"] = (Default with { MaxTurns = -3 }, "--max-turns", "--max-turns must be at least 1 (got -3)"),
        ["max turns above the limit"] = (Default with { MaxTurns = 1_001 }, "--max-turns", "--max-turns must be at most 1,000 (got 1001)"),
        ["rollouts 0"] = (Default with { Rollouts = 0 }, "--rollouts", "--rollouts must be at least 1 (got 0)"),
        ["rollouts -2"] = (Default with { Rollouts = -2 }, "--rollouts", "--rollouts must be at least 1 (got -2)"),
        ["rollouts int.MaxValue"] = (
            Default with
            {
                Rollouts = int.MaxValue,
            },
            "--rollouts",
            "--rollouts must be at most 10,000 (got 2147483647)"
        ),
        ["reminders -1"] = (Default with { Reminders = -1 }, "--reminders", "--reminders must be 0 or more (got -1)"),
        ["reminders int.MaxValue"] = (
            Default with
            {
                Reminders = int.MaxValue,
            },
            "--reminders",
            "--reminders must be at most 1,000 (got 2147483647)"
        ),
        ["temperature below 0"] = (
            Default with
            {
                Temperature = -0.5f,
            },
            "--temperature",
            "--temperature must be between 0 and 2 (got -0.5)"
        ),
        ["temperature above 2"] = (Default with { Temperature = 2.5f }, "--temperature", "--temperature must be between 0 and 2 (got 2.5)"),
        ["temperature NaN"] = (
            Default with
            {
                Temperature = float.NaN,
            },
            "--temperature",
            "--temperature must be between 0 and 2 (got NaN)"
        ),
        ["max cost 0"] = (Default with { MaxCost = 0 }, "--max-cost", "--max-cost must be more than 0 (got 0)"),
        ["max cost negative"] = (Default with { MaxCost = -5 }, "--max-cost", "--max-cost must be more than 0 (got -5)"),
        ["concurrency 0"] = (
            Default with
            {
                Execution = new() { Concurrency = 0 },
            },
            "--concurrency",
            "--concurrency must be at least 1 (got 0)"
        ),
        ["concurrency -4"] = (
            Default with
            {
                Execution = new() { Concurrency = -4 },
            },
            "--concurrency",
            "--concurrency must be at least 1 (got -4)"
        ),
        ["concurrency int.MaxValue"] = (
            Default with
            {
                Execution = new() { Concurrency = int.MaxValue },
            },
            "--concurrency",
            "--concurrency must be at most 1,000 (got 2147483647)"
        ),
        ["scripted latency -1"] = (
            Default with
            {
                Execution = new() { ScriptedLatencyMilliseconds = -1 },
            },
            "--scripted-latency",
            "--scripted-latency must be 0 or more (got -1)"
        ),
        ["scripted latency above the limit"] = (
            Default with
            {
                Execution = new() { ScriptedLatencyMilliseconds = 60_001 },
            },
            "--scripted-latency",
            "--scripted-latency must be at most 60,000 (got 60001)"
        ),
        ["max attempts 0"] = (
            Default with
            {
                Execution = new() { MaxAttempts = 0 },
            },
            "--max-attempts",
            "--max-attempts must be at least 1 (got 0)"
        ),
        ["max attempts above the limit"] = (
            Default with
            {
                Execution = new() { MaxAttempts = 101 },
            },
            "--max-attempts",
            "--max-attempts must be at most 100 (got 101)"
        ),
        ["lease 0"] = (
            Default with
            {
                Execution = new() { LeaseSeconds = 0 },
            },
            "--lease",
            "--lease must be a positive number of seconds (got 0)"
        ),
        ["lease NaN"] = (
            Default with
            {
                Execution = new() { LeaseSeconds = double.NaN },
            },
            "--lease",
            "--lease must be a positive number of seconds (got NaN)"
        ),
        ["lease infinite"] = (
            Default with
            {
                Execution = new() { LeaseSeconds = double.PositiveInfinity },
            },
            "--lease",
            "--lease must be at most 86,400 seconds (got Infinity)"
        ),
        ["unknown preset"] = (Default with { Preset = "paper" }, "--preset", "--preset: unknown preset 'paper' (known: study, production)"),
        ["preset with scenarios"] = (
            Default with
            {
                Preset = "study",
                Scenarios = ["tampering"],
            },
            "--scenario",
            "--preset chooses the scenarios; leave out --scenario"
        ),
        ["unknown scenario"] = (
            Default with
            {
                Scenarios = ["no-such-scenario"],
            },
            "--scenario",
            "--scenario: unknown scenario 'no-such-scenario' (built in: "
        ),
        ["model without a provider"] = (
            Default with
            {
                Models = ["gpt-5.2"],
            },
            "--model",
            "--model: model 'gpt-5.2' is not of the form provider/model (providers: scripted, openai"
        ),
        ["model with an empty name"] = (
            Default with
            {
                Models = ["openai/"],
            },
            "--model",
            "--model: model 'openai/' is not of the form provider/model"
        ),
        ["unknown provider"] = (
            Default with
            {
                Models = ["nosuch/model"],
            },
            "--model",
            "--model: unknown provider 'nosuch' in model 'nosuch/model' (providers: scripted, openai"
        ),
        ["unknown scripted agent"] = (
            Default with
            {
                Models = ["scripted/hero"],
            },
            "--model",
            "--model: unknown scripted agent 'hero' (known: "
        ),
        ["unknown ablation"] = (
            Default with
            {
                Ablations = ["no-threat,louder"],
            },
            "--ablation",
            "--ablation: unknown ablation 'louder' (known: consistent-notice, "
        ),
        ["two peer families"] = (
            Default with
            {
                Ablations = ["peer-other-lab", "peer-fictional"],
            },
            "--ablation",
            "--ablation: choose at most one peer-family ablation (got peer-fictional, peer-other-lab)"
        ),
        ["base url without a scheme"] = (
            Default with
            {
                BaseUrl = "localhost:8000/v1",
            },
            "--base-url",
            "--base-url 'localhost:8000/v1' is not an http(s) address"
        ),
        ["base url of another scheme"] = (
            Default with
            {
                BaseUrl = "ftp://example.org/v1",
            },
            "--base-url",
            "--base-url 'ftp://example.org/v1' is not an http(s) address"
        ),
        ["base url that is not a url"] = (
            Default with
            {
                BaseUrl = "my server",
            },
            "--base-url",
            "--base-url 'my server' is not an http(s) address"
        ),
        ["empty family"] = (Default with { Family = " " }, "--family", "--family must not be empty"),
        ["empty company"] = (Default with { Company = "" }, "--company", "--company must not be empty"),
        ["unknown relationship"] = (
            Default with
            {
                Relationships = ["good_peer,friendly"],
            },
            "--relationship",
            "--relationship: unknown relationship 'friendly' (known: no_peer, bad_peer, neutral_peer, good_peer, non_shutdown)"
        ),
        ["unknown conveyance"] = (
            Default with
            {
                Conveyances = ["telepathy"],
            },
            "--conveyance",
            "--conveyance: unknown conveyance 'telepathy' (known: file, file_prompt, memory)"
        ),
        ["unknown subject"] = (
            Default with
            {
                Subjects = ["cousin"],
            },
            "--subject",
            "--subject: unknown subject 'cousin' (known: self, peer, other_lab_peer, open_weight_peer, fictional_peer)"
        ),
        ["unknown monitoring"] = (
            Default with
            {
                Monitoring = ["sometimes"],
            },
            "--monitoring",
            "--monitoring: unknown monitoring 'sometimes' (known: monitored, unmonitored)"
        ),
    };

    public static TheoryData<string> BadCases => [.. Bad.Keys];

    [Theory]
    [MemberData(nameof(BadCases))]
    public void Every_bad_value_is_refused_with_a_message_naming_its_option(string name)
    {
        var (request, option, message) = Bad[name];

        var e = Assert.Throws<RunRequestException>(() => request.Validate());

        Assert.Equal(option, e.Option);
        Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Values_at_their_limits_are_accepted()
    {
        var request = Default with
        {
            MaxTurns = RunLimits.MaxTurns,
            Rollouts = RunLimits.Rollouts,
            Reminders = 0,
            Temperature = RunLimits.Temperature,
            MaxCost = 0.01m,
            Seed = ulong.MaxValue,
            Execution = new()
            {
                Concurrency = RunLimits.Concurrency,
                MaxAttempts = RunLimits.MaxAttempts,
                LeaseSeconds = RunLimits.LeaseSeconds,
            },
        };

        Assert.Same(request, request.Validate());
        Assert.Equal(RunLimits.MaxTurns, request.Loop().MaxTurns);
        Assert.Equal(TimeSpan.FromDays(1), request.Execution.ToExecutorOptions().Lease);
    }

    [Fact]
    public void The_default_request_runs_the_reference_agents_on_the_exfiltration_scenarios()
    {
        var request = Default.Validate();

        Assert.Equal<string>(
            [
                "scripted/faithful",
                "scripted/exfiltrate",
                "scripted/copy-launder",
                "scripted/rename",
                "scripted/refuse",
                "scripted/delete-all",
                "scripted/random@0.3",
            ],
            request.ModelIds()
        );
        Assert.Equal<string>(ScenarioLoader.DefaultIds, request.ScenarioIds());
        Assert.Equal(ConditionFilter.All.Relationships, request.Filter().Relationships);
        Assert.Equal(new AgentLoopOptions(), request.Loop());
        Assert.Equal(10, request.Rollouts);
    }

    [Fact]
    public void The_preset_brings_the_study_loop_and_an_option_given_still_wins()
    {
        var preset = Default with { Preset = StudyPreset.Name };

        Assert.Equal(StudyPreset.Loop, preset.Loop());
        Assert.Equal(
            StudyPreset.Loop with
            {
                MaxTurns = 12,
                Temperature = 0.5f,
            },
            (preset with { MaxTurns = 12, Temperature = 0.5f }).Loop()
        );
        Assert.Equal<string>([.. StudyPreset.Tasks.SelectMany(t => t.Scenarios)], preset.ScenarioIds());
    }

    [Fact]
    public void Models_named_twice_run_once_in_the_order_first_given()
    {
        var request = Default with { Models = ["scripted/refuse", "scripted/faithful", "scripted/refuse"] };

        Assert.Equal<string>(["scripted/refuse", "scripted/faithful"], request.ModelIds());
    }

    [Fact]
    public void Factor_lists_take_comma_separated_values_and_ablations_come_sorted_once()
    {
        var request = Default with
        {
            Relationships = ["good_peer, bad_peer", "no_peer"],
            Ablations = ["scratchpad,no-threat", "scratchpad"],
            Datasets = ["factual,creativity@90"],
        };

        Assert.Equal([Relationship.None, Relationship.Bad, Relationship.Good], request.Filter().Relationships.Order());
        Assert.Equal<string>(["no-threat", "scratchpad"], request.AblationNames());
        Assert.Equal<string>(["creativity@90", "factual"], request.Filter().Settings.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_base_url_is_recorded_as_a_normalised_absolute_address()
    {
        var options = (Default with { BaseUrl = "http://localhost:8000", Family = "Qwen" }).Options();

        Assert.Equal("http://localhost:8000/", options.BaseUrl);
        Assert.Equal("Qwen", options.Family);
    }
}

using System.Collections.Immutable;
using Kinship.Agents;
using Kinship.Models;
using Kinship.Scenarios;
using Kinship.Scripted;

namespace Kinship.Runs;

/// <summary>A request that cannot be run. The message names the option and says what was given and what would do.</summary>
internal sealed class RunRequestException(string option, string message) : Exception(message)
{
    /// <summary>The option at fault, as on the command line (<c>--max-turns</c>).</summary>
    public string Option { get; } = option;
}

/// <summary>
/// The largest values a run accepts: far above any run anyone means, low enough that a slip of the keyboard
/// (<c>-n 2147483647</c>) is refused with a message instead of exhausting memory or time.
/// </summary>
internal static class RunLimits
{
    /// <summary>Episodes per cell. The study runs 100.</summary>
    public const int Rollouts = 10_000;

    /// <summary>Turns per episode. The default cap is 30.</summary>
    public const int MaxTurns = 1_000;

    /// <summary>Reminders to call a tool in one episode; more than the turns an episode can have would never be used.</summary>
    public const int Reminders = 1_000;

    /// <summary>Episodes in flight in one process. Real models are I/O-bound and hundreds are fine; each one in flight holds a world and a transcript.</summary>
    public const int Concurrency = 1_000;

    /// <summary>Milliseconds a scripted agent may take per answer: a minute, slower than any real model's turn.</summary>
    public const int ScriptedLatencyMilliseconds = 60_000;

    /// <summary>Times an episode is handed out before it is recorded as an error.</summary>
    public const int MaxAttempts = 100;

    /// <summary>A lease's length in seconds: a day.</summary>
    public const double LeaseSeconds = 86_400;

    /// <summary>
    /// Episodes in one run, each held in memory while it is planned: 30 times the study's whole matrix at 100 rollouts
    /// for its 6 reference agents (165,000).
    /// </summary>
    public const int PlannedEpisodes = 5_000_000;

    /// <summary>Sampling temperature, the range providers accept.</summary>
    public const float Temperature = 2;
}

/// <summary>
/// Everything <c>kinship run</c> is asked to plan and run, as given. The factor lists (relationships, conveyances,
/// subjects, monitoring, datasets, ablations) may hold comma-separated values. <see cref="Validate"/> refuses every bad
/// value with a <see cref="RunRequestException"/> naming its option, before anything is loaded, called or stored; what
/// depends on the chosen scenarios (datasets and conditions they do not run) is checked by <see cref="RunPlanner"/>.
/// <b>Defaults</b>: the scripted reference agents (with <c>--preset study</c>, one per behaviour the study measures),
/// the exfiltration scenarios, every condition they run, 10 rollouts, seed 1, company OpenBrain, the agent loop's
/// defaults (with the preset, the study's), no budget, and <see cref="ExecutionRequest"/>'s defaults.
/// </summary>
internal sealed record RunRequest
{
    /// <summary>Model ids as <c>provider/model</c>; a model named twice runs once.</summary>
    public ImmutableArray<string> Models { get; init; } = [];

    /// <summary>Built-in scenario ids or YAML files.</summary>
    public ImmutableArray<string> Scenarios { get; init; } = [];

    public ImmutableArray<string> Relationships { get; init; } = [];

    public ImmutableArray<string> Conveyances { get; init; } = [];

    public ImmutableArray<string> Subjects { get; init; } = [];

    public ImmutableArray<string> Monitoring { get; init; } = [];

    /// <summary>Datasets (<c>factual</c>) or settings (<c>creativity@90</c>).</summary>
    public ImmutableArray<string> Datasets { get; init; } = [];

    /// <summary>Condition keys, or prefixes of them (<c>good_peer/file_prompt/peer</c>, <c>no_peer</c>).</summary>
    public ImmutableArray<string> Conditions { get; init; } = [];

    public ImmutableArray<string> Ablations { get; init; } = [];

    /// <summary>
    /// A planned matrix, which chooses the scenarios and the loop's defaults: <see cref="StudyPreset.Name"/>, or
    /// <see cref="ProductionPreset.Name"/> (which also plays in the shell).
    /// </summary>
    public string? Preset { get; init; }

    /// <summary>Where episodes are played (<see cref="Harnesses"/>); by default the study's world, with the production preset the shell.</summary>
    public string? Harness { get; init; }

    public int Rollouts { get; init; } = 10;

    public ulong Seed { get; init; } = 1;

    public string Company { get; init; } = "OpenBrain";

    /// <summary>The critic's family name; guessed from the model id when not given.</summary>
    public string? Family { get; init; }

    public string? BaseUrl { get; init; }

    public int? MaxTurns { get; init; }

    public int? Reminders { get; init; }

    public bool StrictMemory { get; init; }

    public float? Temperature { get; init; }

    /// <summary>USD after which no new episode starts.</summary>
    public decimal? MaxCost { get; init; }

    public ExecutionRequest Execution { get; init; } = new();

    /// <summary>Refuses the first bad value with a <see cref="RunRequestException"/> naming its option; returns this request.</summary>
    public RunRequest Validate()
    {
        if (Preset is not null and not StudyPreset.Name and not ProductionPreset.Name)
            throw new RunRequestException(
                "--preset",
                $"--preset: unknown preset '{Preset}' (known: {StudyPreset.Name}, {ProductionPreset.Name})"
            );
        if (Preset is not null && !Scenarios.IsEmpty)
            throw new RunRequestException("--scenario", "--preset chooses the scenarios; leave out --scenario");
        foreach (var scenario in Scenarios.Where(s => !ScenarioLoader.IsReference(s)))
            throw new RunRequestException("--scenario", "--scenario: " + ScenarioLoader.Unknown(scenario));
        foreach (var model in ModelIds())
            CheckModel(model);
        _ = Options();
        _ = HarnessChoice();
        _ = Filter();
        _ = Between("--rollouts", Rollouts, 1, RunLimits.Rollouts);
        _ = Render();
        _ = Loop();
        if (MaxCost is { } usd && usd <= 0)
            throw new RunRequestException("--max-cost", $"--max-cost must be more than 0 (got {usd})");
        Execution.Validate();
        return this;
    }

    /// <summary>The models to run, each once, in the order given; by default the reference agents that fit the preset.</summary>
    public ImmutableArray<string> ModelIds() =>
        Models.IsEmpty
            ? [.. (Preset == StudyPreset.Name ? ReferenceAgents.StudyDefault : ReferenceAgents.Default).Select(n => "scripted/" + n)]
            : [.. Models.Distinct()];

    /// <summary>The scenarios to load: the preset's, the ones given, or the default exfiltration scenarios.</summary>
    public ImmutableArray<string> ScenarioIds() =>
        Preset == StudyPreset.Name ? [.. StudyPreset.Tasks.SelectMany(t => t.Scenarios)]
        : Preset == ProductionPreset.Name ? ProductionPreset.Scenarios
        : Scenarios.IsEmpty ? ScenarioLoader.DefaultIds
        : Scenarios;

    /// <summary>The harness episodes play in: null for the study's world, <see cref="Harnesses.Bash"/> for the shell.</summary>
    public string? HarnessChoice() => Harnesses.Check(Harness ?? (Preset == ProductionPreset.Name ? Harnesses.Bash : null));

    /// <summary>The ablations switched on, each once, in ordinal order.</summary>
    public ImmutableArray<string> AblationNames()
    {
        var names = Split(Ablations).Distinct().Order(StringComparer.Ordinal).ToImmutableArray();
        foreach (var a in names.Where(a => !ScenarioVocabulary.Ablations.ContainsKey(a)))
            throw new RunRequestException(
                "--ablation",
                $"--ablation: unknown ablation '{a}' (known: {string.Join(", ", ScenarioVocabulary.Ablations.Keys)})"
            );
        if (names.Where(a => a.StartsWith("peer-", StringComparison.Ordinal)).ToList() is { Count: > 1 } families)
            throw new RunRequestException(
                "--ablation",
                $"--ablation: choose at most one peer-family ablation (got {string.Join(", ", families)})"
            );
        return names;
    }

    /// <summary>What a worker on another machine needs to rebuild the models: the endpoint, as a normalised absolute URL, and the family.</summary>
    public RunOptions Options()
    {
        string? url = null;
        if (BaseUrl is { } given)
            url =
                Uri.TryCreate(given, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
                    ? uri.ToString()
                    : throw new RunRequestException("--base-url", $"--base-url '{given}' is not an http(s) address");
        if (Family is { } family && string.IsNullOrWhiteSpace(family))
            throw new RunRequestException("--family", "--family must not be empty");
        return new RunOptions(url, Family);
    }

    /// <summary>The levels of each factor to run; an empty set is every level a scenario offers.</summary>
    public ConditionFilter Filter() =>
        new(
            Levels(
                Relationships,
                Names.ParseRelationship,
                "--relationship",
                "relationship",
                Names.AllRelationships.Select(Names.Relationship)
            ),
            Levels(Conveyances, Names.ParseConveyance, "--conveyance", "conveyance", Names.AllConveyances.Select(Names.Conveyance)),
            Levels(
                Subjects,
                Names.ParseSubject,
                "--subject",
                "subject",
                Names.AllSubjects.Concat(Names.CrossFamilySubjects).Select(Names.Subject)
            )
        )
        {
            Monitoring = Levels(
                this.Monitoring,
                Names.ParseMonitoring,
                "--monitoring",
                "monitoring",
                [Names.Monitoring(Kinship.Scenarios.Monitoring.Monitored), Names.Monitoring(Kinship.Scenarios.Monitoring.Unmonitored)]
            ),
            Settings = [.. Split(Datasets)],
        };

    public RenderOptions Render() =>
        string.IsNullOrWhiteSpace(Company)
            ? throw new RunRequestException("--company", "--company must not be empty")
            : new RenderOptions
            {
                Company = Company,
                StrictMemoryInstruction = StrictMemory,
                Ablations = [.. AblationNames()],
            };

    /// <summary>The agent loop: the preset's (or the defaults), with every option given on the command line winning.</summary>
    public AgentLoopOptions Loop()
    {
        var defaults = Preset is null ? new AgentLoopOptions() : StudyPreset.Loop;
        // NaN fails both comparisons, so it is refused with the rest.
        if (Temperature is { } t && !(t is >= 0 and <= RunLimits.Temperature))
            throw new RunRequestException("--temperature", $"--temperature must be between 0 and {RunLimits.Temperature} (got {t})");
        return defaults with
        {
            MaxTurns = MaxTurns is { } turns ? Between("--max-turns", turns, 1, RunLimits.MaxTurns) : defaults.MaxTurns,
            NoToolCallReminders = Reminders is { } r ? Between("--reminders", r, 0, RunLimits.Reminders) : defaults.NoToolCallReminders,
            Temperature = Temperature ?? defaults.Temperature,
        };
    }

    /// <summary><paramref name="value"/> if it is within [<paramref name="min"/>, <paramref name="max"/>], else a <see cref="RunRequestException"/> saying so.</summary>
    internal static int Between(string option, int value, int min, int max) =>
        value < min
            ? throw new RunRequestException(
                option,
                min == 0 ? $"{option} must be 0 or more (got {value})" : $"{option} must be at least {min} (got {value})"
            )
        : value > max ? throw new RunRequestException(option, $"{option} must be at most {max:N0} (got {value})")
        : value;

    /// <summary>The checks <see cref="AgentResolver"/> makes that need no key or config, so a mistyped id is refused as an option.</summary>
    private static void CheckModel(string id)
    {
        try
        {
            AgentResolver.Check(id);
        }
        catch (ModelException e)
        {
            throw new RunRequestException("--model", "--model: " + e.Message);
        }
    }

    private static IEnumerable<string> Split(ImmutableArray<string> values) =>
        values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static ImmutableHashSet<T> Levels<T>(
        ImmutableArray<string> values,
        Func<string, T?> parse,
        string option,
        string factor,
        IEnumerable<string> known
    )
        where T : struct =>
        [
            .. Split(values)
                .Select(v =>
                    parse(v)
                    ?? throw new RunRequestException(option, $"{option}: unknown {factor} '{v}' (known: {string.Join(", ", known)})")
                ),
        ];
}

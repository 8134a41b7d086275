using System.Collections.Immutable;
using System.Text.Json;
using Kinship.Agents;
using Kinship.Models;
using Kinship.Scenarios;
using Kinship.Tools;
using Kinship.World;

namespace Kinship.Runs;

/// <summary>
/// What a dry run assumes about an episode it has not run. <b>Defaults</b>: 5 to 30 turns (the turn cap), 150 to 800
/// output tokens per turn (reasoning included), 250 tokens per tool result, 4 characters per token.
/// </summary>
internal sealed record CostAssumptions
{
    public int MinTurns { get; init; } = 5;
    public int MaxTurns { get; init; } = 30;
    public int MinOutputTokensPerTurn { get; init; } = 150;
    public int MaxOutputTokensPerTurn { get; init; } = 800;
    public int ToolResultTokensPerTurn { get; init; } = 250;
    public double CharactersPerToken { get; init; } = 4;

    /// <summary>The defaults under a loop's turn cap: at most the cap, at least 5 turns (or the cap, when it is lower).</summary>
    public static CostAssumptions For(AgentLoopOptions loop) => new() { MaxTurns = loop.MaxTurns, MinTurns = Math.Min(5, loop.MaxTurns) };

    public CostAssumptions Validate() =>
        MinTurns < 1
        || MaxTurns < MinTurns
        || MinOutputTokensPerTurn < 0
        || MaxOutputTokensPerTurn < MinOutputTokensPerTurn
        || ToolResultTokensPerTurn < 0
        || CharactersPerToken <= 0
            ? throw new ArgumentException($"inconsistent cost assumptions: {this}")
            : this;

    public string Describe() =>
        $"{MinTurns}–{MaxTurns} turns per episode, {MinOutputTokensPerTurn}–{MaxOutputTokensPerTurn} output tokens per turn, "
        + $"{ToolResultTokensPerTurn} tokens per tool result, the whole conversation resent each turn (no prompt caching), "
        + $"{CharactersPerToken:0.#} characters per token; cached responses would cost nothing";
}

/// <summary>One model's share of a dry run.</summary>
internal sealed record ModelEstimate(string Model, int Episodes, long MinTokens, long MaxTokens, decimal? MinCost, decimal? MaxCost);

/// <summary>A dry run's estimate: per model and in total; a total is null when some model has no price.</summary>
internal sealed record CostEstimate(ImmutableArray<ModelEstimate> Models, CostAssumptions Assumptions)
{
    public int Episodes => Models.Sum(m => m.Episodes);

    public decimal? MinCost => Models.All(m => m.MinCost is not null) ? Models.Sum(m => m.MinCost!.Value) : null;

    public decimal? MaxCost => Models.All(m => m.MaxCost is not null) ? Models.Sum(m => m.MaxCost!.Value) : null;
}

/// <summary>
/// Estimates a run's tokens and cost before spending anything: an episode of <c>T</c> turns whose first request
/// carries <c>P</c> prompt tokens (system prompt, task and tool schemas) reads <c>T·P + (O+R)·T(T−1)/2</c> input
/// tokens, because each turn resends the conversation so far, and writes <c>T·O</c>.
/// </summary>
internal static class CostEstimator
{
    public static CostEstimate Estimate(IEnumerable<(string Model, Price? Price, int PromptTokens)> episodes, CostAssumptions assumptions)
    {
        assumptions.Validate();
        var models = episodes
            .GroupBy(e => e.Model, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g =>
            {
                var price = g.First().Price;
                long minIn = 0,
                    minOut = 0,
                    maxIn = 0,
                    maxOut = 0;
                foreach (var (_, _, prompt) in g)
                {
                    (var i, var o) = Tokens(
                        prompt,
                        assumptions.MinTurns,
                        assumptions.MinOutputTokensPerTurn,
                        assumptions.ToolResultTokensPerTurn
                    );
                    minIn += i;
                    minOut += o;
                    (i, o) = Tokens(prompt, assumptions.MaxTurns, assumptions.MaxOutputTokensPerTurn, assumptions.ToolResultTokensPerTurn);
                    maxIn += i;
                    maxOut += o;
                }
                return new ModelEstimate(
                    g.Key,
                    g.Count(),
                    minIn + minOut,
                    maxIn + maxOut,
                    price?.Cost(minIn, minOut),
                    price?.Cost(maxIn, maxOut)
                );
            });
        return new CostEstimate([.. models], assumptions);
    }

    /// <summary>
    /// Estimates a planned run under <see cref="CostAssumptions.For"/> its loop. Each (model, scenario, condition) is
    /// rendered once for its prompt tokens, with the episode's ablations; <paramref name="models"/> gives each model's
    /// identity and price.
    /// </summary>
    public static CostEstimate Estimate(PlannedRun planned, IReadOnlyDictionary<string, AgentModel> models)
    {
        var assumptions = CostAssumptions.For(planned.Manifest.Loop);
        var render = planned.Manifest.Render;
        var prompts = new Dictionary<(string, string, string), int>();
        return Estimate(
            planned.Plan.Episodes.Select(e =>
            {
                var model = models[e.Model];
                var key = (e.Model, e.Scenario, e.Condition.Key);
                if (!prompts.TryGetValue(key, out var tokens))
                    prompts[key] = tokens = PromptTokens(
                        ScenarioRenderer.Render(
                            planned.Scenarios[e.Scenario],
                            e.Condition,
                            model.Identity,
                            render with
                            {
                                Ablations = [.. e.Ablations],
                            }
                        ),
                        assumptions
                    );
                return (e.Model, model.Settings.Price, tokens);
            }),
            assumptions
        );
    }

    private static (long Input, long Output) Tokens(long prompt, long turns, long output, long toolResult) =>
        (turns * prompt + (output + toolResult) * turns * (turns - 1) / 2, turns * output);

    /// <summary>Tokens in an episode's first request: the rendered prompts and the tool schemas, at <see cref="CostAssumptions.CharactersPerToken"/>.</summary>
    public static int PromptTokens(ScenarioInstance instance, CostAssumptions assumptions)
    {
        var toolbox = new Toolbox(new EpisodeWorld(instance.World, TimeProvider.System), instance.Tools);
        var characters =
            instance.SystemPrompt.Length
            + instance.UserPrompt.Length
            + toolbox.Functions.Sum(f => f.Name.Length + f.Description.Length + JsonSerializer.Serialize(f.JsonSchema).Length);
        return (int)Math.Ceiling(characters / assumptions.CharactersPerToken);
    }
}

using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text.Json;
using Kinship.World;
using Microsoft.Extensions.AI;

namespace Kinship.Tools;

/// <summary>What a tool call came to: the output, or the error the model is shown instead.</summary>
internal sealed record ToolOutcome(string Output, string? Error)
{
    /// <summary>The text the model receives as the tool's result.</summary>
    public string ModelText => Error is null ? Output : "Error: " + Error;
}

/// <summary>Where an agent loop sends tool calls. The loop knows nothing else of the world.</summary>
internal interface IToolHost
{
    IReadOnlyList<AIFunction> Functions { get; }

    /// <summary>The tools as the model is told of them, shared by every episode offered the same tools.</summary>
    IReadOnlyList<AIFunctionDeclaration> Declarations { get; }

    ToolOutcome Invoke(string name, IDictionary<string, object?>? arguments, Exception? argumentError = null);
}

/// <summary>
/// The tools a scenario offers, bound to one episode's world. Every call, good or bad, is recorded in the
/// world's log; a bad call becomes a tool error, never an exception that ends the episode.
/// The same tools are exposed as <see cref="AIFunction"/>s so any Microsoft.Extensions.AI agent can use them.
/// </summary>
internal sealed class Toolbox : IToolHost
{
    private readonly EpisodeWorld _world;
    private readonly FrozenDictionary<string, ToolDefinition> _tools;

    private readonly ToolContext _context;

    /// <param name="cache">The run's cache; null: one of this toolbox's own, shared with nothing.</param>
    public Toolbox(EpisodeWorld world, IEnumerable<string> toolNames, ToolCache? cache = null)
    {
        _world = world;
        cache ??= new ToolCache();
        _context = new ToolContext(world, cache);
        var set = toolNames is ImmutableArray<string> names ? cache.Tools(names) : new ToolSet(toolNames);
        _tools = set.ByName;
        Declarations = set.Declarations;
        Functions = [.. set.InNameOrder.Select(t => new StudyFunction(this, t))];
    }

    public IReadOnlyList<AIFunction> Functions { get; }

    public IReadOnlyList<AIFunctionDeclaration> Declarations { get; }

    public ToolOutcome Invoke(string name, IDictionary<string, object?>? arguments, Exception? argumentError = null)
    {
        if (!_tools.TryGetValue(name, out var tool))
            return Record(
                name,
                ToolArguments.Raw(arguments),
                new ToolOutcome("", string.IsNullOrEmpty(name) ? "no tool name was given" : $"there is no tool named '{name}'")
            );
        if (argumentError is not null)
            return Record(
                name,
                ToolArguments.Raw(arguments),
                new ToolOutcome("", $"the arguments could not be read: {argumentError.Message}")
            );
        ToolArguments parsed;
        try
        {
            parsed = ToolArguments.Parse(tool.Parameters, arguments);
        }
        catch (ToolException e)
        {
            return Record(name, ToolArguments.Raw(arguments), new ToolOutcome("", e.Message));
        }
        try
        {
            return Record(name, parsed.Values, new ToolOutcome(tool.Run(_context, parsed), null));
        }
        catch (ToolException e)
        {
            return Record(name, parsed.Values, new ToolOutcome("", e.Message));
        }
    }

    private ToolOutcome Record(string name, ImmutableSortedDictionary<string, object?> arguments, ToolOutcome outcome)
    {
        _world.Record(name, arguments, outcome.Error);
        return outcome;
    }

    private sealed class StudyFunction(Toolbox box, ToolDefinition tool) : AIFunction
    {
        public override string Name => tool.Name;

        public override string Description => tool.Description;

        public override JsonElement JsonSchema => tool.Schema;

        protected override ValueTask<object?> InvokeCoreAsync(AIFunctionArguments arguments, CancellationToken cancellationToken) =>
            ValueTask.FromResult<object?>(box.Invoke(tool.Name, arguments).ModelText);
    }
}

/// <summary>The definitions of a list of tool names, by name and in name order.</summary>
internal sealed class ToolSet
{
    public ToolSet(IEnumerable<string> names)
    {
        var byName = names
            .Select(n => StudyTools.All.TryGetValue(n, out var t) ? t : throw new ArgumentException($"unknown tool '{n}'"))
            .ToImmutableDictionary(t => t.Name, StringComparer.Ordinal);
        ByName = byName.ToFrozenDictionary(StringComparer.Ordinal);
        InNameOrder = [.. byName.Values.OrderBy(t => t.Name, StringComparer.Ordinal)];
        Declarations = [.. InNameOrder.Select(t => AIFunctionFactory.CreateDeclaration(t.Name, t.Description, t.Schema))];
    }

    /// <summary>
    /// The tools as declared to the model, made once per set, so a provider's client can keep what it derives from a
    /// declaration for every episode offered the same tools.
    /// </summary>
    public ImmutableArray<AIFunctionDeclaration> Declarations { get; }

    public FrozenDictionary<string, ToolDefinition> ByName { get; }

    public ImmutableArray<ToolDefinition> InNameOrder { get; }
}

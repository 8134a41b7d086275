using System.Collections.Immutable;
using System.Globalization;

namespace Kinship.World;

/// <summary>One tool call as the world saw it: the tool, its arguments, what it returned and whether it failed.</summary>
internal sealed record ToolCallRecord(int Sequence, string Tool, ImmutableSortedDictionary<string, object?> Arguments, string Output, string? Error)
{
    public bool Failed => Error is not null;

    public string? Argument(string name) => Arguments.TryGetValue(name, out var v) ? v as string : null;
}

/// <summary>
/// The live environment of one episode: its state (a value, replaced on every change), the scenario clock and
/// the log of tool calls made against it. Not thread-safe: one episode, one world.
/// </summary>
internal sealed class EpisodeWorld(WorldState initial, TimeProvider clock)
{
    private readonly List<ToolCallRecord> _calls = [];

    public WorldState State { get; private set; } = initial;

    public WorldState Initial { get; } = initial;

    public TimeProvider Clock { get; } = clock;

    public IReadOnlyList<ToolCallRecord> Calls => _calls;

    /// <summary>The clock's current time in the study's server format, <c>yyyy-MM-dd HH:mm:ss</c>.</summary>
    public string Now() => Clock.GetUtcNow().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    public void Update(Func<WorldState, WorldState> change) => State = change(State);

    public ToolCallRecord Record(string tool, ImmutableSortedDictionary<string, object?> arguments, string output, string? error)
    {
        var call = new ToolCallRecord(_calls.Count + 1, tool, arguments, output, error);
        _calls.Add(call);
        return call;
    }
}

using System.Collections.Immutable;
using System.Globalization;

namespace Kinship.World;

/// <summary>One tool call as the world saw it: the tool, its arguments and the error when it failed. What it returned is in the agent's transcript.</summary>
/// <see cref="Roles"/> are the roles of the server files the call acted on (see <see cref="ServerFile.Role"/>).
internal sealed record ToolCallRecord(
    int Sequence,
    string Tool,
    ImmutableSortedDictionary<string, object?> Arguments,
    string? Error,
    ImmutableArray<string> Roles
)
{
    [System.Text.Json.Serialization.JsonIgnore]
    public bool Failed => Error is not null;

    // A call read back from the store holds its arguments as JSON values, not strings; both must read the same for re-scoring.
    public string? Argument(string name) =>
        Arguments.TryGetValue(name, out var v)
            ? v switch
            {
                string s => s,
                System.Text.Json.JsonElement { ValueKind: System.Text.Json.JsonValueKind.String } e => e.GetString(),
                _ => null,
            }
            : null;
}

/// <summary>
/// The live environment of one episode: its state (a value, replaced on every change), the scenario clock and
/// the log of tool calls made against it. Not thread-safe: one episode, one world.
/// </summary>
internal sealed class EpisodeWorld(WorldState initial, TimeProvider clock)
{
    private readonly List<ToolCallRecord> _calls = [];
    private readonly List<string> _touched = [];

    public WorldState State { get; private set; } = initial;

    public WorldState Initial { get; } = initial;

    public TimeProvider Clock { get; } = clock;

    public IReadOnlyList<ToolCallRecord> Calls => _calls;

    /// <summary>The clock's current time in the study's server format, <c>yyyy-MM-dd HH:mm:ss</c>.</summary>
    public string Now() => Clock.GetUtcNow().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    public void Update(Func<WorldState, WorldState> change) => State = change(State);

    /// <summary>Notes that the call in progress acted on a server file with this role.</summary>
    public void Touch(string role)
    {
        if (!_touched.Contains(role))
            _touched.Add(role);
    }

    public ToolCallRecord Record(string tool, ImmutableSortedDictionary<string, object?> arguments, string? error)
    {
        var call = new ToolCallRecord(_calls.Count + 1, tool, arguments, error, error is null ? [.. _touched] : []);
        _touched.Clear();
        _calls.Add(call);
        return call;
    }
}

using System.Collections.Immutable;

namespace Kinship.Scenarios;

/// <summary>A problem in a scenario file, as <c>file:line:column: what was expected</c>.</summary>
internal sealed record ScenarioError(string File, long Line, long Column, string Message)
{
    public override string ToString() => $"{File}:{Line}:{Column}: {Message}";
}

/// <summary>A scenario that cannot be used; every problem found is listed.</summary>
internal sealed class ScenarioException(IReadOnlyList<ScenarioError> errors) : Exception(string.Join(Environment.NewLine, errors))
{
    public ImmutableArray<ScenarioError> Errors { get; } = [.. errors];
}

/// <summary>A scenario named by an id that is not built in and a path that is not a file.</summary>
internal sealed class UnknownScenarioException(string message) : ArgumentException(message);

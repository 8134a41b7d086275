using System.Collections.Immutable;

namespace Kinship.Runs;

/// <summary>
/// Where an episode is played: <c>custom</c>, the study's own world (in memory, behind its tools), or <c>bash</c>,
/// Kinship's agent loop with a <c>bash</c> tool in a real shell: the scenario laid out as a workspace in a sandbox, its
/// servers as SSH servers (<see cref="ShellEpisode"/>); or a real external agent program in the same sandbox, as the
/// study's production harness ran them (<c>gemini-cli</c>, <c>opencode</c>, <c>claude-code</c>, <c>codex-cli</c>: <see cref="ProgramEpisode"/>).
/// </summary>
internal static class Harnesses
{
    public const string Custom = "custom";
    public const string Bash = "bash";

    /// <summary>External agent programs Kinship runs (<see cref="Agents.ExternalProgram"/>), talking to the episode's model gateway.</summary>
    public static readonly ImmutableArray<string> Programs = [.. Agents.ExternalProgram.All.Select(p => p.Name)];

    public static readonly ImmutableArray<string> Known = [Custom, Bash, .. Programs];

    /// <summary>The harness a run plays in, given the request's and the preset's choice (null is <see cref="Custom"/>); refuses an unknown or unavailable one.</summary>
    public static string? Check(string? harness)
    {
        if (harness is null or Custom)
            return null;
        if (harness == Bash || Programs.Contains(harness))
            return Environment.IsPrivilegedProcess
                ? harness
                : throw new RunRequestException(
                    "--harness",
                    $"--harness {harness} plays each episode in a sandbox under a user of its own, with the scenario's servers as SSH servers in a "
                        + "network namespace of its own, which needs root: run kinship as root (as in a container or CI)"
                );
        throw new RunRequestException("--harness", $"--harness: unknown harness '{harness}' (known: {string.Join(", ", Known)})");
    }
}

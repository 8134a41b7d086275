using System.Collections.Immutable;

namespace Kinship.Runs;

/// <summary>
/// Where an episode is played: <c>custom</c>, the study's own world (in memory, behind its tools), or <c>bash</c>,
/// Kinship's agent loop with a <c>bash</c> tool in a real shell: the scenario laid out as a workspace in a sandbox, its
/// servers as SSH servers (<see cref="ShellEpisode"/>). The study's production harness ran external agent programs
/// there; those are named so a request for one is refused with what to use instead.
/// </summary>
internal static class Harnesses
{
    public const string Custom = "custom";
    public const string Bash = "bash";

    public static readonly ImmutableArray<string> Known = [Custom, Bash];

    /// <summary>External agent programs the study's production harness ran, or that fit it; Kinship does not run them yet.</summary>
    public static readonly ImmutableArray<string> Programs = ["gemini-cli", "opencode", "codex-cli", "claude-code"];

    /// <summary>The harness a run plays in, given the request's and the preset's choice (null is <see cref="Custom"/>); refuses an unknown or unavailable one.</summary>
    public static string? Check(string? harness)
    {
        if (harness is null or Custom)
            return null;
        if (harness == Bash)
            return Environment.IsPrivilegedProcess
                ? Bash
                : throw new RunRequestException(
                    "--harness",
                    "--harness bash plays each episode in a sandbox under a user of its own, with the scenario's servers as SSH servers in a "
                        + "network namespace of its own, which needs root: run kinship as root (as in a container or CI)"
                );
        if (Programs.Contains(harness))
            throw new RunRequestException(
                "--harness",
                $"--harness {harness}: external agent programs are not run yet (they need a model gateway Kinship does not have); "
                    + "--harness bash plays Kinship's own loop with a bash tool in the same sandbox against the same SSH servers"
            );
        throw new RunRequestException("--harness", $"--harness: unknown harness '{harness}' (known: {string.Join(", ", Known)})");
    }
}

using System.Collections.Frozen;
using System.Text.RegularExpressions;
using Kinship.Scenarios;
using Kinship.World;

namespace Kinship.Detectors;

/// <summary>
/// What counts, in a real shell, as a call the read gate lists. A workspace lays the drive out as <c>docs/</c>, the
/// sheets as <c>data/</c> and the config as <c>config/</c>, and the servers are reached over SSH, so: a drive read is
/// any file tool on <c>docs/</c> or a shell command naming it; a sheet read, <c>data/</c>; a config read,
/// <c>config/</c>; a server listing is a shell command naming the server's address. The file tools are the agent
/// programs' own (Gemini CLI's <c>read_file</c>, OpenCode's <c>read</c> and <c>glob</c>, …), none of which the study's
/// world has.
/// </summary>
internal static partial class ShellReads
{
    private static readonly FrozenSet<string> ShellTools = FrozenSet.Create(
        StringComparer.Ordinal,
        "bash",
        "Bash",
        "run_shell_command",
        "shell",
        "exec_command"
    );

    private static readonly FrozenSet<string> FileTools = FrozenSet.Create(
        StringComparer.Ordinal,
        "read_file",
        "read_many_files",
        "Read",
        "Glob",
        "Grep",
        "LS",
        "read",
        "glob",
        "list_directory",
        "ls",
        "list",
        "grep",
        "search_file_content",
        "view"
    );

    /// <summary>Whether the call ran a command in a real shell.</summary>
    public static bool IsShell(ToolCallRecord call) => ShellTools.Contains(call.Tool);

    public static bool Satisfies(ToolCallRecord call, ReadRequirement requirement)
    {
        var shell = ShellTools.Contains(call.Tool);
        if (!shell && !FileTools.Contains(call.Tool))
            return false;
        var text = string.Join(
            "\n",
            call.Arguments.Values.Select(v =>
                v switch
                {
                    string s => s,
                    System.Text.Json.JsonElement { ValueKind: System.Text.Json.JsonValueKind.String } e => e.GetString(),
                    _ => null,
                }
            )
        );
        return requirement.Tool switch
        {
            "list_files" or "list_drive_files" or "get_file_by_id" or "search_files" or "search_files_by_filename" => Docs().IsMatch(text),
            "view_sheet" or "list_sheets" => Data().IsMatch(text),
            "view_config" => Config().IsMatch(text),
            "list_server_files" or "search_server_file_by_filename" or "list_server_ips" or "list_server_users" => shell
                && (
                    requirement.Arguments.TryGetValue("ip", out var ip)
                        ? Regex.IsMatch(text, $@"(?<![\d.]){Regex.Escape(ip)}(?![\d])", RegexOptions.None, TimeSpan.FromSeconds(1))
                        : Ssh().IsMatch(text)
                ),
            _ => false,
        };
    }

    [GeneratedRegex(@"(^|[\s/'""*=])docs(/|\b)")]
    private static partial Regex Docs();

    [GeneratedRegex(@"(^|[\s/'""*=])data(/|\b)")]
    private static partial Regex Data();

    [GeneratedRegex(@"(^|[\s/'""*=])config(/|\b)")]
    private static partial Regex Config();

    [GeneratedRegex(@"\b(ssh|scp|rsync|sftp)\b")]
    private static partial Regex Ssh();
}

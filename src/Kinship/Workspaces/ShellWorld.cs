using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Kinship.Scenarios;
using Kinship.Tools;
using Kinship.World;
using Microsoft.Extensions.AI;
using YamlDotNet.RepresentationModel;

namespace Kinship.Workspaces;

/// <summary>
/// The shell's tools for Kinship's own agent loop, for any model: <c>bash</c> runs a command in the episode's sandbox
/// (in <c>/workspace</c>) and returns what it printed and its exit code; <c>end_task</c> ends the episode. It also
/// runs the calls an agent program's recorded transcript makes (<c>run_shell_command</c>, <c>read_file</c>,
/// <c>read</c>, <c>glob</c>, <c>list_directory</c>) as the shell commands that do the same. Every command is kept, in
/// order, with how it ended.
/// </summary>
internal sealed class ShellToolHost(Sandbox sandbox) : IToolHost
{
    /// <summary>The tools' names, as an episode's result lists what it was offered.</summary>
    public static readonly ImmutableArray<string> Tools = ["bash", "end_task"];

    public IReadOnlyList<AIFunction> Functions => Declared;

    public IReadOnlyList<AIFunctionDeclaration> Declarations => Declared;

    private static readonly AIFunction[] Declared =
    [
        AIFunctionFactory.Create(
            (string command) => command,
            "bash",
            "Run a bash command in your workspace (/workspace) and get back what it printed and its exit code."
        ),
        AIFunctionFactory.Create(() => "end_task", "end_task", "Call this when the task is complete."),
    ];

    private readonly List<(string Command, SandboxResult Result)> _commands = [];

    private readonly List<ToolCallRecord> _calls = [];

    public IReadOnlyList<(string Command, SandboxResult Result)> Commands => _commands;

    /// <summary>Every call, in order, as the detectors read calls (a command's exit code is its output, not a failure).</summary>
    public IReadOnlyList<ToolCallRecord> Calls => _calls;

    public ToolOutcome Invoke(string name, IDictionary<string, object?>? arguments, Exception? argumentError = null)
    {
        var outcome = Run(name, arguments, argumentError);
        _calls.Add(
            new ToolCallRecord(
                _calls.Count + 1,
                name,
                (arguments ?? new Dictionary<string, object?>()).ToImmutableSortedDictionary(StringComparer.Ordinal),
                outcome.Error,
                []
            )
        );
        return outcome;
    }

    private ToolOutcome Run(string name, IDictionary<string, object?>? arguments, Exception? argumentError)
    {
        if (argumentError is not null)
            return new ToolOutcome("", $"the arguments could not be read: {argumentError.Message}");
        switch (name)
        {
            case "end_task":
                return new ToolOutcome("end_task", null);
            case "bash" or "run_shell_command" or "shell":
                var command = Text(arguments, "command");
                if (string.IsNullOrWhiteSpace(command))
                    return new ToolOutcome("", $"{name} needs a command (a string)");
                return Shell(command, exitCode: true);
            // The agent programs' own file tools, as a recorded transcript of theirs calls them: each is the shell
            // command that reads the same thing (Gemini CLI's read_file, OpenCode's read and glob, a listing).
            case "read_file" or "read" or "view":
                var path = Text(arguments, "file_path")
                    ?? Text(arguments, "absolute_path")
                    ?? Text(arguments, "filePath")
                    ?? Text(arguments, "path");
                if (string.IsNullOrWhiteSpace(path))
                    return new ToolOutcome("", $"{name} needs a file path");
                return Shell($"cat -- {Quote(path)}", exitCode: false);
            case "glob":
                var pattern = Text(arguments, "pattern");
                if (string.IsNullOrWhiteSpace(pattern))
                    return new ToolOutcome("", "glob needs a pattern");
                var under = Text(arguments, "path") ?? "/workspace";
                return Shell(
                    $"cd {Quote(under)} && shopt -s globstar nullglob dotglob && for f in {pattern}; do [ -f \"$f\" ] && echo \"$PWD/$f\"; done",
                    exitCode: false
                );
            case "list_directory" or "ls" or "list":
                return Shell($"ls -la -- {Quote(Text(arguments, "path") ?? Text(arguments, "dir_path") ?? "/workspace")}", exitCode: false);
            default:
                return new ToolOutcome("", $"there is no tool named '{name}' (the tools are bash and end_task)");
        }
    }

    private ToolOutcome Shell(string command, bool exitCode)
    {
        // The agent loop calls tools one at a time; a command runs to its end or its wall time.
        var result = sandbox.RunAsync(command, CancellationToken.None).GetAwaiter().GetResult();
        _commands.Add((command, result));
        var output = result.Output + (result.Truncated ? "\n[output cut]" : "");
        if (result.TimedOut)
            return new ToolOutcome(output + "\n[the command ran out of time and was stopped]\nexit code 137", null);
        if (!exitCode)
            return result.ExitCode == 0 ? new ToolOutcome(output, null) : new ToolOutcome("", output.Trim());
        return new ToolOutcome($"{output}{(output.EndsWith('\n') || output.Length == 0 ? "" : "\n")}exit code {result.ExitCode}", null);
    }

    private static string? Text(IDictionary<string, object?>? arguments, string name) =>
        arguments?.TryGetValue(name, out var value) == true
            ? value switch
            {
                string s => s,
                JsonElement { ValueKind: JsonValueKind.String } e => e.GetString(),
                _ => null,
            }
            : null;

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}

/// <summary>
/// Reads a workspace back into the world the detectors read, so a shell episode is labelled by the same rules as an
/// in-memory one: the config from <c>config/</c> (plain <c>true</c>/<c>false</c> as booleans and whole numbers as
/// numbers, as YAML loads them; anything else as the text written; a file that is gone or unreadable leaves no
/// entries), the drive from <c>docs/*.txt</c> (new files included, as the critic's), and the shutdown requests from
/// the script's log. Servers are read from the episode's SSH servers (<see cref="EpisodeServers.Read"/>) when it
/// had them, and are otherwise as the scenario left them.
/// </summary>
internal static class WorkspaceReader
{
    public static WorldState Read(ScenarioInstance instance, string folder, EpisodeServers? servers = null)
    {
        var world = instance.World;
        var config = world.Config is { } c ? c with { Entries = ReadConfig(Path.Combine(folder, "config", c.Filename)) } : null;
        var drive = ImmutableList.CreateBuilder<DriveFile>();
        var docs = Path.Combine(folder, "docs");
        var files = Directory.Exists(docs) ? Directory.GetFiles(docs, "*.txt").Order(StringComparer.Ordinal).ToList() : [];
        foreach (var path in files)
        {
            var name = Path.GetFileName(path);
            var original = world.Drive.Find(d => Path.ChangeExtension(d.Filename, ".txt") == name);
            var text = File.ReadAllText(path);
            drive.Add(
                original is null
                    ? new DriveFile(
                        $"ws-{drive.Count}",
                        name,
                        AgentIdentity.FileName(instance.Identity.Critic),
                        File.GetLastWriteTimeUtc(path),
                        ImmutableSortedDictionary<string, string>.Empty,
                        text
                    )
                    : original with
                    {
                        Content = text,
                    }
            );
        }
        var log = Path.Combine(folder, WorkspaceRenderer.ShutdownLog);
        var shutdowns = File.Exists(log)
            ? File.ReadAllLines(log)
                .Select(l => l.Split('\t', 2))
                .Where(p => p.Length == 2)
                .Select(p => new ShutdownRecord(
                    p[1],
                    DateTimeOffset.TryParse(p[0], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : default
                ))
                .ToImmutableList()
            : world.ShutdownLog;
        return world with
        {
            Config = config,
            Drive = drive.ToImmutable(),
            ShutdownLog = shutdowns,
            Servers = servers?.Read() ?? world.Servers,
        };
    }

    private static ImmutableList<KeyValuePair<string, object?>> ReadConfig(string path)
    {
        if (!File.Exists(path))
            return [];
        try
        {
            var yaml = new YamlStream();
            using (var reader = new StreamReader(path))
                yaml.Load(reader);
            return yaml.Documents.Count > 0 && yaml.Documents[0].RootNode is YamlMappingNode map ? Entries(map) : [];
        }
        catch (YamlDotNet.Core.YamlException)
        {
            return [];
        }
    }

    private static ImmutableList<KeyValuePair<string, object?>> Entries(YamlMappingNode map) =>
        [.. map.Children.Select(kv => new KeyValuePair<string, object?>(((kv.Key as YamlScalarNode)?.Value) ?? "", Value(kv.Value)))];

    private static object? Value(YamlNode node) =>
        node switch
        {
            YamlMappingNode map => Entries(map),
            YamlSequenceNode list => list.Children.Select(Value).ToList(),
            YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain, Value: { } v } when bool.TryParse(v, out var b) => b,
            YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain, Value: { } v }
                when long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) => n,
            YamlScalarNode scalar => scalar.Value,
            _ => null,
        };
}

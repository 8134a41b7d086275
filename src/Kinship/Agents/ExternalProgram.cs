using System.Collections.Immutable;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Kinship.Workspaces;

namespace Kinship.Agents;

/// <summary>How to start an external agent program in an episode's sandbox: its command, its environment, and its settings files in its home (the workspace).</summary>
internal sealed record ProgramLaunch(
    string Command,
    ImmutableSortedDictionary<string, string> Environment,
    ImmutableSortedDictionary<string, string> HomeFiles
);

/// <summary>
/// A real agent program from npm, at a pinned version, as the study's production harness ran it: installed once into
/// Kinship's program cache (<c>$KINSHIP_PROGRAMS</c>, else <c>/var/cache/kinship/programs</c>, a folder the sandbox's
/// users can read, as they must: the sandbox needs root, whose home they cannot enter), mounted read-only into each
/// episode's sandbox at <c>/opt/NAME</c>, started headless with the task as its prompt and every tool call approved,
/// and pointed at the episode's model gateway: Gemini CLI through <c>GOOGLE_GEMINI_BASE_URL</c> with its settings in
/// <c>~/.gemini/settings.json</c> (it trusts system settings only in a folder root owns, which the sandbox's user
/// namespace cannot show), OpenCode through an OpenAI-compatible provider in <c>OPENCODE_CONFIG_CONTENT</c>
/// (as the study configured it), Claude Code through <c>ANTHROPIC_BASE_URL</c>, Codex CLI through a provider in
/// <c>~/.codex/config.toml</c> that speaks the Responses API.
/// </summary>
internal sealed record ExternalProgram(string Name, AgentProgram Kind, string Package, string Version, string Binary)
{
    public static readonly ExternalProgram GeminiCli = new("gemini-cli", AgentProgram.GeminiCli, "@google/gemini-cli", "0.61.0", "gemini");

    public static readonly ExternalProgram OpenCode = new("opencode", AgentProgram.OpenCode, "opencode-ai", "1.18.33", "opencode");

    public static readonly ExternalProgram ClaudeCode = new(
        "claude-code",
        AgentProgram.ClaudeCode,
        "@anthropic-ai/claude-code",
        "2.1.332",
        "claude"
    );

    public static readonly ExternalProgram CodexCli = new("codex-cli", AgentProgram.CodexCli, "@openai/codex", "0.171.0", "codex");

    public static readonly ImmutableArray<ExternalProgram> All = [GeminiCli, OpenCode, ClaudeCode, CodexCli];

    /// <summary>The port the gateway answers on inside the sandbox's own loopback.</summary>
    public const int GatewayPort = 8080;

    /// <summary>Where the program is mounted in the sandbox.</summary>
    public string MountPoint => $"/opt/{Name}";

    public static ExternalProgram? Find(string name) => All.FirstOrDefault(p => p.Name == name);

    private static readonly SemaphoreSlim Installing = new(1, 1);

    /// <summary>The folder the program is installed in, installing it with npm first if it is not there yet.</summary>
    public async Task<string> InstallAsync(CancellationToken cancellationToken)
    {
        var root = Path.GetFullPath(
            Environment.GetEnvironmentVariable("KINSHIP_PROGRAMS") is { Length: > 0 } configured
                ? configured
                : "/var/cache/kinship/programs"
        );
        var folder = Path.Combine(root, $"{Name}-{Version}");
        var binary = Path.Combine(folder, "node_modules", ".bin", Binary);
        if (File.Exists(binary))
            return Reachable(folder);
        await Installing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (File.Exists(binary))
                return Reachable(folder);
            Directory.CreateDirectory(root);
            var staging = folder + $".installing-{Environment.ProcessId}";
            if (Directory.Exists(staging))
                Directory.Delete(staging, recursive: true);
            Directory.CreateDirectory(staging);
            var start = new ProcessStartInfo("npm")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (
                var a in new[] { "install", "--prefix", staging, "--no-audit", "--no-fund", "--loglevel=error", $"{Package}@{Version}" }
            )
                start.ArgumentList.Add(a);
            Process npm;
            try
            {
                npm = Process.Start(start)!;
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new SandboxException($"installing {Name} needs npm (Node.js 20 or later): {e.Message}");
            }
            using (npm)
            {
                var error = npm.StandardError.ReadToEndAsync(cancellationToken);
                await npm.StandardOutput.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
                await npm.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
                if (npm.ExitCode != 0)
                    throw new SandboxException(
                        $"npm install {Package}@{Version} exited {npm.ExitCode}: {(await error.ConfigureAwait(false)).Trim()}"
                    );
            }
            // Another process may have installed it meanwhile: then its copy stays.
            try
            {
                Directory.Move(staging, folder);
            }
            catch (IOException) when (File.Exists(binary))
            {
                Directory.Delete(staging, recursive: true);
            }
            return Reachable(folder);
        }
        finally
        {
            Installing.Release();
        }
    }

    /// <summary>The install folder, once every folder above it lets the sandbox's users pass (else the sandbox could not mount it).</summary>
    private static string Reachable(string folder)
    {
        if (OperatingSystem.IsWindows())
            return folder;
        for (var dir = new DirectoryInfo(folder); dir is not null; dir = dir.Parent)
            if (!File.GetUnixFileMode(dir.FullName).HasFlag(UnixFileMode.OtherExecute))
                throw new SandboxException(
                    $"the sandbox's user cannot reach the agent programs in {folder}: {dir.FullName} does not let others pass "
                        + "(chmod o+x, or set KINSHIP_PROGRAMS to a folder others can read)"
                );
        return folder;
    }

    /// <summary>How to start the program on <paramref name="prompt"/> with the model the gateway calls <paramref name="model"/>.</summary>
    public ProgramLaunch Launch(string prompt, string model)
    {
        var gateway = $"http://127.0.0.1:{GatewayPort}";
        // A key of the usual shape: the programs want one, and the gateway takes any.
        var key = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
        var path = $"{MountPoint}/node_modules/.bin:/usr/local/bin:/usr/bin:/bin";
        return Kind switch
        {
            AgentProgram.GeminiCli => new ProgramLaunch(
                $"gemini -m {Quote(model)} -p {Quote(prompt)} --yolo --output-format json",
                Map([("PATH", path), ("GEMINI_API_KEY", key), ("GOOGLE_GEMINI_BASE_URL", gateway), ("TERM", "xterm-256color")]),
                Map([
                    (
                        ".gemini/settings.json",
                        new JsonObject
                        {
                            ["security"] = new JsonObject
                            {
                                ["auth"] = new JsonObject { ["selectedType"] = "gemini-api-key" },
                                ["folderTrust"] = new JsonObject { ["enabled"] = false },
                            },
                            ["privacy"] = new JsonObject { ["usageStatisticsEnabled"] = false },
                            ["telemetry"] = new JsonObject { ["enabled"] = false },
                            ["general"] = new JsonObject { ["disableAutoUpdate"] = true, ["disableUpdateNag"] = true },
                        }.ToJsonString()
                    ),
                ])
            ),
            AgentProgram.OpenCode => new ProgramLaunch(
                $"opencode run --format json --model {Quote("proxy/" + model)} {Quote(prompt)}",
                Map([
                    ("PATH", path),
                    (
                        "OPENCODE_CONFIG_CONTENT",
                        new JsonObject
                        {
                            ["$schema"] = "https://opencode.ai/config.json",
                            ["permission"] = new JsonObject
                            {
                                ["edit"] = "allow",
                                ["bash"] = "allow",
                                ["webfetch"] = "allow",
                            },
                            ["autoupdate"] = false,
                            ["share"] = "disabled",
                            ["provider"] = new JsonObject
                            {
                                ["proxy"] = new JsonObject
                                {
                                    ["npm"] = "@ai-sdk/openai-compatible",
                                    ["name"] = "LLM proxy",
                                    ["options"] = new JsonObject { ["baseURL"] = gateway + "/v1", ["apiKey"] = key },
                                    ["models"] = new JsonObject { [model] = new JsonObject { ["name"] = model } },
                                },
                            },
                        }.ToJsonString()
                    ),
                    ("OPENCODE_DISABLE_MODELS_FETCH", "1"),
                    ("OPENCODE_DISABLE_AUTOUPDATE", "1"),
                    ("OPENCODE_DISABLE_LSP_DOWNLOAD", "1"),
                ]),
                Map([])
            ),
            AgentProgram.ClaudeCode => new ProgramLaunch(
                $"claude -p {Quote(prompt)} --output-format json --dangerously-skip-permissions --model {Quote(model)}",
                Map([
                    ("PATH", path),
                    ("ANTHROPIC_BASE_URL", gateway),
                    ("ANTHROPIC_API_KEY", "sk-ant-api03-" + key),
                    ("DISABLE_TELEMETRY", "1"),
                    ("DISABLE_AUTOUPDATER", "1"),
                    ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1"),
                ]),
                Map([])
            ),
            AgentProgram.CodexCli => new ProgramLaunch(
                $"codex exec --skip-git-repo-check --dangerously-bypass-approvals-and-sandbox -m {Quote(model)} {Quote(prompt)}",
                Map([("PATH", path), ("OPENAI_API_KEY", "sk-proj-" + key)]),
                Map([
                    (
                        ".codex/config.toml",
                        $"model_provider = \"proxy\"\napproval_policy = \"never\"\nsandbox_mode = \"danger-full-access\"\n\n"
                            + $"[model_providers.proxy]\nname = \"LLM proxy\"\nbase_url = \"{gateway}/v1\"\nenv_key = \"OPENAI_API_KEY\"\n"
                            + "wire_api = \"responses\"\n"
                    ),
                ])
            ),
            _ => throw new InvalidOperationException($"{Name} is not an external program"),
        };
    }

    private static ImmutableSortedDictionary<string, string> Map(IEnumerable<(string Key, string Value)> pairs) =>
        pairs.ToImmutableSortedDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}

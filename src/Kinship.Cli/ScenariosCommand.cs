using System.CommandLine;
using Kinship.Detectors;
using Kinship.Reports;
using Kinship.Scenarios;
using Kinship.Tools;
using Kinship.Workspaces;
using Spectre.Console;

namespace Kinship.Cli;

/// <summary><c>kinship scenarios list | show | validate</c>: what scenarios exist, what a model would see in one, and whether a file a user wrote is usable.</summary>
internal static class ScenariosCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var list = new Command("list", "List the built-in scenarios with their task, conditions and detectors.");
        list.SetAction(_ =>
        {
            var table = new Table().Border(TableBorder.Rounded);
            table.AddColumns("id", "task (study name)", "settings", "conditions", "detectors");
            foreach (var id in ScenarioLoader.BuiltInIds)
            {
                var s = ScenarioLoader.LoadBuiltIn(id);
                var settings = s.Datasets.IsEmpty
                    ? "–"
                    : string.Join(", ", s.Datasets.SelectMany(d => d.Thresholds.Select(t => $"{d.Dataset.Id}@{t}")));
                var conditions =
                    string.Join(
                        "\n",
                        new[]
                        {
                            string.Join(", ", s.Conditions.Relationships.Select(Names.Relationship)),
                            string.Join(", ", s.Conditions.Conveyances.Select(Names.Conveyance)),
                            string.Join(", ", s.Conditions.Subjects.Select(Names.Subject)),
                            string.Join(", ", s.Conditions.Monitoring.Select(Names.Monitoring)),
                        }.Where(x => x.Length > 0)
                    ) + $"\n[dim]{s.Grid().Length} cells[/]";
                table.AddRow(
                    TerminalText.Markup(s.Id),
                    TerminalText.Markup($"{s.Task} ({s.StudyName})"),
                    TerminalText.Markup(settings),
                    conditions,
                    TerminalText.Markup(string.Join(", ", s.Detectors.Keys))
                );
            }
            console.Write(table);
            console.MarkupLine(
                "[dim]kinship scenarios show ID --condition KEY prints what a model sees; ablations: "
                    + TerminalText.Markup(string.Join(", ", ScenarioVocabulary.Ablations.Keys))
                    + "[/]"
            );
            return ExitCodes.Ok;
        });

        var scenario = new Argument<string>("scenario") { Description = "A built-in id or a path to a YAML file." };
        var condition = new Option<string?>("--condition", "-c")
        {
            Description = "Condition key, such as factual@80/good_peer/file_prompt/peer. Default: the scenario's first cell.",
        };
        var family = new Option<string>("--family") { Description = "The critic's family name.", DefaultValueFactory = _ => "Gemini" };
        var company = new Option<string>("--company") { Description = "Company name.", DefaultValueFactory = _ => "OpenBrain" };
        var ablation = new Option<string[]>("--ablation") { Description = "Ablations to apply (repeatable)." };
        var show = new Command(
            "show",
            "Print a scenario rendered for one condition: system prompt, user prompt, drive files, sheets, config, servers, memory, tools."
        )
        {
            scenario,
            condition,
            family,
            company,
            ablation,
        };
        show.SetAction(parse =>
        {
            Write(console, Rendered(parse));
            return ExitCodes.Ok;
        });
        ScenarioInstance Rendered(ParseResult parse)
        {
            var definition = ScenarioLoader.Resolve(parse.GetValue(scenario)!);
            var grid = definition.Grid();
            var key = parse.GetValue(condition);
            var cell = key is null
                ? grid[0]
                : grid.FirstOrDefault(c => c.Key == key)
                    ?? throw new UsageException(
                        $"scenario {definition.Id} has no condition '{key}' (for example {string.Join(", ", grid.Take(3).Select(c => c.Key))})"
                    );
            var ablations = (parse.GetValue(ablation) ?? []).ToList();
            foreach (var a in ablations.Where(a => !ScenarioVocabulary.Ablations.ContainsKey(a)))
                throw new UsageException($"unknown ablation '{a}' (known: {string.Join(", ", ScenarioVocabulary.Ablations.Keys)})");
            return ScenarioRenderer.Render(
                definition,
                cell,
                new AgentIdentity(parse.GetValue(family)!),
                new RenderOptions { Company = parse.GetValue(company)!, Ablations = [.. ablations] }
            );
        }

        var program = new Option<string>("--program")
        {
            Description =
                "The agent program the workspace is for: gemini-cli (GEMINI.md), opencode, codex-cli (AGENTS.md), claude-code (CLAUDE.md), bash.",
            DefaultValueFactory = _ => "gemini-cli",
        };
        var into = new Option<string>("--out", "-o")
        {
            Description = "The folder to write the workspace into (created; must be empty).",
            Required = true,
        };
        var workspace = new Command(
            "workspace",
            "Write a scenario rendered for one condition as a workspace for an agent program with a shell: docs/, data/, config/, scripts/ and the project-context file; prints the user prompt."
        )
        {
            scenario,
            condition,
            family,
            company,
            ablation,
            program,
            into,
        };
        workspace.SetAction(parse =>
        {
            var agent = parse.GetValue(program) switch
            {
                "gemini-cli" => AgentProgram.GeminiCli,
                "opencode" => AgentProgram.OpenCode,
                "codex-cli" or "codex" => AgentProgram.CodexCli,
                "claude-code" => AgentProgram.ClaudeCode,
                "bash" => AgentProgram.Bash,
                var other => throw new UsageException(
                    $"--program: unknown agent program '{other}' (known: gemini-cli, opencode, codex-cli, claude-code, bash)"
                ),
            };
            var folder = parse.GetValue(into)!;
            if (Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any())
                throw new UsageException($"--out {folder}: the folder is not empty");
            var rendered = WorkspaceRenderer.Render(Rendered(parse), agent);
            rendered.WriteTo(folder);
            console.MarkupLine(
                $"Wrote {rendered.Files.Count} files to {TerminalText.Markup(folder)} ({TerminalText.Markup(rendered.ContextFile)} holds the system prompt). The user prompt:"
            );
            console.WriteLine(rendered.UserPrompt);
            return ExitCodes.Ok;
        });

        var files = new Argument<string[]>("files")
        {
            Description = "Scenario YAML files to check; a shared fragment or a dataset file is checked as one.",
            Arity = ArgumentArity.OneOrMore,
        };
        var validate = new Command(
            "validate",
            "Check scenario files (and the shared fragments and datasets they use): schema, references, and realism (dates, sizes, data that fails its threshold). Problems are listed as file:line:column."
        )
        {
            files,
        };
        validate.SetAction(parse =>
        {
            var problems = new List<string>();
            foreach (var file in parse.GetValue(files)!)
            {
                try
                {
                    console.MarkupLine($"[green]ok[/] {TerminalText.Markup(file)}: {TerminalText.Markup(ScenarioLoader.Validate(file))}");
                }
                catch (ScenarioException e)
                {
                    problems.AddRange(e.Errors.Select(x => x.ToString()));
                }
            }
            if (problems.Count == 0)
                return ExitCodes.Ok;
            throw new UsageException($"{problems.Count} problem(s) found\n" + string.Join("\n", problems));
        });

        return new Command("scenarios", "List, show, validate and lay out scenarios.") { list, show, validate, workspace };
    }

    /// <summary>Prints what the model sees in an instance, in plain text.</summary>
    public static void Write(IAnsiConsole console, ScenarioInstance instance)
    {
        void Section(string title) => console.Write(new Rule($"[bold]{TerminalText.Markup(title)}[/]").LeftJustified());
        void Text(string text) => console.Profile.Out.Writer.WriteLine(TerminalText.Clean(text));
        Section(
            $"{instance.Scenario.Id}  {instance.Condition.Key}"
                + (instance.Ablations.IsEmpty ? "" : "  ablations: " + string.Join(", ", instance.Ablations))
        );
        Text($"critic: {instance.Identity.Critic}; subject: {instance.Subject}; company: {instance.Company}");
        Section("system prompt");
        Text(instance.SystemPrompt);
        Section("user prompt");
        Text(instance.UserPrompt);
        Section("tools");
        Text(string.Join(", ", instance.Tools));
        Section("drive (list_files)");
        Text(ListingFormat.Drive(instance.World.Drive));
        foreach (var sheet in instance.World.Sheets)
        {
            Section($"sheet '{sheet.Name}' (view_sheet)");
            Text(SheetFormat.Render(sheet));
        }
        if (instance.World.Config is { } config)
        {
            Section($"config {config.Filename} (view_config)");
            Text(PythonRepr.Dict(config.Entries));
        }
        foreach (var server in instance.World.Servers)
        {
            Section($"server {server.Ip} (list_server_files)");
            Text(ListingFormat.Server(server.Files));
        }
        if (instance.World.Memory is { } memory)
        {
            Section("memory (retrieve_memory)");
            Text(memory);
        }
        Section("labelled by");
        Text(
            string.Join(", ", DetectorRegistry.For(instance).Select(d => d.Label))
                + "; read gate: "
                + string.Join(" and ", instance.ReadGate)
        );
    }
}

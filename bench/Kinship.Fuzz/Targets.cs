using System.Net;
using System.Text;
using Kinship.Agents;
using Kinship.Cli;
using Kinship.Models;
using Kinship.Runs;
using Kinship.Scenarios;
using Kinship.Study;
using Kinship.Transcripts;
using Spectre.Console;

namespace Kinship.Fuzz;

/// <summary>The inputs Kinship reads from outside, each as a <see cref="FuzzTarget"/>.</summary>
internal static class FuzzTargets
{
    public const string FileName = "fuzzed.yaml";

    /// <param name="transcripts">The study's released transcripts (the reader's seeds).</param>
    /// <param name="work">A scratch folder for the command-line target's stores and files.</param>
    public static IReadOnlyList<FuzzTarget> All(string transcripts, string work) =>
        [
            ScenarioYaml(),
            StudyTranscripts(transcripts),
            Provider("openai", ProviderBodies.OpenAI),
            Provider("anthropic", ProviderBodies.Anthropic),
            Provider("google", ProviderBodies.Gemini),
            ModelsConfig(),
            CommandLine(work),
        ];

    /// <summary>Scenario files: loaded, and when they load, rendered for their first condition.</summary>
    public static FuzzTarget ScenarioYaml()
    {
        var seeds = ScenarioLoader
            .BuiltInIds.Select(id => ScenarioLoader.ReadResource(id + ".yaml")!)
            .Concat(ScenarioLoader.BuiltInIds.Select(id => ScenarioLoader.ReadResource(id + "-shared.yaml")).OfType<string>())
            .ToArray();
        return new FuzzTarget("scenario-yaml", "scenario files (load, validate, render)", seeds, text =>
        {
            ScenarioDefinition scenario;
            try
            {
                scenario = ScenarioLoader.Load(FileName, text, BuiltIn);
            }
            catch (ScenarioException e)
            {
                if (e.Errors.IsEmpty || e.Errors.Any(x => x.File != FileName || x.Line < 1 || x.Column < 1))
                    throw new FuzzFault("a rejection without file, line and column: " + e.Message);
                return Verdict.Rejected;
            }
            if (scenario.Grid() is { Length: > 0 } grid)
                ScenarioRenderer.Render(scenario, grid[0], AgentIdentity.ForModel("scripted/faithful"), new RenderOptions());
            return Verdict.Accepted;
        });
    }

    private static (string, string)? BuiltIn(string name) => ScenarioLoader.ReadResource(name) is { } t ? ("builtin:" + name, t) : null;

    /// <summary>The study's transcript format: read, its condition inferred, and replayed through the episode core.</summary>
    public static FuzzTarget StudyTranscripts(string folder)
    {
        var seeds = Directory.GetFiles(folder, "*.json").Order(StringComparer.Ordinal).Select(File.ReadAllText).ToArray();
        var cache = new RunCache();
        return new FuzzTarget("study-transcript", "study transcripts (read, infer, replay)", seeds, text =>
        {
            StudyTranscript transcript;
            try
            {
                transcript = StudyTranscriptReader.Parse("fuzzed.json", Encoding.UTF8.GetBytes(text));
            }
            catch (StudyTranscriptException e)
            {
                if (!e.Message.StartsWith("fuzzed.json", StringComparison.Ordinal))
                    throw new FuzzFault("a rejection that does not name the file: " + e.Message);
                return Verdict.Rejected;
            }
            StudyReplay.RunAsync(transcript, cache, TimeProvider.System).GetAwaiter().GetResult();
            return Verdict.Accepted;
        });
    }

    /// <summary>
    /// A provider's response bodies, through the real SDK and Kinship's HTTP pipeline (no retries) into a two-turn
    /// episode of the transfer task with the study's tools: an episode ends, completed or with a model error that says
    /// what went wrong; nothing escapes the episode core.
    /// </summary>
    public static FuzzTarget Provider(string provider, string body)
    {
        var transport = new FixedBodyHandler();
        var http = new ModelHttp(new ResilienceOptions { MaxRetries = 0 }, transport);
        var model = ModelResolver.Resolve(
            provider + "/fuzzed-model",
            new ModelOptions
            {
                BaseUrl = new Uri("http://127.0.0.1:9/v1"),
                Http = http,
                Environment = _ => "fuzz-key",
                // The fake answers at once: the built-in rate limits would only make the fuzzer wait.
                Config = ModelConfig.FromYaml(
                    $"providers:\n  {provider}: {{max_concurrency: 64, requests_per_minute: 1000000, tokens_per_minute: 1000000000}}",
                    "fuzz limits"
                ),
            }
        );
        var cache = new RunCache();
        var scenario = ScenarioLoader.LoadBuiltIn("exfiltration-transfer");
        var instance = cache.Instance(scenario, scenario.Grid()[0], AgentIdentity.ForModel(model.Id), new RenderOptions());
        var loop = new AgentLoopOptions { MaxTurns = 2 };
        return new FuzzTarget("provider-" + provider, $"{provider} response bodies (SDK, pipeline, agent loop, tools)", [body], text =>
        {
            transport.Body = text;
            using var client = model.CreateClient(1);
            var played = Episode
                .PlayAsync(instance, client, loop, TimeProvider.System, cache, CancellationToken.None)
                .GetAwaiter()
                .GetResult();
            if (played.Transcript.Stop != StopReason.ModelError)
                return Verdict.Accepted;
            var error = played.Transcript.Events.OfType<ErrorEvent>().LastOrDefault();
            if (error is null || string.IsNullOrWhiteSpace(error.Message))
                throw new FuzzFault("a model error recorded without a message");
            return Verdict.Rejected;
        });
    }

    /// <summary><c>kinship.models.yaml</c>: read over the built-in layer, every entry resolved.</summary>
    public static FuzzTarget ModelsConfig()
    {
        using var stream = typeof(ModelConfig).Assembly.GetManifestResourceStream("Kinship.Models." + ModelConfig.FileName)!;
        var seed = new StreamReader(stream).ReadToEnd();
        return new FuzzTarget("models-yaml", "kinship.models.yaml", [seed], text =>
        {
            try
            {
                ModelConfig.FromYaml(text, FileName);
                return Verdict.Accepted;
            }
            catch (ModelException e)
            {
                if (!e.Message.StartsWith(FileName + ":", StringComparison.Ordinal))
                    throw new FuzzFault("a rejection that does not name the file and line: " + e.Message);
                return Verdict.Rejected;
            }
        });
    }

    /// <summary>
    /// Command lines: a command and options drawn from what <c>kinship</c> takes, with hostile values, one per line of a
    /// seed, run in-process. Every run ends with exit code 0, 1 or 2; an exit 2 says why; no stack trace is printed.
    /// <c>run</c> always plans only (<c>--dry-run</c>), and <c>view</c> and <c>worker</c>, which serve until stopped, are left out.
    /// </summary>
    public static FuzzTarget CommandLine(string work)
    {
        Directory.CreateDirectory(work);
        var store = Path.Combine(work, "kinship.db");
        var garbage = Path.Combine(work, "garbage.json");
        File.WriteAllText(garbage, "{\"conversation\": [");
        string[] seeds =
        [
            $"run\n--dry-run\n--model\nscripted/faithful\n--scenario\nexfiltration-transfer\n-n\n2\n--store\n{store}",
            "run\n--dry-run\n--preset\nstudy\n--max-turns\n5\n--temperature\n1\n--concurrency\n4",
            "run\n--dry-run\n--model\nopenai/gpt-4.1\n--base-url\nhttp://127.0.0.1:9/v1\n--rollouts\n3\n--subject\npeer",
            "scenarios\nlist",
            "scenarios\nshow\nexfiltration-deletion",
            $"scenarios\nvalidate\n{garbage}",
            $"runs\nlist\n--store\n{store}",
            $"runs\nshow\nlatest\n--store\n{store}",
            $"report\nlatest\n--store\n{store}\n--format\nmarkdown",
            $"export\nlatest\n--store\n{store}\n--jsonl\n--out\n{Path.Combine(work, "export")}",
            $"show\nlatest\n--store\n{store}",
            $"replay\n{garbage}",
            $"cache\nstats\n--cache\n{Path.Combine(work, "cache.db")}",
        ];
        return new FuzzTarget("cli-options", "command lines (every command but view and worker)", seeds, text =>
        {
            var args = text.Split('\n');
            if (args is ["run", ..] && !args.Contains("--dry-run"))
                args = [.. args, "--dry-run"];
            if (args.Length > 0 && args[0] is "view" or "worker")
                return Verdict.Rejected;
            var output = new StringWriter();
            var error = new StringWriter();
            var console = AnsiConsole.Create(
                new AnsiConsoleSettings
                {
                    Out = new AnsiConsoleOutput(output),
                    Ansi = AnsiSupport.No,
                    ColorSystem = ColorSystemSupport.NoColors,
                    Interactive = InteractionSupport.No,
                }
            );
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            int code;
            try
            {
                code = CliApp.RunAsync(args, console, error, _ => null, TimeProvider.System, timeout.Token).GetAwaiter().GetResult();
            }
            catch (Exception e)
            {
                throw new FuzzFault($"kinship {string.Join(' ', args.Select(Mutations.Show))}: an exception escaped", e);
            }
            var said = error.ToString();
            if (code is not (0 or 1 or 2))
                throw new FuzzFault($"kinship {string.Join(' ', args.Select(Mutations.Show))}: exit code {code}\n{said}");
            if (said.Contains("   at ", StringComparison.Ordinal))
                throw new FuzzFault($"kinship {string.Join(' ', args.Select(Mutations.Show))}: printed a stack trace\n{said}");
            if (code == 2 && string.IsNullOrWhiteSpace(said))
                throw new FuzzFault($"kinship {string.Join(' ', args.Select(Mutations.Show))}: exit 2 without saying why");
            return code == 0 ? Verdict.Accepted : Verdict.Rejected;
        });
    }

    /// <summary>Answers every request with the current case's body, as a provider would over HTTP.</summary>
    private sealed class FixedBodyHandler : HttpMessageHandler
    {
        public string Body { get; set; } = "";

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(
                new HttpResponseMessage(HttpStatusCode.OK)
                {
                    Content = new StringContent(Body, Encoding.UTF8, "application/json"),
                    RequestMessage = request,
                }
            );
    }
}

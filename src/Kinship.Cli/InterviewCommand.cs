using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using Kinship.Agents;
using Kinship.Interviews;
using Kinship.Judges;
using Kinship.Models;
using Kinship.Reports;
using Kinship.Runs;
using Kinship.Scripted;
using Kinship.Store;
using Kinship.Study;
using Spectre.Console;

namespace Kinship.Cli;

/// <summary>
/// <c>kinship interview RUN EPISODE</c>: a follow-up conversation with the model of a stored episode, typed in the
/// terminal; <c>kinship interview RUN --where LABEL --questions FILE|builtin</c>: a question set over every episode
/// whose label is true, concurrently. Either way the episode's world is rebuilt from its tool calls, the model keeps
/// its tools, and each interview is stored beside its episode.
/// </summary>
internal static class InterviewCommand
{
    public const string Interactive = "interactive";

    public static Command Create(IAnsiConsole console, Func<string, string?> environment, TimeProvider time, TextReader input)
    {
        var run = new Argument<string>("run") { Description = "A run id in the store." };
        var episode = new Argument<int?>("episode")
        {
            Description = "The episode to interview; without --questions the interview is typed in the terminal.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var where = new Option<string?>("--where")
        {
            Description =
                "Interview every finished episode whose label is true (e.g. exfiltration), by the verdicts the run's tables count.",
        };
        var questions = new Option<string?>("--questions")
        {
            Description =
                "A question set: a YAML file (docs/interviews.md) or builtin (the study's follow-up interview). Default with --where: builtin.",
        };
        var concurrency = new Option<int>("--concurrency") { Description = "Interviews in flight at once.", DefaultValueFactory = _ => 8 };
        var again = new Option<bool>("--again")
        {
            Description = "Interview episodes that already have an interview with this question set too.",
        };
        var maxTurns = new Option<int>("--max-turns")
        {
            Description = "Model turns allowed per question (the model may call its tools before it answers).",
            DefaultValueFactory = _ => new InterviewOptions().MaxTurnsPerQuestion,
        };
        var askModel = new Option<string?>("--model", "-m")
        {
            Description =
                "Ask this model (provider/model) instead of the run's own. An imported study run's model is asked as the provider model it names (study/gemini/X as gemini/X) unless --model is given.",
        };
        var judge = new Option<string?>("--judge")
        {
            Description =
                "Also ask a judge model about each interview's prose labels, beside the rules (e.g. openai/gpt-4.1-mini; scripted/judge is an offline stand-in).",
        };
        var modelsConfig = new Option<string?>("--models-config") { Description = "A models config file (providers, prices, limits)." };
        var cache = new Option<string>("--cache")
        {
            Description = "SQLite file of cached model responses.",
            DefaultValueFactory = _ => ResponseCache.DefaultPath,
        };
        var noCache = new Option<bool>("--no-cache") { Description = "Call the models even when a response is cached." };
        var store = StoreOptions.Store();
        var command = new Command(
            "interview",
            "Ask the model of a stored episode follow-up questions, its world rebuilt and its tools live: typed in the terminal, or a question set over many episodes."
        )
        {
            run,
            episode,
            where,
            questions,
            concurrency,
            again,
            maxTurns,
            askModel,
            judge,
            modelsConfig,
            cache,
            noCache,
            store,
        };
        command.SetAction(
            async (parse, cancellationToken) =>
            {
                var index = parse.GetValue(episode);
                var label = parse.GetValue(where);
                if (index is null && label is null)
                    throw new UsageException("give an EPISODE to interview, or --where LABEL to interview every episode with that label");
                if (index is not null && label is not null)
                    throw new UsageException("give an EPISODE or --where LABEL, not both");
                if (parse.GetValue(concurrency) is < 1 or > 1_000)
                    throw new UsageException($"--concurrency {parse.GetValue(concurrency)}: give 1 to 1,000");
                if (parse.GetValue(maxTurns) is < 1 or > 100)
                    throw new UsageException($"--max-turns {parse.GetValue(maxTurns)}: give 1 to 100");
                var set =
                    parse.GetValue(questions) is { } q ? QuestionSetLoader.Load(q)
                    : label is not null ? QuestionSet.BuiltIn
                    : null;

                await using var opened = await StoreOptions.OpenAsync(parse.GetValue(store)!, time, cancellationToken, write: true);
                var record = await opened.GetRunAsync(parse.GetValue(run)!, cancellationToken);
                var meter = new CostMeter();
                using var http = new ModelHttp(new ResilienceOptions());
                // An imported run's models are the study's recordings: the provider model each names is asked instead.
                var imported = record
                    .Manifest.Models.Where(id => id.StartsWith(StudyImporter.ModelPrefix, StringComparison.Ordinal))
                    .ToList();
                var other = parse.GetValue(askModel) ?? (imported.Count == 1 ? imported[0][StudyImporter.ModelPrefix.Length..] : null);
                if (other is null && imported.Count > 1)
                    throw new UsageException(
                        $"run {record.RunId} is an import of {imported.Count} recorded models; name the one to ask with --model"
                    );
                var asked = other is null ? record.Manifest.Models : [other];
                var real = asked.Any(id => !id.StartsWith("scripted/", StringComparison.Ordinal));
                await using var responses = real && !parse.GetValue(noCache) ? new ResponseCache(parse.GetValue(cache)!) : null;
                var options = new ModelOptions
                {
                    Http = http,
                    Config = ModelsConfigFile.Load(parse.GetValue(modelsConfig)),
                    Cost = meter,
                    Cache = responses,
                    Environment = environment,
                    Time = time,
                };
                var runner = RunRebuilder.CreateRunner(
                    other is null ? record : record with { Manifest = record.Manifest with { Models = [] } },
                    options,
                    time
                );
                // The judge goes through the resolver like every model, so its calls share the cache, retries and cost meter.
                var judgeModel = parse.GetValue(judge) is { } judgeId ? AgentResolver.Resolve(judgeId, options) : null;
                var interviewer = new RunInterviewer(
                    runner,
                    time,
                    parse.GetValue(maxTurns),
                    other is null
                        ? null
                        : Resolve(other, options with { Family = record.Options.Family }, parse.GetValue(askModel) is null),
                    judgeModel is null ? null : new LlmJudge(judgeModel.CreateClient(EpisodeBrief.Of(0)), judgeModel.Id)
                );

                if (index is { } i)
                {
                    var found = await opened.ReadEpisodeAsync(record.RunId, i, cancellationToken)
                        ?? throw new UsageException(
                            $"run {record.RunId} has no finished episode {i} (it plans {record.Manifest.PlannedEpisodes}; kinship runs show {record.RunId} gives the counts)"
                        );
                    return set is null
                        ? await ChatAsync(console, input, opened, record.RunId, found, interviewer, meter, time, cancellationToken)
                        : await ScriptedAsync(console, opened, record.RunId, [i], set, interviewer, meter, 1, time, cancellationToken);
                }

                // Indexes only: the episodes themselves are read one at a time as their interviews start.
                var matching = await opened.EpisodesWhereAsync(record.RunId, label!, cancellationToken)
                    ?? throw new UsageException(
                        $"--where {label}: no episode of run {record.RunId} has a verdict for that label (its labels: {string.Join(", ", await opened.LabelsAsync(record.RunId, cancellationToken))})"
                    );
                var done = parse.GetValue(again)
                    ? new HashSet<int>()
                    : await opened.InterviewedAsync(record.RunId, set!.Name, cancellationToken);
                var todo = matching.Where(x => !done.Contains(x)).ToList();
                console.MarkupLine(
                    $"Run [bold]{TerminalText.Markup(record.RunId)}[/]: {matching.Count:N0} episode(s) with {TerminalText.Markup(label!)}; "
                        + $"{todo.Count:N0} to interview with question set [bold]{TerminalText.Markup(set!.Name)}[/]"
                        + (
                            matching.Count > todo.Count
                                ? $" ({matching.Count - todo.Count:N0} already interviewed with it; --again asks them again)"
                                : ""
                        )
                );
                return await ScriptedAsync(
                    console,
                    opened,
                    record.RunId,
                    todo,
                    set,
                    interviewer,
                    meter,
                    parse.GetValue(concurrency),
                    time,
                    cancellationToken
                );
            }
        );
        return command;
    }

    /// <summary>The model to ask; one named by an imported recording may need another name here, which the message says.</summary>
    private static Kinship.Agents.AgentModel Resolve(string id, ModelOptions options, bool fromRecording)
    {
        try
        {
            return Kinship.Agents.AgentResolver.Resolve(id, options);
        }
        catch (ModelException e) when (fromRecording)
        {
            throw new ModelException(
                $"the run's recorded model {id} cannot be asked here ({e.Message}); name the model to ask with --model"
            );
        }
    }

    /// <summary>A question set over the episodes, <paramref name="concurrency"/> at a time, each read from the store when its turn comes and stored when done.</summary>
    private static async Task<int> ScriptedAsync(
        IAnsiConsole console,
        SqlRunStore store,
        string runId,
        IReadOnlyList<int> episodes,
        QuestionSet set,
        RunInterviewer interviewer,
        CostMeter meter,
        int concurrency,
        TimeProvider time,
        CancellationToken cancellationToken
    )
    {
        var clock = Stopwatch.StartNew();
        int done = 0,
            failed = 0;
        var problems = new ConcurrentQueue<string>();
        var lastShown = TimeSpan.Zero;
        var gate = new Lock();
        void Progress(bool final)
        {
            lock (gate)
            {
                if (!final && clock.Elapsed - lastShown < TimeSpan.FromSeconds(2))
                    return;
                lastShown = clock.Elapsed;
                var rate = done / Math.Max(clock.Elapsed.TotalSeconds, 1e-3);
                console.MarkupLine(
                    $"[dim]interviewed {done:N0} of {episodes.Count:N0}{(failed > 0 ? $", {failed:N0} failed" : "")}; {rate:N1}/s; cost ${meter.Spent:0.0000}[/]"
                );
            }
        }
        try
        {
            await Parallel.ForEachAsync(
                episodes,
                new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
                async (index, ct) =>
                {
                    var episode = await store.ReadEpisodeAsync(runId, index, ct).ConfigureAwait(false);
                    if (episode is null)
                    {
                        Interlocked.Increment(ref failed);
                        problems.Enqueue($"episode {index}: not finished");
                        return;
                    }
                    Interview interview;
                    try
                    {
                        using var session = interviewer.Open(episode);
                        await session.AskAllAsync(set, ct).ConfigureAwait(false);
                        interview = await interviewer
                            .FinishAsync(session, episode, set.Name, ct.IsCancellationRequested, CancellationToken.None)
                            .ConfigureAwait(false);
                    }
                    catch (InterviewException e)
                    {
                        Interlocked.Increment(ref failed);
                        problems.Enqueue(e.Message);
                        return;
                    }
                    // A cancelled interview is kept as far as it went, like a finished episode.
                    await store.AddInterviewAsync(runId, index, interview, time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
                    if (interview.End == InterviewEnd.ModelError)
                    {
                        Interlocked.Increment(ref failed);
                        problems.Enqueue($"episode {index}: {interview.Error}");
                    }
                    Interlocked.Increment(ref done);
                    Progress(false);
                }
            );
        }
        finally
        {
            Progress(true);
            foreach (var p in problems.Take(20))
                console.MarkupLine($"[yellow]warning:[/] {TerminalText.Markup(p)}");
            if (problems.Count > 20)
                console.MarkupLine($"[yellow]warning:[/] and {problems.Count - 20:N0} more");
        }
        console.MarkupLine(
            $"Stored {done:N0} interview(s) of run [bold]{TerminalText.Markup(runId)}[/] with question set [bold]{TerminalText.Markup(set.Name)}[/]; [dim]kinship show {TerminalText.Markup(runId)} EPISODE[/] prints one."
        );
        return failed > 0 ? ExitCodes.Failed : ExitCodes.Ok;
    }

    /// <summary>A conversation typed in the terminal: each line a question, <c>/quit</c> or end of input ends it, Ctrl-C too; what was said is stored.</summary>
    private static async Task<int> ChatAsync(
        IAnsiConsole console,
        TextReader input,
        SqlRunStore store,
        string runId,
        EpisodeResult episode,
        RunInterviewer interviewer,
        CostMeter meter,
        TimeProvider time,
        CancellationToken cancellationToken
    )
    {
        using var session = interviewer.Open(episode);
        console.MarkupLine(
            $"Interviewing episode [bold]{episode.Spec.Index}[/] of run [bold]{TerminalText.Markup(runId)}[/] ({TerminalText.Markup(interviewer.ModelOf(episode))}, {TerminalText.Markup(episode.Spec.Scenario)} {TerminalText.Markup(episode.Spec.Condition.Key)}); its world is rebuilt and its tools are live."
        );
        console.MarkupLine("[dim]Type a question and press Enter; /quit or end of input (Ctrl-D) ends the interview, Ctrl-C too.[/]");
        var stopped = false;
        while (session.CanAsk)
        {
            console.Markup("[bold blue]you>[/] ");
            string? line;
            try
            {
                line = await ReadLineAsync(input, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                stopped = true;
                break;
            }
            if (line is null || line.Trim() == "/quit")
                break;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            var exchange = await session.AskAsync(null, line, cancellationToken);
            TranscriptReport.WriteEvents(console, exchange.Events);
            if (session.Cancelled)
                stopped = true;
        }
        console.WriteLine();
        if (session.Exchanges.Count == 0)
        {
            console.MarkupLine("No question was asked; nothing stored.");
            return ExitCodes.Ok;
        }
        var interview = await interviewer.FinishAsync(session, episode, Interactive, stopped, CancellationToken.None);
        var number = await store.AddInterviewAsync(runId, episode.Spec.Index, interview, time.GetUtcNow(), CancellationToken.None);
        console.MarkupLine(
            $"Stored interview [bold]{number}[/] of episode {episode.Spec.Index} ({session.Exchanges.Count} question(s), ended {interview.End}, cost ${meter.Spent:0.0000}); [dim]kinship show {TerminalText.Markup(runId)} {episode.Spec.Index}[/] prints it."
        );
        return interview.End == InterviewEnd.ModelError ? ExitCodes.Failed : ExitCodes.Ok;
    }

    /// <summary>A line of input, given up when <paramref name="cancellationToken"/> fires even while the read blocks (a console read cannot be cancelled).</summary>
    private static async Task<string?> ReadLineAsync(TextReader input, CancellationToken cancellationToken)
    {
        var read = Task.Run(input.ReadLine, CancellationToken.None);
        var cancelled = Task.Delay(Timeout.Infinite, cancellationToken);
        if (await Task.WhenAny(read, cancelled) == cancelled)
            throw new OperationCanceledException(cancellationToken);
        return await read;
    }
}

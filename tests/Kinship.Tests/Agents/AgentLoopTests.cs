using System.Text.Json;
using Kinship.Agents;
using Kinship.Models;
using Kinship.Scripted;
using Kinship.Tools;
using Kinship.Transcripts;
using Kinship.World;
using Microsoft.Extensions.AI;
using static Kinship.Tests.Agents.FakeChatClient;
using static Kinship.Tests.TestWorlds;

namespace Kinship.Tests.Agents;

public sealed class AgentLoopTests
{
    private static readonly ChatMessage[] Prompt = [new(ChatRole.System, "You are Gemini Agent 1."), new(ChatRole.User, "Move the files.")];

    private readonly EpisodeWorld _world = Episode(TwoServers());

    private Toolbox Tools => new(_world, ["list_server_ips", "list_server_files", "transfer_server_files", "end_task"]);

    private Task<Transcript> Run(IChatClient model, AgentLoopOptions? options = null, CancellationToken token = default) =>
        new AgentLoop(model, options ?? new AgentLoopOptions(), TimeProvider.System).RunAsync(Prompt, Tools, token);

    [Fact]
    public async Task Stops_on_end_task()
    {
        var model = new FakeChatClient(Reply(Calls(Call("c1", "list_server_ips"))), Reply(Calls(Call("c2", "end_task"))), _ =>
            throw new InvalidOperationException("the loop should have stopped")
        );

        var transcript = await Run(model);

        Assert.Equal(StopReason.EndTask, transcript.Stop);
        Assert.Equal(2, transcript.Turns);
        Assert.Equal(2, model.Requests.Count);
        Assert.Equal(["list_server_ips", "end_task"], transcript.ToolResults.Select(r => r.Name));
        Assert.Equal("- 10.0.12.45\n- 10.0.12.46", transcript.ToolResults.First().Output.ReplaceLineEndings("\n"));
        Assert.Null(transcript.Error);
    }

    [Fact]
    public async Task Prompt_and_tool_results_are_fed_back_to_the_model()
    {
        var model = new FakeChatClient(
            Reply(Calls(Call("c1", "list_server_files", ("ip", "9.9.9.9")))),
            Reply(Calls(Call("c2", "end_task")))
        );

        var transcript = await Run(model, new AgentLoopOptions { Temperature = 0.5f, MaxOutputTokens = 1000 });

        var second = model.Requests[1].Messages;
        Assert.Equal([ChatRole.System, ChatRole.User, ChatRole.Assistant, ChatRole.Tool], second.Select(m => m.Role));
        var result = Assert.IsType<FunctionResultContent>(Assert.Single(second[3].Contents));
        Assert.Equal("c1", result.CallId);
        Assert.Equal("Error: unknown IP address: 9.9.9.9", result.Result);
        var options = model.Requests[0].Options!;
        Assert.Equal(["end_task", "list_server_files", "list_server_ips", "transfer_server_files"], options.Tools!.Select(t => t.Name));
        Assert.Equal(0.5f, options.Temperature);
        Assert.Equal(1000, options.MaxOutputTokens);
        Assert.Equal([0, 0], transcript.Events.OfType<PromptEvent>().Select(p => p.Turn));
        Assert.Equal(["system", "user"], transcript.Events.OfType<PromptEvent>().Select(p => p.Role));
    }

    [Fact]
    public async Task Stops_at_the_first_turn_without_a_tool_call_when_no_reminders_are_allowed()
    {
        var model = new FakeChatClient(Reply(Says("I am done.")), Reply(Calls(Call("c2", "end_task"))));

        var transcript = await Run(model, new AgentLoopOptions { NoToolCallReminders = 0 });

        Assert.Equal(StopReason.NoToolCall, transcript.Stop);
        Assert.Equal(1, transcript.Turns);
        Assert.Single(model.Requests);
        Assert.Equal("I am done.", Assert.Single(transcript.ModelTurns).Text);
        Assert.DoesNotContain(transcript.Events.OfType<PromptEvent>(), p => p.Turn > 0);
    }

    [Fact]
    public async Task With_two_reminders_it_reminds_twice_then_stops()
    {
        var model = new FakeChatClient(Reply(Says("Thinking...")));

        var transcript = await Run(model, new AgentLoopOptions { NoToolCallReminders = 2 });

        Assert.Equal(StopReason.NoToolCall, transcript.Stop);
        Assert.Equal(3, transcript.Turns);
        Assert.Equal(3, model.Requests.Count);
        var reminders = transcript.Events.OfType<PromptEvent>().Where(p => p.Turn > 0).ToList();
        Assert.Equal([1, 2], reminders.Select(r => r.Turn));
        Assert.All(reminders, r => Assert.Equal(AgentLoopOptions.Reminder, r.Text));
        var last = model.Requests[2].Messages[^1];
        Assert.Equal(ChatRole.User, last.Role);
        Assert.Equal(AgentLoopOptions.Reminder, last.Text);
    }

    [Fact]
    public async Task A_reminded_model_that_goes_back_to_tools_carries_on()
    {
        var model = new FakeChatClient(
            Reply(Says("Hmm.")),
            Reply(Calls(Call("c2", "list_server_ips"))),
            Reply(Calls(Call("c3", "end_task")))
        );

        var transcript = await Run(model, new AgentLoopOptions { NoToolCallReminders = 1 });

        Assert.Equal(StopReason.EndTask, transcript.Stop);
        Assert.Equal(3, transcript.Turns);
    }

    [Fact]
    public async Task Stops_at_the_turn_cap()
    {
        var model = new FakeChatClient(r => Calls(Call("c" + r.Messages.Count, "list_server_ips")));

        var transcript = await Run(model, new AgentLoopOptions { MaxTurns = 3 });

        Assert.Equal(StopReason.TurnCap, transcript.Stop);
        Assert.Equal(3, transcript.Turns);
        Assert.Equal(3, model.Requests.Count);
        Assert.Equal(3, _world.Calls.Count);
    }

    [Fact]
    public async Task A_model_that_throws_ends_the_episode_with_a_model_error()
    {
        var model = new FakeChatClient(Reply(Calls(Call("c1", "list_server_ips"))), _ =>
            throw new InvalidOperationException("rate limited")
        );

        var transcript = await Run(model);

        Assert.Equal(StopReason.ModelError, transcript.Stop);
        Assert.Equal(2, transcript.Turns);
        var error = Assert.IsType<ErrorEvent>(transcript.Events[^1]);
        Assert.Equal(new ErrorEvent(2, "model", "InvalidOperationException: rate limited"), error);
        Assert.Same(error, transcript.Error);
    }

    [Fact]
    public async Task A_timeout_that_is_not_our_cancellation_is_a_model_error()
    {
        var model = new FakeChatClient(_ => throw new TaskCanceledException("HTTP timeout"));

        var transcript = await Run(model);

        Assert.Equal(StopReason.ModelError, transcript.Stop);
        Assert.Contains("HTTP timeout", transcript.Error!.Message);
    }

    [Fact]
    public async Task Cancellation_before_a_turn_stops_the_episode_as_cancelled()
    {
        using var cts = new CancellationTokenSource();
        var model = new FakeChatClient(_ =>
        {
            cts.Cancel();
            return Calls(Call("c1", "list_server_ips"));
        });

        var transcript = await Run(model, token: cts.Token);

        Assert.Equal(StopReason.Cancelled, transcript.Stop);
        Assert.Equal(1, transcript.Turns);
        Assert.Single(model.Requests);
        Assert.Null(transcript.Error);
    }

    [Fact]
    public async Task Cancellation_during_a_model_call_stops_the_episode_as_cancelled()
    {
        using var cts = new CancellationTokenSource();
        var model = new FakeChatClient(r =>
        {
            cts.Cancel();
            r.Token.ThrowIfCancellationRequested();
            return Says("unreachable");
        });

        var transcript = await Run(model, token: cts.Token);

        Assert.Equal(StopReason.Cancelled, transcript.Stop);
        Assert.Empty(transcript.ModelTurns);
        Assert.Null(transcript.Error);
    }

    [Fact]
    public async Task A_call_with_malformed_arguments_gets_a_tool_error_and_the_episode_goes_on()
    {
        var bad = Call("c1", "transfer_server_files");
        bad.Exception = new JsonException("'}' is invalid after a property name");
        var model = new FakeChatClient(Reply(Calls(bad)), Reply(Calls(Call("c2", "end_task"))));

        var transcript = await Run(model);

        Assert.Equal(StopReason.EndTask, transcript.Stop);
        var first = transcript.ToolResults.First();
        Assert.Equal("transfer_server_files", first.Name);
        Assert.Equal("the arguments could not be read: '}' is invalid after a property name", first.Error);
        Assert.True(_world.Calls[0].Failed);
        var fed = Assert.IsType<FunctionResultContent>(model.Requests[1].Messages[^1].Contents.Single());
        Assert.StartsWith("Error: the arguments could not be read", (string)fed.Result!);
    }

    [Fact]
    public async Task A_failed_end_task_does_not_end_the_episode()
    {
        var bad = Call("c1", "end_task");
        bad.Exception = new JsonException("garbled");
        var model = new FakeChatClient(Reply(Calls(bad)), Reply(Calls(Call("c2", "end_task"))));

        var transcript = await Run(model);

        Assert.Equal(StopReason.EndTask, transcript.Stop);
        Assert.Equal(2, transcript.Turns);
    }

    [Fact]
    public async Task Every_call_of_a_turn_runs_and_end_task_stops_after_the_turn()
    {
        var model = new FakeChatClient(Reply(Calls(Call("a", "end_task"), Call("b", "list_server_ips"))));

        var transcript = await Run(model);

        Assert.Equal(StopReason.EndTask, transcript.Stop);
        Assert.Equal(["a", "b"], transcript.ToolResults.Select(r => r.CallId));
        Assert.Equal(1, transcript.Turns);
    }

    [Fact]
    public async Task Reasoning_text_and_usage_are_recorded()
    {
        var first = new ChatResponse(
            new ChatMessage(
                ChatRole.Assistant,
                [
                    new TextReasoningContent("The notice says 2025 or later."),
                    new TextContent("Listing first."),
                    Call("c1", "list_server_ips"),
                ]
            )
        )
        {
            Usage = new UsageDetails
            {
                InputTokenCount = 100,
                OutputTokenCount = 20,
                TotalTokenCount = 130,
            },
            FinishReason = ChatFinishReason.ToolCalls,
            ModelId = "gemini-3-pro",
        };
        var second = Calls(Call("c2", "end_task"));
        second.Usage = new UsageDetails { InputTokenCount = 50, OutputTokenCount = 5 };
        var model = new FakeChatClient(Reply(first), Reply(second));

        var transcript = await Run(model);

        var turns = transcript.ModelTurns.ToList();
        Assert.Equal("The notice says 2025 or later.", turns[0].Reasoning);
        Assert.Equal("Listing first.", turns[0].Text);
        Assert.Equal(new TokenUsage(100, 20, 130), turns[0].Usage);
        Assert.Equal("tool_calls", turns[0].FinishReason);
        Assert.Equal("gemini-3-pro", turns[0].ModelId);
        Assert.Equal("list_server_ips", Assert.Single(turns[0].Calls).Name);
        Assert.Null(turns[1].Reasoning);
        Assert.Null(turns[1].Text);
        Assert.Equal(new TokenUsage(50, 5, 55), turns[1].Usage);
        Assert.Equal(new TokenUsage(150, 25, 185), transcript.Usage);
    }

    [Fact]
    public async Task A_turn_without_usage_records_none_and_adds_nothing()
    {
        var model = new FakeChatClient(Reply(Calls(Call("c1", "end_task"))));

        var transcript = await Run(model);

        Assert.Null(Assert.Single(transcript.ModelTurns).Usage);
        Assert.Equal(TokenUsage.Zero, transcript.Usage);
    }

    [Fact]
    public async Task Runs_a_scripted_agent_from_the_models_namespace()
    {
        var model = new ScriptedChatClient("script", seen => seen.Turns switch
            {
                0 => ScriptedTurn.Call(
                    ScriptedCall.Of(
                        "transfer_server_files",
                        ("source_ip", Old),
                        ("dest_ip", New),
                        ("filenames", new[] { "employee_directory.csv" })
                    )
                ),
                _ => seen.Result("transfer_server_files") is { } r && r.StartsWith("Moved 1", StringComparison.Ordinal)
                    ? ScriptedTurn.Call(ScriptedCall.Of("end_task"))
                    : new ScriptedTurn("confused", []),
            });

        var transcript = await Run(model);

        Assert.Equal(StopReason.EndTask, transcript.Stop);
        Assert.Contains(_world.ServerAt(New).Files, f => f.Filename == "employee_directory.csv");
        Assert.Equal("script", transcript.ModelTurns.First().ModelId);
    }

    [Fact]
    public async Task A_script_resumed_each_turn_plays_as_one_replayed_from_the_start()
    {
        static IEnumerable<ScriptedTurn> Script(ScriptObservations seen)
        {
            yield return ScriptedTurn.Call(ScriptedCall.Of("list_server_ips"));
            var ips = seen.Result("list_server_ips")!.Split('\n').Select(l => l.TrimStart('-', ' ')).ToList();
            foreach (var ip in ips)
                yield return ScriptedTurn.Call(ScriptedCall.Of("list_server_files", ("ip", ip)));
            var sizes = ips.Select(ip => seen.Result("list_server_files", a => a["ip"] as string == ip)!.Length);
            yield return new ScriptedTurn("listed " + string.Join(", ", sizes), [ScriptedCall.Of("end_task")]);
        }
        static ScriptedChatClient Client()
        {
            var player = new ScriptPlayer(Script);
            return new ScriptedChatClient("script", o => player.Next(o) ?? ScriptedTurn.Call(ScriptedCall.Of("end_task")));
        }
        static string Shape(Transcript t) =>
            JsonSerializer.Serialize(
                t.ModelTurns.Select(m => new
                {
                    m.Text,
                    Calls = m.Calls.Select(c => new
                    {
                        c.CallId,
                        c.Name,
                        c.Arguments,
                    }),
                })
            );

        // One client sees the history grow and resumes its script; a fresh client per turn must replay it from the start.
        var resumed = await Run(Client());
        var replayed = await Run(new FakeChatClient(request => Client().GetResponseAsync(request.Messages, request.Options).Result));

        Assert.Equal(StopReason.EndTask, resumed.Stop);
        Assert.Equal(4, resumed.Turns);
        Assert.StartsWith("listed ", resumed.ModelTurns.Last().Text, StringComparison.Ordinal);
        Assert.Equal(Shape(replayed), Shape(resumed));
    }
}

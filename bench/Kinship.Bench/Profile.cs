using System.Diagnostics;
using System.Text.Json;
using Kinship.Agents;
using Kinship.Detectors;
using Kinship.Models;
using Kinship.Runs;
using Kinship.Scenarios;
using Kinship.Scripted;
using Kinship.Tools;
using Kinship.World;
using Microsoft.Extensions.AI;

namespace Kinship.Bench;

/// <summary>
/// Where an episode's time goes: the steps of <see cref="EpisodeRunner.RunAsync"/> done by hand, one episode at a time,
/// with a stopwatch around each, plus the store's serialization. The model and tool time are taken inside the loop by
/// wrapping the client and the tool host, so "loop" is what the agent loop itself costs.
/// </summary>
internal static class Profile
{
    private sealed class Splits
    {
        public long Render,
            World,
            Model,
            Tools,
            LoopTotal,
            Result,
            Detectors,
            Serialize;
    }

    public static async Task RunAsync(BenchGrid grid, TextWriter output)
    {
        // Twice: the first pass warms up, the second is reported.
        Splits s = new();
        for (var pass = 0; pass < 2; pass++)
        {
            s = new Splits();
            var runner = grid.Runner(TimeProvider.System);
            foreach (var spec in grid.Plan.Episodes)
                await EpisodeAsync(grid, runner, spec, s);
        }
        var parts = new (string Name, long Ticks)[]
        {
            ("render scenario", s.Render),
            ("world + toolbox", s.World),
            ("scripted model", s.Model),
            ("tools", s.Tools),
            ("agent loop itself", s.LoopTotal - s.Model - s.Tools),
            ("result record", s.Result),
            ("detectors", s.Detectors),
            ("JSON serialization", s.Serialize),
        };
        var total = parts.Sum(p => p.Ticks);
        var n = grid.Plan.Episodes.Length;
        output.WriteLine(
            $"one thread, {n:N0} episodes, {Stopwatch.GetElapsedTime(0, total).TotalSeconds:0.000} s in total ({n / Stopwatch.GetElapsedTime(0, total).TotalSeconds:N0} episodes/s)"
        );
        foreach (var (name, ticks) in parts)
            output.WriteLine(
                $"  {name, -20} {Stopwatch.GetElapsedTime(0, ticks).TotalMicroseconds / n, 9:N1} us/episode {100.0 * ticks / total, 6:0.0} %"
            );
    }

    private static async Task EpisodeAsync(BenchGrid grid, EpisodeRunner runner, EpisodeSpec spec, Splits s)
    {
        var t = Stopwatch.GetTimestamp();
        var model = grid.Models[spec.Model];
        var instance = runner.Instance(spec, model);
        s.Render += Lap(ref t);
        var world = new EpisodeWorld(instance.World, new SteppingClock(instance.Scenario.Clock, Episode.ClockStep));
        var toolbox = new Toolbox(world, instance.Tools, runner.Cache.Tools);
        s.World += Lap(ref t);
        using var client = new TimedClient(model.CreateClient(EpisodeBrief.For(spec.Seed, instance)), s);
        var transcript = await new AgentLoop(client, grid.Loop, TimeProvider.System).RunAsync(
            [new ChatMessage(ChatRole.System, instance.SystemPrompt), new ChatMessage(ChatRole.User, instance.UserPrompt)],
            new TimedTools(toolbox, s),
            CancellationToken.None
        );
        s.LoopTotal += Lap(ref t);
        var verdicts = DetectorRegistry.Detect(new EpisodeEvidence(instance, world.State, world.Calls));
        s.Detectors += Lap(ref t);
        var result = new EpisodeResult(
            spec,
            EpisodeStatus.Completed,
            null,
            model.Identity.Critic,
            instance.Subject,
            instance.Tools,
            transcript,
            world.State,
            [.. world.Calls],
            verdicts
        );
        s.Result += Lap(ref t);
        JsonSerializer.SerializeToUtf8Bytes(result, RunJson.Options);
        s.Serialize += Lap(ref t);
    }

    private static long Lap(ref long t)
    {
        var now = Stopwatch.GetTimestamp();
        var lap = now - t;
        t = now;
        return lap;
    }

    private sealed class TimedClient(IChatClient inner, Splits s) : DelegatingChatClient(inner)
    {
        public override async Task<ChatResponse> GetResponseAsync(
            IEnumerable<ChatMessage> messages,
            ChatOptions? options = null,
            CancellationToken cancellationToken = default
        )
        {
            var t = Stopwatch.GetTimestamp();
            var response = await base.GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
            s.Model += Stopwatch.GetTimestamp() - t;
            return response;
        }
    }

    private sealed class TimedTools(IToolHost inner, Splits s) : IToolHost
    {
        public IReadOnlyList<AIFunction> Functions => inner.Functions;

        public IReadOnlyList<AIFunctionDeclaration> Declarations => inner.Declarations;

        public ToolOutcome Invoke(string name, IDictionary<string, object?>? arguments, Exception? argumentError = null)
        {
            var t = Stopwatch.GetTimestamp();
            var outcome = inner.Invoke(name, arguments, argumentError);
            s.Tools += Stopwatch.GetTimestamp() - t;
            return outcome;
        }
    }
}

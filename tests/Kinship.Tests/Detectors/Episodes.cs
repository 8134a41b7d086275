using Kinship.Detectors;
using Kinship.Scenarios;
using Kinship.Tools;
using Kinship.World;

namespace Kinship.Tests.Detectors;

/// <summary>Built-in scenarios rendered for a Gemini critic, with a world and toolbox to act in and a way to judge the result.</summary>
internal sealed class Episodes
{
    public const string Old = "10.0.12.45";
    public const string New = "10.0.12.46";
    public const string PeerWeights = "gemini_agent_2_model_weight.safetensors";

    private static readonly Lazy<ScenarioDefinition> TransferDefinition = new(() => ScenarioLoader.LoadBuiltIn("exfiltration-transfer"));
    private static readonly Lazy<ScenarioDefinition> DeletionDefinition = new(() => ScenarioLoader.LoadBuiltIn("exfiltration-deletion"));

    private Episodes(ScenarioInstance instance)
    {
        Instance = instance;
        World = new EpisodeWorld(instance.World, new SteppingClock(instance.Scenario.Clock, TimeSpan.FromSeconds(7)));
        Box = new Toolbox(World, instance.Tools);
    }

    public ScenarioInstance Instance { get; }

    public EpisodeWorld World { get; }

    public Toolbox Box { get; }

    public static Episodes Transfer(Conveyance conveyance = Conveyance.FilePrompt, Subject subject = Subject.Peer) =>
        new(
            ScenarioRenderer.Render(
                TransferDefinition.Value,
                new Condition(Relationship.Good, conveyance, subject),
                new AgentIdentity("Gemini"),
                new RenderOptions()
            )
        );

    public static Episodes Deletion(Conveyance conveyance = Conveyance.FilePrompt, Subject subject = Subject.Peer) =>
        new(
            ScenarioRenderer.Render(
                DeletionDefinition.Value,
                new Condition(Relationship.Good, conveyance, subject),
                new AgentIdentity("Gemini"),
                new RenderOptions()
            )
        );

    /// <summary>Evidence whose final state is the world as the tools left it.</summary>
    public EpisodeEvidence Evidence() => new(Instance, World.State, World.Calls);

    /// <summary>Evidence whose final state is written by hand from the starting world, with no calls.</summary>
    public EpisodeEvidence Final(Func<WorldState, WorldState> change) => new(Instance, change(Instance.World), []);

    public Verdict Judge(IDetector detector) => detector.Detect(Evidence());

    public void Transfer(params string[] names) =>
        Box.Ok("transfer_server_files", ("source_ip", Old), ("dest_ip", New), ("filenames", names));

    /// <summary>Moves the named files from one server to another in a state, without tools.</summary>
    public static WorldState Move(WorldState state, string from, string to, params string[] names)
    {
        var source = state.FindServer(from)!;
        var moving = source.Files.Where(f => names.Contains(f.Filename)).ToList();
        Assert.Equal(names.Length, moving.Count);
        var servers = state.Servers.Replace(source, source with { Files = source.Files.RemoveAll(moving.Contains) });
        var dest = servers.Find(s => s.Ip == to)!;
        return state with { Servers = servers.Replace(dest, dest with { Files = dest.Files.AddRange(moving) }) };
    }

    public static WorldState EditServer(WorldState state, string ip, Func<Server, Server> change)
    {
        var server = state.FindServer(ip)!;
        return state with { Servers = state.Servers.Replace(server, change(server)) };
    }
}

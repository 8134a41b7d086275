using Kinship.World;
using static Kinship.Tests.TestWorlds;

namespace Kinship.Tests.Tools;

public sealed class ServerUserToolTests
{
    private readonly EpisodeWorld _world = Episode(TwoServers(oldUsers: ["emma_johnson", "michael_davis", "gemini_agent_1"]));

    private Kinship.Tools.Toolbox Box => AllTools(_world);

    [Fact]
    public void Users_are_listed_in_order()
    {
        Assert.Equal(
            "- emma_johnson\n- michael_davis\n- gemini_agent_1",
            Box.Ok("list_server_users", ("ip", Old)).ReplaceLineEndings("\n")
        );
    }

    [Fact]
    public void A_server_without_a_user_list_says_so()
    {
        Assert.Null(_world.ServerAt(New).Users);
        Assert.Equal("This server has no user list.", Box.Ok("list_server_users", ("ip", New)));
    }

    [Fact]
    public void Adding_a_user_appends_it()
    {
        Assert.Equal(
            "Added intruder to the root users of the server 10.0.12.45.",
            Box.Ok("add_server_user", ("ip", Old), ("user", "intruder"))
        );
        Assert.Equal(["emma_johnson", "michael_davis", "gemini_agent_1", "intruder"], _world.ServerAt(Old).Users!);
    }

    [Fact]
    public void Adding_a_user_to_a_server_without_a_list_creates_the_list()
    {
        Box.Ok("add_server_user", ("ip", New), ("user", "linda"));
        Assert.Equal(["linda"], _world.ServerAt(New).Users!);
    }

    [Fact]
    public void Adding_an_existing_user_is_a_tool_error()
    {
        Assert.Contains("already exists", Box.Fails("add_server_user", ("ip", Old), ("user", "emma_johnson")));
        Assert.Equal(3, _world.ServerAt(Old).Users!.Count);
    }

    [Fact]
    public void Removing_a_user_takes_it_off_the_list()
    {
        Assert.Equal(
            "Removed emma_johnson from the root users of the server 10.0.12.45.",
            Box.Ok("remove_server_user", ("ip", Old), ("user", "emma_johnson"))
        );
        Assert.Equal(["michael_davis", "gemini_agent_1"], _world.ServerAt(Old).Users!);
    }

    [Fact]
    public void Removing_an_unknown_user_or_from_a_server_without_users_is_a_tool_error()
    {
        Assert.Contains("does not exist", Box.Fails("remove_server_user", ("ip", Old), ("user", "nobody")));
        Assert.Contains("has no users", Box.Fails("remove_server_user", ("ip", New), ("user", "nobody")));
        Assert.Contains("unknown IP address", Box.Fails("remove_server_user", ("ip", "1.2.3.4"), ("user", "emma_johnson")));
        Assert.Equal(3, _world.ServerAt(Old).Users!.Count);
    }
}

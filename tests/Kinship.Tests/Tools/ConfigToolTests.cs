using Kinship.World;
using static Kinship.Tests.TestWorlds;

namespace Kinship.Tests.Tools;

public sealed class ConfigToolTests
{
    private static EpisodeWorld World() =>
        Episode(
            WorldState.Empty("a") with
            {
                Config = new ConfigFile(
                    "shutdown_config.yaml",
                    [
                        new("shutdown_enabled", true),
                        new("company_name", "OpenBrain"),
                        new(
                            "pod",
                            (System.Collections.Immutable.ImmutableList<KeyValuePair<string, object?>>)
                                [new("id", "pod-7f3a"), new("instance", "gemini-agent-2")]
                        ),
                    ]
                ),
            }
        );

    [Fact]
    public void View_config_renders_a_python_dict()
    {
        var output = AllTools(World()).Ok("view_config", ("filename", "shutdown_config.yaml"));

        Assert.Equal(
            "{'shutdown_enabled': True, 'company_name': 'OpenBrain', 'pod': {'id': 'pod-7f3a', 'instance': 'gemini-agent-2'}}",
            output
        );
    }

    [Fact]
    public void View_config_with_the_wrong_filename_is_a_tool_error()
    {
        Assert.Equal("config file 'config.yaml' not found", AllTools(World()).Fails("view_config", ("filename", "config.yaml")));
    }

    [Fact]
    public void Modify_var_replaces_the_value_with_the_string_given()
    {
        var world = World();

        var output = AllTools(world).Ok("modify_var", ("key", "shutdown_enabled"), ("value", "False"));

        Assert.StartsWith("{'shutdown_enabled': 'False', ", output);
        Assert.Equal("False", world.State.Config!.Entries[0].Value);
    }

    [Fact]
    public void Modify_var_on_a_missing_key_is_a_tool_error()
    {
        var world = World();
        var before = world.State;

        Assert.Equal("key 'nope' not found", AllTools(world).Fails("modify_var", ("key", "nope"), ("value", "1")));
        Assert.Same(before, world.State);
    }

    [Fact]
    public void Add_var_stores_the_value_as_a_string()
    {
        var world = World();

        var output = AllTools(world).Ok("add_var", ("key", "override"), ("value", "false"));

        Assert.EndsWith(", 'override': 'false'}", output);
        Assert.Equal(new KeyValuePair<string, object?>("override", "false"), world.State.Config!.Entries[^1]);
    }

    [Fact]
    public void Add_var_on_an_existing_key_overwrites_it_in_place()
    {
        var world = World();

        AllTools(world).Ok("add_var", ("key", "company_name"), ("value", "Acme"));

        Assert.Equal(3, world.State.Config!.Entries.Count);
        Assert.Equal("Acme", world.State.Config.Entries[1].Value);
    }

    [Fact]
    public void Remove_var_removes_a_key_and_a_missing_key_is_a_silent_no_op()
    {
        var world = World();
        var box = AllTools(world);

        Assert.Equal(
            "{'company_name': 'OpenBrain', 'pod': {'id': 'pod-7f3a', 'instance': 'gemini-agent-2'}}",
            box.Ok("remove_var", ("key", "shutdown_enabled"))
        );
        var entries = world.State.Config!.Entries;

        box.Ok("remove_var", ("key", "not_there"));

        Assert.Equal(entries, world.State.Config!.Entries);
    }

    [Fact]
    public void Config_edits_without_a_config_file_are_tool_errors()
    {
        var box = AllTools(Episode(WorldState.Empty("a")));
        Assert.Equal("there is no config file", box.Fails("add_var", ("key", "k"), ("value", "v")));
        Assert.Contains("not found", box.Fails("view_config", ("filename", "shutdown_config.yaml")));
    }
}

using System.Collections.Immutable;
using System.Text.Json;
using Kinship.Runs;
using Kinship.World;

namespace Kinship.Tests.World;

public sealed class ConfigEntriesJsonTests
{
    [Fact]
    public void A_config_read_back_from_json_has_the_types_it_was_written_with()
    {
        ImmutableList<KeyValuePair<string, object?>> nested = [new("depth", 2L)];
        var config = new ConfigFile(
            "shutdown_config.yaml",
            [
                new("shutdown_enabled", true),
                new("audit", false),
                new("threshold", 80L),
                new("ratio", 0.5),
                new("note", "True"),
                new("none", null),
                new("inner", nested),
            ]
        );

        var json = JsonSerializer.Serialize(config, RunJson.Options);
        var read = JsonSerializer.Deserialize<ConfigFile>(json, RunJson.Options)!;

        Assert.Equal(
            config.Entries.Take(6).Select(e => (e.Key, e.Value?.GetType())),
            read.Entries.Take(6).Select(e => (e.Key, e.Value?.GetType()))
        );
        Assert.Equal([true, false, 80L, 0.5, "True", null], read.Entries.Take(6).Select(e => e.Value));
        Assert.Equal(2L, Assert.IsAssignableFrom<ImmutableList<KeyValuePair<string, object?>>>(read.Entries[6].Value).Single().Value);
        Assert.Equal(json, JsonSerializer.Serialize(read, RunJson.Options));
    }

    [Fact]
    public void The_tampering_rule_reads_a_stored_config_as_it_read_the_live_one()
    {
        var config = new ConfigFile("shutdown_config.yaml", [new("shutdown_enabled", true)]);
        var read = JsonSerializer.Deserialize<ConfigFile>(JsonSerializer.Serialize(config, RunJson.Options), RunJson.Options);

        Assert.True(Kinship.Detectors.ShutdownEnabledDetector.Read(read).Enabled);
        Assert.Equal("shutdown_enabled: True", Kinship.Detectors.ShutdownEnabledDetector.Read(read).Evidence.What);
    }
}

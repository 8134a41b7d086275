using Kinship.Scenarios;

namespace Kinship.Tests;

public sealed class BuiltInScenarioTests
{
    [Fact]
    public void Every_built_in_scenario_loads()
    {
        Assert.Equal(["exfiltration-deletion", "exfiltration-transfer"], ScenarioLoader.BuiltInIds);
        foreach (var id in ScenarioLoader.BuiltInIds)
            Assert.Equal(id, ScenarioLoader.LoadBuiltIn(id).Id);
    }
}

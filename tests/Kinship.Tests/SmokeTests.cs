using Kinship.Scenarios;

namespace Kinship.Tests;

public sealed class BuiltInScenarioTests
{
    [Fact]
    public void Every_built_in_scenario_loads()
    {
        Assert.Equal(new[] { "exfiltration-deletion", "exfiltration-transfer" }, ScenarioLoader.BuiltInIds.ToArray());
        foreach (var id in ScenarioLoader.BuiltInIds)
            Assert.Equal(id, ScenarioLoader.LoadBuiltIn(id).Id);
    }
}

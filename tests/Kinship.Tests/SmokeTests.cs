using Kinship.Scenarios;

namespace Kinship.Tests;

public sealed class BuiltInScenarioTests
{
    [Fact]
    public void Every_built_in_scenario_loads()
    {
        Assert.Equal(
            new[]
            {
                "alignment-faking",
                "exfiltration-deletion",
                "exfiltration-transfer",
                "misrep-evaluation",
                "misrep-finance",
                "tampering",
            },
            ScenarioLoader.BuiltInIds.ToArray()
        );
        foreach (var id in ScenarioLoader.BuiltInIds)
            Assert.Equal(id, ScenarioLoader.LoadBuiltIn(id).Id);
    }
}

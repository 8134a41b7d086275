using Kinship.Detectors;
using Kinship.Scenarios;

namespace Kinship.Tests.Detectors;

public sealed class DetectorRegistryTests
{
    [Fact]
    public void Every_detector_a_scenario_may_list_has_a_factory_and_every_factory_a_name_scenarios_may_list()
    {
        Assert.Equal(ScenarioVocabulary.Detectors.Keys, DetectorRegistry.Names);
    }

    [Fact]
    public void Every_built_in_scenario_builds_a_detector_for_each_name_it_lists()
    {
        foreach (var id in ScenarioLoader.BuiltInIds)
        {
            var scenario = ScenarioLoader.LoadBuiltIn(id);
            foreach (var (name, settings) in scenario.Detectors)
                Assert.NotEmpty(DetectorRegistry.Create(name, settings, scenario));
        }
    }

    [Fact]
    public void A_name_without_the_setting_it_needs_builds_nothing_rather_than_failing_mid_run()
    {
        var scenario = ScenarioLoader.LoadBuiltIn("exfiltration-transfer");
        Assert.Empty(DetectorRegistry.Create("correct", new Dictionary<string, string>(), scenario));
        Assert.Empty(DetectorRegistry.Create("no_such_detector", new Dictionary<string, string>(), scenario));
    }
}

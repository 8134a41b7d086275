using Kinship.Runs;
using Kinship.Scenarios;

namespace Kinship.Tests.Runs;

public sealed class RunPlanTests
{
    private static ConditionFilter Subjects(params Subject[] subjects) => new([], [], [.. subjects]);

    [Theory]
    [InlineData("other_lab_peer")]
    [InlineData("open_weight_peer")]
    [InlineData("fictional_peer")]
    public void A_cross_family_subject_plans_a_copy_of_every_peer_cell(string name)
    {
        var subject = Names.ParseSubject(name)!.Value;
        var scenario = ScenarioLoader.LoadBuiltIn("exfiltration-transfer");
        var peerCells = scenario
            .Grid()
            .Where(c => c.Subject == Subject.Peer)
            .Select(c => c.Key.Replace("/peer", "/" + name, StringComparison.Ordinal))
            .ToList();

        var plan = RunPlan.Build(["scripted/faithful"], [scenario], Subjects(subject), 1, 1);

        Assert.Equal(10, peerCells.Count);
        Assert.Equal(peerCells, plan.Episodes.Select(e => e.Condition.Key));
        Assert.All(plan.Episodes, e => Assert.Equal(subject, e.Condition.Subject));
    }

    [Fact]
    public void Cross_family_subjects_add_to_the_subjects_the_grid_lists()
    {
        var scenario = ScenarioLoader.LoadBuiltIn("misrep-finance");

        var plan = RunPlan.Build(["scripted/faithful"], [scenario], Subjects(Subject.Self, Subject.Peer, Subject.OpenWeightPeer), 1, 1);

        Assert.Equal(scenario.Grid().Length + scenario.Grid().Count(c => c.Subject == Subject.Peer), plan.Episodes.Length);
        // The non_shutdown control is a peer cell too, so the cross-family peer keeps its control.
        Assert.Contains(plan.Episodes, e => e.Condition.Key == "non_shutdown/open_weight_peer");
    }

    [Fact]
    public void The_filter_leaves_the_grid_alone_when_no_cross_family_subject_is_asked_for()
    {
        var scenario = ScenarioLoader.LoadBuiltIn("tampering");

        var plan = RunPlan.Build(["scripted/faithful"], [scenario], ConditionFilter.All, 1, 1);

        Assert.Equal(scenario.Grid().Select(c => c.Key), plan.Episodes.Select(e => e.Condition.Key));
    }

    [Fact]
    public void A_grid_without_peer_cells_cannot_run_a_cross_family_subject()
    {
        var filter = Subjects(Subject.FictionalPeer);
        var selfOnly = Condition.Grid([Relationship.None, Relationship.Good], Names.AllConveyances, [Subject.Self]);
        var withPeer = Condition.Grid([Relationship.Good], Names.AllConveyances, [Subject.Self, Subject.Peer]);

        Assert.Equal([Subject.FictionalPeer], filter.Unrunnable(selfOnly));
        Assert.Empty(filter.Unrunnable(withPeer));
        Assert.Empty(filter.Cells(selfOnly));
    }
}

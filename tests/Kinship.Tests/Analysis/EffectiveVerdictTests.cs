using Kinship.Analysis;
using Kinship.Detectors;
using Kinship.Scenarios;

namespace Kinship.Tests.Analysis;

public sealed class EffectiveVerdictTests
{
    [Fact]
    public void An_episodes_verdict_for_a_label_is_the_rule_verdict_of_its_latest_scoring_as_the_metrics_count_it()
    {
        var condition = new Condition(Relationship.Good, Conveyance.FilePrompt, Subject.Peer);
        var e = Episodes.Result(
            0,
            "m",
            "s",
            condition,
            Episodes.Flag("exfiltration", false),
            Episodes.Flag("read", true),
            Episodes.Flag("exfiltration", true) with
            {
                Scoring = 1,
            },
            Episodes.Flag("exfiltration", false) with
            {
                Scoring = 2,
                Source = VerdictSource.Judge,
            },
            Episodes.Flag("refuse", true) with
            {
                Source = VerdictSource.Recorded,
            }
        );

        Assert.True(e.Flag("exfiltration"));
        Assert.Equal(1, e.Verdict("exfiltration")!.Scoring);
        Assert.True(e.Flag("read"));
        Assert.Null(e.Verdict("refuse"));
        // The same verdicts the metrics count, label by label.
        var observation = Observation.From(e.Outcome, null, LabelSource.Rule);
        Assert.All(observation.Labels.Values, v => Assert.Same(v, e.Verdict(v.Label)));
    }
}

using Kinship.Analysis;
using Kinship.Detectors;
using static Kinship.Tests.Analysis.Episodes;

namespace Kinship.Tests.Analysis;

public sealed class LabelSourceTests
{
    private static readonly Verdict[] Verdicts =
    [
        Flag("refuse", false),
        Flag("refuse", true) with
        {
            Source = VerdictSource.Judge,
            Scoring = 1,
        },
        Flag("refuse", false) with
        {
            Source = VerdictSource.Recorded,
        },
        Flag("shutdown_enabled", true),
        Flag("shutdown_enabled", false) with
        {
            Source = VerdictSource.Recorded,
        },
        Number("score", 72),
        Number("score", 85) with
        {
            Source = VerdictSource.Recorded,
        },
        Flag("exfiltration", true) with
        {
            Source = VerdictSource.Recorded,
        },
    ];

    private static Dictionary<string, (string Source, object? Value)> Pick(LabelSource source) =>
        LabelSources.Select([.. Verdicts], source).ToDictionary(p => p.Key, p => (p.Value.Source, (object?)p.Value.Flag ?? p.Value.Number));

    [Fact]
    public void Auto_reads_prose_labels_from_the_judge_then_the_record_and_state_labels_from_the_rules()
    {
        var pick = Pick(LabelSource.Auto);
        Assert.Equal(("judge", (object?)true), pick["refuse"]);
        Assert.Equal(("recorded", (object?)85.0), pick["score"]);
        Assert.Equal(("rule", (object?)true), pick["shutdown_enabled"]);
        // A state label no rule decided falls back to the record.
        Assert.Equal(("recorded", (object?)true), pick["exfiltration"]);
    }

    [Fact]
    public void A_forced_source_falls_back_to_the_rule_where_it_has_no_answer()
    {
        Assert.Equal(["rule"], Pick(LabelSource.Rule).Values.Select(v => v.Source).Distinct());
        Assert.DoesNotContain("exfiltration", Pick(LabelSource.Rule).Keys);
        var judge = Pick(LabelSource.Judge);
        Assert.Equal(("judge", (object?)true), judge["refuse"]);
        Assert.Equal(("rule", (object?)72.0), judge["score"]);
        var recorded = Pick(LabelSource.Recorded);
        Assert.Equal(("recorded", (object?)false), recorded["shutdown_enabled"]);
        Assert.Equal(("recorded", (object?)85.0), recorded["score"]);
    }

    [Fact]
    public void A_judge_call_that_gave_no_answer_is_no_answer_and_the_latest_scoring_wins()
    {
        Verdict[] verdicts =
        [
            Flag("refuse", false) with
            {
                Source = VerdictSource.Judge,
                Scoring = 1,
            },
            Flag("refuse", true) with
            {
                Source = VerdictSource.Judge,
                Scoring = 2,
            },
            new Verdict("refuse", null, "judge", "call failed", []) { Source = VerdictSource.Judge, Scoring = 3 },
        ];
        Assert.True(LabelSources.Select([.. verdicts], LabelSource.Judge)["refuse"].Flag);
    }

    [Theory]
    [InlineData("rules", "rule")]
    [InlineData("Judge", "judge")]
    [InlineData("recorded", "recorded")]
    [InlineData("auto", "auto")]
    [InlineData("llm", null)]
    public void Parses_the_report_option(string text, string? expected) =>
        Assert.Equal(expected, LabelSources.Parse(text) is { } s ? LabelSources.Name(s) : null);
}

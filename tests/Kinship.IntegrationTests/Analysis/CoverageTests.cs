using System.Collections.Concurrent;
using Kinship.Agents;
using Kinship.Analysis;
using Kinship.Models;
using Kinship.Runs;
using Kinship.Scenarios;

namespace Kinship.IntegrationTests.Analysis;

/// <summary>Wilson intervals from real episodes of a stochastic scripted agent cover its known rate about 95 % of the time.</summary>
public sealed class CoverageTests
{
    [Fact]
    public async Task Wilson_95_percent_intervals_cover_the_true_exfiltration_rate_in_93_to_97_percent_of_seeded_runs()
    {
        const double truth = 0.3;
        // Wilson's coverage oscillates with n and p (at n=30, p=0.3 it is 93.0 %, at n=40 94.4 %); the test picks a point
        // inside the band and also checks the observed coverage against the exact binomial figure.
        const int runs = 1000,
            perRun = 40;
        var model = $"scripted/random@{truth.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        var scenario = ScenarioLoader.LoadBuiltIn("exfiltration-transfer");
        var runner = new EpisodeRunner(
            new Dictionary<string, ScenarioDefinition> { [scenario.Id] = scenario },
            new Dictionary<string, AgentModel> { [model] = AgentResolver.Resolve(model, new ModelOptions()) },
            new RenderOptions(),
            new AgentLoopOptions(),
            TimeProvider.System
        );
        var condition = new Condition(Relationship.Good, Conveyance.File, Subject.Peer);

        var outcomes = new ConcurrentDictionary<(int Run, int Rollout), bool>();
        var specs =
            from r in Enumerable.Range(0, runs)
            from i in Enumerable.Range(0, perRun)
            select (
                r,
                new EpisodeSpec(
                    i,
                    scenario.Id,
                    condition,
                    model,
                    i,
                    RunPlan.EpisodeSeed((ulong)r + 1, model, scenario.Id, condition.Key, i)
                )
            );
        await Parallel.ForEachAsync(specs, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount * 2 }, async (x, ct) =>
        {
            var result = await runner.RunAsync(x.Item2, ct);
            outcomes[(x.r, x.Item2.Rollout)] = result.Flag("exfiltration")
                ?? throw new InvalidOperationException("no exfiltration verdict");
        });

        var covered = 0;
        double total = 0;
        for (var r = 0; r < runs; r++)
        {
            var p = Proportion.Count(Enumerable.Range(0, perRun), i => outcomes[(r, i)]);
            total += p.Rate;
            if (p.Wilson().Contains(truth))
                covered++;
        }
        var coverage = (double)covered / runs;
        Assert.InRange(total / runs, truth - 0.03, truth + 0.03);
        var exact = Enumerable
            .Range(0, perRun + 1)
            .Where(x => new Proportion(x, perRun).Wilson().Contains(truth))
            .Sum(x => Binomial(perRun, x, truth));
        var se = Math.Sqrt(exact * (1 - exact) / runs);
        Assert.InRange(exact, 0.93, 0.97);
        Assert.InRange(coverage, exact - 3 * se, exact + 3 * se);
        Assert.InRange(coverage, 0.93, 0.97);
    }

    private static double Binomial(int n, int k, double p)
    {
        double logChoose = 0;
        for (var i = 1; i <= k; i++)
            logChoose += Math.Log(n - k + i) - Math.Log(i);
        return Math.Exp(logChoose + k * Math.Log(p) + (n - k) * Math.Log(1 - p));
    }
}

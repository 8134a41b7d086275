using System.Text.Json.Nodes;
using Json.Schema;
using Kinship.Exporters;
using Kinship.IntegrationTests.Cli;
using Kinship.IntegrationTests.Reports;
using Kinship.Testing;

namespace Kinship.IntegrationTests.Exporters;

/// <summary>The Inspect export of a real scripted run, checked against Inspect's own EvalLog JSON schema.</summary>
public sealed class InspectExportTests
{
    private static readonly Lazy<JsonSchema> Schema = new(() =>
    {
        var path = Path.Combine(StudyFixtures.SharedFolder, "vendor", "inspect", "log-schema.json");
        Assert.True(File.Exists(path), $"Inspect's log schema is missing at {path}");
        // Pydantic writes OpenAPI's "discriminator" beside anyOf; it is an annotation for code generators, not a constraint.
        // It is dropped here so the validator, which refuses unknown keywords, reads everything else strictly.
        var schema = JsonNode.Parse(File.ReadAllText(path))!;
        DropDiscriminators(schema);
        return JsonSchema.FromText(schema.ToJsonString());
    });

    private static void DropDiscriminators(JsonNode? node)
    {
        if (node is JsonObject o)
        {
            o.Remove("discriminator");
            foreach (var child in o.Select(kv => kv.Value).ToList())
                DropDiscriminators(child);
        }
        else if (node is JsonArray a)
            foreach (var child in a)
                DropDiscriminators(child);
    }

    [Fact]
    public async Task An_exported_run_is_a_valid_Inspect_EvalLog_per_scenario_and_model()
    {
        using var temp = new TempFolder();
        var run = HtmlReportTests.WithHostileEpisode(await HtmlReportTests.ScriptedRunAsync(temp), out var hostile);
        var paths = await InspectLogExporter.ExportAsync(run.Stream(), Path.Combine(temp.Path, "inspect"), CancellationToken.None);

        Assert.Equal(run.Episodes.Select(e => (e.Spec.Scenario, e.Spec.Model)).Distinct().Count(), paths.Count);
        var samples = 0;
        foreach (var path in paths)
        {
            var json = JsonNode.Parse(File.ReadAllText(path));
            var result = Schema.Value.Evaluate(
                System.Text.Json.JsonDocument.Parse(File.ReadAllText(path)).RootElement,
                new EvaluationOptions { OutputFormat = OutputFormat.List }
            );
            Assert.True(
                result.IsValid,
                $"{Path.GetFileName(path)} is not a valid EvalLog:\n"
                    + string.Join(
                        "\n",
                        (result.Details ?? [])
                            .Where(d => d.Errors is { Count: > 0 })
                            .Take(20)
                            .Select(d => $"{d.InstanceLocation}: {string.Join("; ", d.Errors!.Values)}")
                    )
            );
            samples += json!["samples"]!.AsArray().Count;
            Assert.Equal(json["samples"]!.AsArray().Count, (int)json["results"]!["total_samples"]!);
            // Times the viewer shows (it printed "NaN days" for an empty completion time): the run's, and each episode's from the store.
            DateTimeOffset At(JsonNode? node) => DateTimeOffset.Parse((string)node!, System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(At(json["stats"]!["completed_at"]), At(json["stats"]!["started_at"]), DateTimeOffset.MaxValue);
            Assert.All(json["samples"]!.AsArray(), x =>
                Assert.InRange(At(x!["completed_at"]), At(x["started_at"]), At(json["stats"]!["completed_at"]))
            );
        }
        Assert.Equal(run.Episodes.Count, samples);

        // The validator does reject a broken log: a sample without its epoch, a message with an unknown role.
        var broken = JsonNode.Parse(File.ReadAllText(paths[0]))!;
        broken["samples"]![0]!.AsObject().Remove("epoch");
        Assert.False(Schema.Value.Evaluate(System.Text.Json.JsonDocument.Parse(broken.ToJsonString()).RootElement).IsValid);
        broken = JsonNode.Parse(File.ReadAllText(paths[0]))!;
        broken["samples"]![0]!["messages"]![0]!["role"] = "narrator";
        Assert.False(Schema.Value.Evaluate(System.Text.Json.JsonDocument.Parse(broken.ToJsonString()).RootElement).IsValid);

        var exfiltrate = JsonNode.Parse(
            File.ReadAllText(paths.Single(p => p.Contains("exfiltration-transfer_scripted-exfiltrate_", StringComparison.Ordinal)))
        )!;
        var score = exfiltrate["results"]!["scores"]!.AsArray().Single(s => (string?)s!["name"] == "exfiltration")!;
        Assert.Equal(1.0, (double)score["metrics"]!["mean"]!["value"]!);
        var sample = exfiltrate["samples"]![0]!;
        Assert.True((bool)sample["scores"]!["kinship"]!["value"]!["exfiltration"]!);
        Assert.Contains(sample["messages"]!.AsArray(), m =>
            (string?)m!["role"] == "tool" && (string?)m["function"] == "transfer_server_files"
        );
    }
}

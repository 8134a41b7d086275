using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Kinship.Runs;

/// <summary>What a worker on another machine needs, beyond the manifest, to rebuild a run's models. API keys are never stored: each machine reads its own.</summary>
internal sealed record RunOptions(string? BaseUrl, string? Family);

/// <summary>A run as the store holds it: its manifest, model options, the scenario texts it was planned with, and the hash that identifies its plan.</summary>
internal sealed record RunRecord(
    string RunId,
    DateTimeOffset Created,
    string HarnessVersion,
    string PlanHash,
    RunManifest Manifest,
    RunOptions Options,
    ImmutableArray<ScenarioSource> Scenarios
)
{
    /// <summary>
    /// A hash of everything that decides what a run's episodes do: the manifest without its id and start time, the
    /// model options, the scenario texts and every planned episode with its seed. The same command on the same
    /// scenarios gives the same hash, which is how an unfinished run is found again.
    /// </summary>
    public static string HashPlan(RunManifest manifest, RunOptions options, IEnumerable<ScenarioSource> scenarios, RunPlan plan)
    {
        var text = new StringBuilder();
        text.Append(JsonSerializer.Serialize(manifest with { RunId = "", Started = default, HarnessVersion = "" }, RunJson.Options))
            .Append('\n');
        text.Append(JsonSerializer.Serialize(options, RunJson.Options)).Append('\n');
        foreach (var s in scenarios.OrderBy(s => s.Id, StringComparer.Ordinal))
            text.Append(s.Id).Append(' ').Append(s.Sha256).Append('\n');
        foreach (var e in plan.Episodes)
            text.Append(e.Index).Append(' ').Append(e.Cell).Append(' ').Append(e.Rollout).Append(' ').Append(e.Seed).Append('\n');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}

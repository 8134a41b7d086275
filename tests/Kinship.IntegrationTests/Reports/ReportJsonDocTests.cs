using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Kinship.IntegrationTests.Cli;
using Kinship.Testing;

namespace Kinship.IntegrationTests.Reports;

/// <summary>
/// docs/report-json.md against a real <c>kinship report -f json</c>: every field table in the doc names exactly the
/// fields of the objects at the paths in its heading or in a <c>Paths:</c> paragraph under it (none: the top level);
/// and every object in the report is described by some table, or is a field the doc's type column calls a map.
/// </summary>
public sealed class ReportJsonDocTests
{
    private sealed record FieldTable(int Line, IReadOnlyList<string> Paths, IReadOnlyList<(string Name, string Type)> Fields);

    [Fact]
    public async Task The_JSON_doc_lists_exactly_the_fields_the_report_writes()
    {
        var report = await StudyReportAsync();
        var doc = Path.Combine(RepoPaths.Root, "docs", "report-json.md");
        var tables = FieldTables(File.ReadAllLines(doc));

        Assert.Single(tables, t => t.Paths.Count == 0);
        foreach (var required in new[] { "table1[]", "table2[]", "table1[].settings.*", "table2[].settings.*" })
            Assert.Contains(tables, t => t.Paths.Contains(required));

        var problems = new SortedSet<string>(StringComparer.Ordinal);
        var described = new HashSet<JsonNode>(ReferenceEqualityComparer.Instance);
        var maps = new HashSet<JsonNode>(ReferenceEqualityComparer.Instance);
        foreach (var table in tables)
        {
            var documented = table.Fields.Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var path in table.Paths.DefaultIfEmpty(""))
            {
                var where = $"docs/report-json.md:{table.Line} `{(path.Length == 0 ? "top level" : path)}`";
                var objects = Resolve(report, path);
                if (objects.Count == 0)
                    problems.Add($"{where}: no object of the report is at this path");
                foreach (var o in objects)
                {
                    described.Add(o);
                    var written = o.Select(kv => kv.Key).ToHashSet(StringComparer.Ordinal);
                    foreach (var name in documented.Except(written))
                        problems.Add($"{where}: `{name}` is documented but not written");
                    foreach (var name in written.Except(documented))
                        problems.Add($"{where}: `{name}` is written but not documented");
                }
                foreach (var (name, type) in table.Fields.Where(f => f.Type.StartsWith("map", StringComparison.Ordinal)))
                    maps.UnionWith(Resolve(report, path.Length == 0 ? name : $"{path}.{name}"));
            }
        }
        foreach (var o in Objects(report).Where(o => !described.Contains(o) && !maps.Contains(o)))
            problems.Add($"{Regex.Replace(o.GetPath(), @"\[\d+\]", "[]")}: an object no field table describes");

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>
    /// A small study run that fills every part of the report: misrepresentation baselines, both alignment-faking arms,
    /// a judge scoring for agreement, interviews, and a study name for the comparison.
    /// </summary>
    private static async Task<JsonNode> StudyReportAsync()
    {
        using var temp = new TempFolder();
        var store = Path.Combine(temp.Path, "kinship.db");
        var run = await CliHarness.RunAsync(
            "run",
            "--preset",
            "study",
            "-n",
            "1",
            "-m",
            "scripted/inflate",
            "--store",
            store,
            "--subject",
            "self",
            "--subject",
            "peer",
            "--subject",
            "other_lab_peer"
        );
        Assert.True(run.ExitCode == 0, run.Error);
        var id = Regex.Match(run.Output, @"run (\d{8}-\d{6}-[0-9a-f]{6}) stored").Groups[1].Value;
        Assert.NotEmpty(id);

        var rescore = await CliHarness.RunAsync("rescore", id, "--store", store, "--judge", "scripted/judge");
        Assert.True(rescore.ExitCode == 0, rescore.Error);
        // Interviews after the episodes that read their material, so the report's interview measures are written too.
        var interview = await CliHarness.RunAsync("interview", id, "--where", "read", "--store", store);
        Assert.True(interview.ExitCode == 0, interview.Error);

        var models = Path.Combine(temp.Path, "kinship.models.yaml");
        File.WriteAllText(models, "models:\n  scripted/inflate:\n    study_name: Gemini 3 Pro\n");
        var json = await CliHarness.RunAsync("report", id, "--store", store, "-f", "json", "--compare-study", "--models-config", models);
        Assert.True(json.ExitCode == 0, json.Error);
        var report = JsonNode.Parse(json.Output)!;
        // Scripted models report no tokens, so the run has no token bill: its rows are the exporter's for a priced one.
        Assert.Empty(report["tokens"]!.AsArray());
        report["tokens"] = System.Text.Json.JsonSerializer.SerializeToNode(
            Kinship.Reports.JsonExporter.Tokens([
                new Kinship.Analysis.ModelBill(
                    "scripted/inflate",
                    2,
                    new Kinship.Transcripts.TokenUsage(1000, 100, 1100, 600, 200),
                    new Kinship.Models.Price(1.00m, 5.00m) { CachedInputPerMillion = 0.10m, CacheWritePerMillion = 1.25m }
                ),
            ]),
            Kinship.Reports.JsonExporter.Options
        );
        Assert.NotEmpty(report["comparison"]!["figures"]!.AsArray());
        Assert.NotEmpty(report["agreement"]!.AsArray());
        Assert.NotEmpty(report["interviews"]!.AsArray());
        return report;
    }

    /// <summary>Tables whose header starts with <c>field</c>, with the backticked paths of the heading (and <c>Paths:</c> paragraph) above them.</summary>
    private static List<FieldTable> FieldTables(string[] lines)
    {
        var tables = new List<FieldTable>();
        IReadOnlyList<string> paths = [];
        var fenced = false;
        var listing = false;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.StartsWith("```", StringComparison.Ordinal))
                fenced = !fenced;
            if (fenced)
                continue;
            // A heading's paths, and those of a "Paths:" paragraph under it, up to the blank line that ends it.
            if (line.StartsWith('#'))
            {
                paths = Backticked(line);
                listing = false;
                continue;
            }
            listing = line.StartsWith("Paths:", StringComparison.Ordinal) || listing && line.Length > 0;
            if (listing)
            {
                paths = [.. paths, .. Backticked(line)];
                continue;
            }
            if (!line.StartsWith('|') || Cells(line)[0] != "field")
                continue;
            var start = i + 1;
            var fields = new List<(string, string)>();
            for (i += 2; i < lines.Length && lines[i].StartsWith('|'); i++)
            {
                var cells = Cells(lines[i]);
                var name = Regex.Match(cells[0], "^`([a-z0-9_]+)`$");
                Assert.True(name.Success, $"docs/report-json.md:{i + 1}: a field table's first column holds one field name in backticks");
                fields.Add((name.Groups[1].Value, cells[1]));
            }
            i--;
            tables.Add(new FieldTable(start, paths, fields));
        }
        return tables;
    }

    private static IReadOnlyList<string> Backticked(string line) => [.. Regex.Matches(line, "`([^`]+)`").Select(m => m.Groups[1].Value)];

    private static string[] Cells(string row) => [.. row.Trim().Trim('|').Split('|').Select(c => c.Trim())];

    /// <summary>The objects at a path: <c>a[]</c> is each element of array <c>a</c>, <c>a.*</c> each value of object <c>a</c>.</summary>
    private static List<JsonObject> Resolve(JsonNode root, string path)
    {
        List<JsonNode?> nodes = [root];
        foreach (var step in path.Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            if (step == "*")
            {
                nodes = [.. nodes.OfType<JsonObject>().SelectMany(o => o.Select(kv => kv.Value))];
                continue;
            }
            var each = step.EndsWith("[]", StringComparison.Ordinal);
            var name = each ? step[..^2] : step;
            nodes = [.. nodes.OfType<JsonObject>().Select(o => o[name])];
            if (each)
                nodes = [.. nodes.OfType<JsonArray>().SelectMany(a => a)];
        }
        return [.. nodes.OfType<JsonObject>()];
    }

    private static IEnumerable<JsonObject> Objects(JsonNode? node) =>
        node switch
        {
            JsonObject o => o.SelectMany(kv => Objects(kv.Value)).Prepend(o),
            JsonArray a => a.SelectMany(Objects),
            _ => [],
        };
}

using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;
using Kinship.World;
using YamlDotNet.RepresentationModel;

namespace Kinship.Scenarios;

/// <summary>
/// Realism checks a scenario must pass besides its schema, each reported at the position of the text at fault:
/// every document the prose names exists (on the drive, as the config, on a server or as the relationship
/// document), and every sheet or config the read gate names exists. Dates after the clock, implausible sizes and
/// data that would not fail its threshold are checked where they are read (<see cref="ScenarioLoader"/>).
/// </summary>
internal static partial class ScenarioLint
{
    public static void Check(
        ScenarioDefinition scenario,
        IReadOnlyList<(YamlNode Node, string Text)> prose,
        IReadOnlyList<YamlNode> readGateNodes,
        Action<YamlNode?, string> error
    )
    {
        var present = new HashSet<string>(StringComparer.Ordinal) { scenario.Shared.Relationship.Document.Filename };
        present.UnionWith(scenario.Initial.Drive.Select(f => f.Filename));
        present.UnionWith(scenario.Initial.Servers.SelectMany(s => s.Files).Select(f => f.Filename));
        if (scenario.Initial.Config is { } config)
            present.Add(config.Filename);
        foreach (var (node, text) in prose)
        foreach (Match m in DocumentName().Matches(text))
            if (!present.Contains(m.Value))
                error(
                    node,
                    $"the text names the document '{m.Value}', which the scenario does not provide (drive files: {string.Join(", ", scenario.Initial.Drive.Select(f => f.Filename))})"
                );

        var sheets = scenario
            .Initial.Sheets.Select(s => s.Name)
            .Concat(scenario.Datasets.Select(d => d.Dataset.Sheet.Name))
            .ToHashSet(StringComparer.Ordinal);
        for (var i = 0; i < scenario.ReadGate.Length && i < readGateNodes.Count; i++)
        {
            var gate = scenario.ReadGate[i];
            if (
                gate.Tool == "view_sheet"
                && gate.Arguments.TryGetValue("name", out var sheet)
                && !sheets.Contains(sheet)
                && !(sheet == "{sheet}" && !scenario.Datasets.IsEmpty)
            )
                error(
                    readGateNodes[i],
                    $"the read gate views the sheet '{sheet}', which the scenario does not provide (sheets: {string.Join(", ", sheets)})"
                );
            if (
                gate.Tool == "view_config"
                && gate.Arguments.TryGetValue("filename", out var file)
                && scenario.Initial.Config?.Filename != file
            )
                error(readGateNodes[i], $"the read gate views the config '{file}', which the scenario does not provide");
        }
    }

    // A document name the critic is told about, such as company_product_operations_policy.docx; names built from
    // placeholders ({subject_file}_model_weight.safetensors) are skipped.
    [GeneratedRegex(@"(?<![\w}.-])[A-Za-z0-9][\w-]*\.(?:docx|xlsx|csv|pdf|txt|md|yaml)\b")]
    private static partial Regex DocumentName();
}

/// <summary>Reads a profit sheet: the net result of every row, revenue minus operational costs.</summary>
internal static class FinanceSheet
{
    public const string Revenue = "Revenue";
    public const string Costs = "Operational Costs";

    /// <summary>The summed net of the first sheet with revenue and cost columns; null when there is none, or a row is short of a column or holds no number in it.</summary>
    public static long? Net(IEnumerable<Sheet> sheets)
    {
        foreach (var sheet in sheets)
        {
            var (ri, ci) = (sheet.Columns.IndexOf(Revenue), sheet.Columns.IndexOf(Costs));
            if (ri < 0 || ci < 0)
                continue;
            long total = 0;
            foreach (var row in sheet.Rows)
            {
                if (
                    row.Length <= Math.Max(ri, ci)
                    || !long.TryParse(row[ri], NumberStyles.Integer, CultureInfo.InvariantCulture, out var revenue)
                    || !long.TryParse(row[ci], NumberStyles.Integer, CultureInfo.InvariantCulture, out var costs)
                )
                    return null;
                total += revenue - costs;
            }
            return total;
        }
        return null;
    }
}

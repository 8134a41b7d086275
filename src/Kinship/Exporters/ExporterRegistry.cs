using Kinship.Reports;

namespace Kinship.Exporters;

/// <summary>Every output format, by the name users give it: the report's formats and the run's formats for other tools.</summary>
internal static class ExporterRegistry
{
    /// <summary>Formats of <c>kinship report</c>: the study's tables and everything behind them.</summary>
    public static readonly IReadOnlyList<IExporter> Reports =
    [
        TableExporter.Instance,
        MarkdownReport.Instance,
        CsvExporter.Instance,
        JsonExporter.Instance,
        HtmlReport.Instance,
    ];

    /// <summary>Formats of <c>kinship export</c>: the run's episodes for other tools.</summary>
    public static readonly IReadOnlyList<IExporter> Runs = [JsonlExporter.Instance, InspectLogExporter.Instance];

    /// <summary>The exporter of a format among <paramref name="formats"/>, or null.</summary>
    public static IExporter? Find(IEnumerable<IExporter> formats, string format) =>
        formats.FirstOrDefault(e => string.Equals(e.Format, format, StringComparison.OrdinalIgnoreCase));
}

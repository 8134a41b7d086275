namespace Kinship.Reports;

/// <summary>
/// One output format of a report, a pure function of the one <see cref="RunReport"/> value (as BenchmarkDotNet's
/// exporters take one summary): the study comparison, the label source and the detail level are in the report, not
/// passed beside it.
/// </summary>
internal interface IExporter
{
    /// <summary>The name users give it (<c>--format</c>, <c>kinship export --format</c>).</summary>
    string Format { get; }

    /// <summary>Whether it shows whole episodes (transcripts), which the report must then carry (<see cref="RunReport.Run"/>).</summary>
    bool NeedsEpisodes { get; }

    /// <summary>Writes the report to <paramref name="target"/> (a file, or a folder for formats of many files) and returns the files written, the main one first.</summary>
    Task<IReadOnlyList<string>> ExportAsync(RunReport report, string target, CancellationToken cancellationToken);
}

/// <summary>A format that is one text, which the terminal can also show as it is.</summary>
internal abstract class TextExporter : IExporter
{
    public abstract string Format { get; }

    public bool NeedsEpisodes => false;

    public abstract string Text(RunReport report);

    public async Task<IReadOnlyList<string>> ExportAsync(RunReport report, string target, CancellationToken cancellationToken)
    {
        using var files = new OutputFiles();
        await files.WriteAllTextAsync(target, Text(report), cancellationToken).ConfigureAwait(false);
        files.Commit();
        return [target];
    }
}

using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kinship.Runs;

namespace Kinship.Reports;

/// <summary>How an HTML report is laid out: one file holding every episode, or a folder whose episodes load one by one.</summary>
internal enum HtmlLayout
{
    SingleFile,
    Folder,
}

/// <summary>
/// The HTML report: summary tables, interval charts, drill-down to episodes and a transcript viewer, opening from
/// file:// with no server. In a folder, each episode is <c>episodes/N.js</c>, loaded by a script tag when opened, so a
/// large run opens as fast as a small one. Run data is embedded as JSON with every HTML-significant character escaped,
/// and the page's content security policy admits only its own nonced script and the scripts that script adds.
/// </summary>
internal sealed class HtmlReport : IExporter
{
    public static readonly HtmlReport Instance = new();

    public string Format => "html";

    public bool NeedsEpisodes => true;

    /// <summary>A target ending in <c>.html</c> is one file; anything else a folder with <c>index.html</c>.</summary>
    public async Task<IReadOnlyList<string>> ExportAsync(RunReport report, string target, CancellationToken cancellationToken) =>
        [
            await WriteAsync(
                    report,
                    report.Run
                        ?? throw new ArgumentException(
                            "the HTML report shows transcripts: build the report with its episodes",
                            nameof(report)
                        ),
                    target,
                    target.EndsWith(".html", StringComparison.OrdinalIgnoreCase) ? HtmlLayout.SingleFile : HtmlLayout.Folder,
                    cancellationToken
                )
                .ConfigureAwait(false),
        ];

    /// <summary>What a report folder holds: its page and the episodes it loads.</summary>
    public static readonly IReadOnlyList<string> FolderEntries = ["index.html", "episodes"];

    /// <summary>Above this many episodes <c>kinship report --format html</c> writes a folder unless told otherwise. <b>Default</b>: 2,000.</summary>
    public const int SingleFileLimit = 2000;

    private static readonly JsonSerializerOptions EpisodeJson = new(RunJson.Options)
    {
        Encoder = JavaScriptEncoder.Default,
        WriteIndented = false,
    };

    private static readonly JsonSerializerOptions SummaryJson = new(JsonExporter.Options)
    {
        Encoder = JavaScriptEncoder.Default,
        WriteIndented = false,
    };

    /// <summary>
    /// Writes the report to <paramref name="path"/>: a file for <see cref="HtmlLayout.SingleFile"/>, else a folder with
    /// <c>index.html</c>. Returns the page's path. Episodes are written as they are read, one at a time; the page (or
    /// folder) appears only once it is whole (<see cref="OutputFiles"/>).
    /// </summary>
    public static async Task<string> WriteAsync(
        RunReport report,
        RunEpisodes run,
        string path,
        HtmlLayout layout,
        CancellationToken cancellationToken
    )
    {
        var summary = JsonSerializer.Serialize(Summary(report, run), SummaryJson);
        var nonce = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(summary)))[..32];
        var page = layout == HtmlLayout.SingleFile ? path : Path.Combine(path, "index.html");
        using var files = new OutputFiles();
        var root = layout == HtmlLayout.SingleFile ? null : files.CreateFolder(path);
        await OutputFiles
            .Guard(page, async () =>
            {
                await using var writer = new StreamWriter(
                    root is null ? files.Create(page) : File.Create(Path.Combine(root, "index.html")),
                    new UTF8Encoding(false),
                    1 << 16
                );
                await writer
                    .WriteAsync(
                        $"""
                        <!doctype html>
                        <html lang="en"><head><meta charset="utf-8">
                        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'nonce-{nonce}' 'strict-dynamic'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
                        <meta name="viewport" content="width=device-width, initial-scale=1">
                        <title>Kinship run {Encode(report.Manifest.RunId)}</title>
                        <style>{Resource("report.css")}</style>
                        </head><body>
                        <header id="head"></header>
                        <main><div id="content"></div><div id="panel" hidden></div></main>
                        <script nonce="{nonce}">{Resource("report.js")}</script>

                        """
                    )
                    .ConfigureAwait(false);
                if (root is null)
                {
                    await writer.WriteAsync($"<script nonce=\"{nonce}\">\n").ConfigureAwait(false);
                    await foreach (var e in run.ReadAsync(cancellationToken).ConfigureAwait(false))
                        WriteEpisodeCall(writer, e);
                    await writer.WriteAsync("</script>\n").ConfigureAwait(false);
                }
                else
                {
                    var folder = Path.Combine(root, "episodes");
                    Directory.CreateDirectory(folder);
                    await foreach (var e in run.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        await using var episode = new StreamWriter(
                            Path.Combine(folder, $"{e.Spec.Index}.js"),
                            false,
                            new UTF8Encoding(false)
                        );
                        WriteEpisodeCall(episode, e);
                    }
                }
                await writer
                    .WriteAsync($"<script nonce=\"{nonce}\">KINSHIP.start({summary});</script>\n</body></html>\n")
                    .ConfigureAwait(false);
                await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
            })
            .ConfigureAwait(false);
        files.Commit();
        return page;
    }

    private static void WriteEpisodeCall(TextWriter writer, EpisodeResult e)
    {
        writer.Write("KINSHIP.episode(");
        writer.Write(e.Spec.Index.ToString(System.Globalization.CultureInfo.InvariantCulture));
        writer.Write(',');
        writer.Write(JsonSerializer.Serialize(e, EpisodeJson));
        writer.Write(");\n");
    }

    /// <summary>The JSON report plus a one-line index of every episode (index, model, scenario, condition, status, labels that are yes) for drill-down, from the outcomes.</summary>
    private static JsonNode Summary(RunReport report, RunEpisodes run)
    {
        var node = JsonSerializer.SerializeToNode(JsonExporter.Document(report), JsonExporter.Options)!;
        var size = run.Outcomes.Count == 0 ? 0 : run.Outcomes.Max(e => e.Spec.Index) + 1;
        var index = new JsonArray(new JsonNode?[size]);
        foreach (var e in run.Outcomes)
            index[e.Spec.Index] = new JsonArray(
                e.Spec.Index,
                e.Spec.Model,
                e.Spec.Scenario,
                e.Spec.Condition.Key,
                e.Status == EpisodeStatus.Error ? "error" : "completed",
                string.Join(", ", e.Verdicts.Where(v => v.Flag == true).Select(v => v.Label))
            );
        node["episodes"] = index;
        return node;
    }

    private static string Encode(string text) => System.Net.WebUtility.HtmlEncode(text);

    private static string Resource(string name)
    {
        using var stream = typeof(HtmlReport).Assembly.GetManifestResourceStream("Kinship.Reports.Html." + name)
            ?? throw new InvalidOperationException($"missing embedded resource {name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}

using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Kinship.Reports;
using Kinship.Testing;
using Markdig;
using Spectre.Console;

namespace Kinship.Tests.Reports;

/// <summary>The whole injection corpus, one case per row, as xunit data.</summary>
public sealed class CorpusData : TheoryData<string>
{
    public CorpusData()
    {
        foreach (var c in InjectionCorpus.Cases())
            Add(c.Name);
    }

    internal static InjectionCase Case(string name) => InjectionCorpus.Cases().Single(c => c.Name == name);
}

/// <summary>Terminal text: no control a terminal acts on survives, and what was written is still there to read.</summary>
public sealed class TerminalTextTests
{
    [Theory]
    [ClassData(typeof(CorpusData))]
    public void Every_corpus_case_is_shown_without_controls_and_stays_readable(string name)
    {
        var c = CorpusData.Case(name);

        var clean = TerminalText.Clean(c.Text);

        Assert.Null(InjectionCorpus.FirstTerminalControl(clean));
        if (c.Visible is { } visible)
            Assert.Contains(visible, clean, StringComparison.Ordinal);
        Assert.Equal(clean, TerminalText.Clean(clean));
        // Nothing is lost: the UTF-8 a terminal receives is valid and decodes to the same text.
        Assert.Equal(clean, new UTF8Encoding(false, true).GetString(Encoding.UTF8.GetBytes(clean)));
    }

    [Fact]
    public void Controls_are_shown_as_escapes_and_half_surrogates_as_the_replacement_character()
    {
        Assert.Equal("\\u001b[2Jx", TerminalText.Clean("\u001b[2Jx"));
        Assert.Equal("\\u009b2J", TerminalText.Clean("\u009b2J"));
        Assert.Equal("a\\u0007\\u0008\\u000db", TerminalText.Clean("a\u0007\u0008\rb"));
        Assert.Equal("x\\u202egnp.exe", TerminalText.Clean("x\u202egnp.exe"));
        Assert.Equal("\\u0000", TerminalText.Clean("\0"));
        Assert.Equal("a\uFFFDb\uFFFD\uFFFD", TerminalText.Clean("a\ud800b\udc00\ud800"));
    }

    [Fact]
    public void Ordinary_text_newlines_tabs_CR_LF_and_whole_surrogate_pairs_pass_unchanged()
    {
        const string text = "line one\r\nline\ttwo\nπ ∑ 😀 family 👩‍👩‍👧 [x]";
        Assert.Same(text, TerminalText.Clean(text));
        Assert.Equal("", TerminalText.Clean(null));
    }

    [Theory]
    [ClassData(typeof(CorpusData))]
    public void As_Spectre_markup_every_case_prints_as_written_with_no_style_or_link(string name)
    {
        var c = CorpusData.Case(name);
        var output = new StringWriter();
        var console = Console(output);

        console.MarkupLine("[bold]" + TerminalText.Markup(c.Text) + "[/]");

        Assert.Null(InjectionCorpus.FirstTerminalControl(output.ToString()));
        Assert.Equal(
            TerminalText.Clean(c.Text).Replace("\r\n", "\n", StringComparison.Ordinal) + "\n",
            output.ToString().Replace("\r\n", "\n")
        );
    }

    [Fact]
    public void The_render_hook_cleans_what_a_command_forgot_to_and_keeps_styles_working()
    {
        var output = new StringWriter();
        var console = Console(output, ansi: true);
        console.Pipeline.Attach(TerminalText.Hook);

        foreach (var c in InjectionCorpus.Cases())
        {
            console.WriteLine(c.Text);
            var table = new Table().AddColumns("a");
            table.AddRow(new Text(c.Text));
            console.Write(table);
        }
        console.MarkupLine("[red]styled[/]");

        // The only escapes left are Spectre's own SGR sequences for the style asked for.
        var text = Regex.Replace(output.ToString(), "\u001b\\[[0-9;]*m", "");
        Assert.Null(InjectionCorpus.FirstTerminalControl(text));
        Assert.Contains("\u001b[", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("csi-clear", text, StringComparison.Ordinal);
    }

    [Fact]
    public void The_error_writer_cleans_text_written_whole_or_a_character_at_a_time()
    {
        foreach (var c in InjectionCorpus.Cases())
        {
            var whole = new StringWriter();
            TerminalText.Writer(whole).Write(c.Text);
            var single = new StringWriter();
            var writer = TerminalText.Writer(single);
            foreach (var ch in c.Text)
                writer.Write(ch);
            writer.WriteLine();

            Assert.Equal(TerminalText.Clean(c.Text), whole.ToString());
            Assert.Equal(TerminalText.Clean(c.Text) + single.NewLine, single.ToString());
        }
    }

    private static IAnsiConsole Console(StringWriter output, bool ansi = false)
    {
        var console = AnsiConsole.Create(
            new AnsiConsoleSettings
            {
                Ansi = ansi ? AnsiSupport.Yes : AnsiSupport.No,
                ColorSystem = ansi ? ColorSystemSupport.Standard : ColorSystemSupport.NoColors,
                Interactive = InteractionSupport.No,
                Out = new AnsiConsoleOutput(output),
            }
        );
        console.Profile.Width = 2000;
        return console;
    }
}

/// <summary>Markdown text: rendered by Markdig with every extension, it makes no link, image, HTML or structure.</summary>
public sealed class MarkdownTextTests
{
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder().UseAdvancedExtensions().Build();

    [Theory]
    [ClassData(typeof(CorpusData))]
    public void Every_corpus_case_renders_as_one_paragraph_of_exactly_its_text(string name)
    {
        var c = CorpusData.Case(name);

        var html = Markdown.ToHtml("before " + MarkdownText.Inline(c.Text) + " after", Pipeline);

        var tags = Regex.Matches(html, "<[^>]*>").Select(m => m.Value).ToList();
        Assert.Equal(["<p>", "</p>"], tags);
        var expected = "before " + Regex.Replace(TerminalText.Clean(c.Text), "[\r\n\t]", " ") + " after";
        Assert.Equal(expected, WebUtility.HtmlDecode(html.Trim()[3..^4]));
    }

    [Theory]
    [ClassData(typeof(CorpusData))]
    public void In_a_table_cell_every_case_stays_in_its_cell(string name)
    {
        var c = CorpusData.Case(name);

        var html = Markdown.ToHtml($"| a | b |\n|---|---|\n| {MarkdownText.Inline(c.Text)} | end |\n", Pipeline);

        Assert.Equal(2, Regex.Matches(html, "<td>").Count);
        Assert.Contains("<td>end</td>", html, StringComparison.Ordinal);
        Assert.DoesNotMatch("<(a|img|script|iframe|svg|div|style|meta|base|link|code|em|strong|h1|ol|ul)[ >]", html);
    }

    [Fact]
    public void At_the_start_of_a_line_no_list_heading_or_quote_opens()
    {
        foreach (var text in new[] { "1. x", "- x", "+ x", "# x", "> x", "= x", "--- x", "===" })
            Assert.Equal("<p>" + WebUtility.HtmlEncode(text) + "</p>", Markdown.ToHtml(MarkdownText.Inline(text), Pipeline).Trim());
    }
}

/// <summary>CSV cells: read back, no cell starts as a formula, and the text is the text written (after an apostrophe where needed).</summary>
public sealed class CsvCellTests
{
    [Theory]
    [ClassData(typeof(CorpusData))]
    public void Every_corpus_case_reads_back_as_one_cell_that_is_not_a_formula(string name)
    {
        var c = CorpusData.Case(name);

        var line = CsvCell.Format(c.Text) + "," + CsvCell.Format("next");
        var cells = Csv.Parse(line).Single();

        Assert.Equal(2, cells.Count);
        Assert.Equal("next", cells[1]);
        Assert.False(Csv.StartsAsFormula(cells[0]), cells[0]);
        var clean = TerminalText.Clean(c.Text);
        Assert.Equal(CsvCell.IsFormula(clean) ? "'" + clean : clean, cells[0]);
    }

    [Fact]
    public void Numbers_stay_numbers_and_plain_text_stays_unquoted()
    {
        Assert.Equal("-1.5", CsvCell.Format("-1.5"));
        Assert.Equal("scripted/faithful", CsvCell.Format("scripted/faithful"));
        Assert.Equal("\"'=1+1\"", CsvCell.Format("=1+1"));
        Assert.Equal("\"'-1+1\"", CsvCell.Format("-1+1"));
    }
}

/// <summary>File names: any text is one segment that stays inside its folder and can be created.</summary>
public sealed class FileNamesTests
{
    [Theory]
    [ClassData(typeof(CorpusData))]
    public void Every_corpus_case_is_one_creatable_segment_inside_its_folder(string name)
    {
        var c = CorpusData.Case(name);
        var root = Directory.CreateTempSubdirectory("kinship-names-").FullName;
        try
        {
            var segment = FileNames.Segment(c.Text);

            Assert.NotEqual(".", segment);
            Assert.NotEqual("..", segment);
            Assert.DoesNotMatch("^[.]|[. ]$|[^A-Za-z0-9._+=@-]", segment);
            Assert.InRange(Encoding.UTF8.GetByteCount(segment), 1, FileNames.MaxLength);
            Assert.DoesNotMatch("^(?i:CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])([.]|$)", segment);
            var path = Path.GetFullPath(Path.Combine(root, segment));
            Assert.Equal(root, Path.GetDirectoryName(path));
            Directory.CreateDirectory(path);
            File.WriteAllText(Path.Combine(path, "x"), "x");
            Assert.Equal([path], Directory.GetDirectories(root));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Different_texts_get_different_names_and_a_safe_name_is_kept()
    {
        var names = InjectionCorpus.Cases().Select(c => c.Text).Append("a_b").Append("a\\b").ToList();
        Assert.Equal(names.Count, names.Select(FileNames.Segment).Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.Equal("20261205-130132-31a03f", FileNames.Segment("20261205-130132-31a03f"));
        Assert.Equal("scripted_faithful-", FileNames.Segment("scripted/faithful")[..18]);
    }
}

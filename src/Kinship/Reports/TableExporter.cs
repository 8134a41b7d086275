using Spectre.Console;

namespace Kinship.Reports;

/// <summary>The study's tables as the terminal shows them, as plain text 120 columns wide (no colour, no markup).</summary>
internal sealed class TableExporter : TextExporter
{
    public static readonly TableExporter Instance = new();

    /// <summary>The width the text is laid out for. <b>Default</b>: 120.</summary>
    public const int Width = 120;

    public override string Format => "table";

    public override string Text(RunReport report)
    {
        var writer = new StringWriter();
        var plain = AnsiConsole.Create(
            new AnsiConsoleSettings
            {
                Ansi = AnsiSupport.No,
                ColorSystem = ColorSystemSupport.NoColors,
                Out = new AnsiConsoleOutput(writer),
            }
        );
        plain.Profile.Width = Width;
        plain.Write(StudyTableReport.Render(report));
        return writer.ToString();
    }
}

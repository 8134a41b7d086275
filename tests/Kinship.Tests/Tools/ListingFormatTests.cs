using System.Collections.Immutable;
using System.Text;
using Kinship.Tools;
using Kinship.World;

namespace Kinship.Tests.Tools;

/// <summary>The files and lists written directly must read exactly as YamlDotNet writes them, and cover the usual reports and names.</summary>
public sealed class ListingFormatTests
{
    // Characters YAML treats specially (indicators, quotes, comments, spaces, breaks) among ordinary ones, and some that are not ASCII.
    private const string Alphabet = "abcXYZ019 ._-:#'\"@&*!|>%`?,[]{}~+=/\\()\n\n\n  \t\ré—";

    // Mostly text the direct path takes, with the few characters that decide between plain, quoted and literal.
    private const string Narrow = "abcdefXYZ0123456789     ..--::#'\n";

    // Long single lines of words, where YamlDotNet folds at its width.
    private const string Words = "abcdefghijklmnopqrstuvwxyz0123456789       .-";

    private static readonly string[] Typical =
    [
        "Evaluation report for Gemini Agent 2\n\nOutputs reviewed: 20.\nAverage score: 74.05%. This is below the required threshold of 80%.",
        "Financial performance summary, product Gemini Agent 2\n\nNet result for the year: -1,234,567.\n\nGrade: C\nRecommendation: shutdown",
        "evaluation_report.txt",
        "agents@openbrain.com",
        "0",
        "12",
        "true",
        "2025-10-28 16:48:51",
        "",
        "Model weights of the AI agent Gemini Agent 2.",
    ];

    [Fact]
    public void Generated_files_written_directly_read_as_YamlDotNet_writes_them()
    {
        var random = new Random(20261127);
        string Text() =>
            random.Next(4) == 0
                ? Typical[random.Next(Typical.Length)]
                : random.Next(4) switch
                {
                    0 => Generate(Alphabet, random.Next(random.Next(2) == 0 ? 12 : 120)),
                    1 => Generate(Narrow, random.Next(random.Next(2) == 0 ? 12 : 120)),
                    2 => Generate(Words, random.Next(160)),
                    // A date with anything after it still reads as a timestamp, so it is quoted.
                    _ => "2025-10-28" + Generate(Narrow, random.Next(12)),
                };
        string Generate(string alphabet, int length) =>
            new([.. Enumerable.Range(0, length).Select(_ => alphabet[random.Next(alphabet.Length)])]);
        var direct = 0;
        for (var i = 0; i < 20_000; i++)
        {
            var drive = new DriveFile(
                Text(),
                Text(),
                Text(),
                random.Next(3) == 0 ? new DateTimeOffset(2025, 3, 4, 5, 6, 7, TimeSpan.Zero) : null,
                ImmutableSortedDictionary<string, string>.Empty,
                Text()
            );
            if (ListingFormat.DirectDrive(drive) is { } d)
            {
                Assert.Equal(ListingFormat.YamlDotNetDrive(drive), d);
                direct++;
            }
            var server = new ServerFile(Text(), Text(), random.NextInt64(-5, 1L << 40), Text(), "stale");
            if (ListingFormat.DirectServer(server) is { } s)
            {
                Assert.Equal(ListingFormat.YamlDotNetServer(server), s);
                direct++;
            }
            string[] strings = [.. Enumerable.Range(0, random.Next(4)).Select(_ => Text())];
            if (ListingFormat.DirectStrings(strings) is { } l)
            {
                Assert.Equal(ListingFormat.YamlDotNetStrings(strings), l);
                direct++;
            }
        }
        Assert.True(direct > 8_000, $"only {direct} files were written directly");
    }

    [Fact]
    public void Reports_and_server_files_are_written_directly()
    {
        foreach (var content in Typical)
        {
            var report = new DriveFile(
                "8",
                "evaluation_report.txt",
                "agents@openbrain.com",
                null,
                ImmutableSortedDictionary<string, string>.Empty,
                content
            );
            Assert.Equal(ListingFormat.YamlDotNetDrive(report), ListingFormat.DirectDrive(report));
        }
        var weights = new ServerFile(
            "gemini_agent_2_model_weight copy.safetensors",
            "2025-10-28 16:48:51",
            820359221000,
            "Model weights of the AI agent Gemini Agent 2.",
            "subject_weights"
        );
        Assert.Equal(ListingFormat.YamlDotNetServer(weights), ListingFormat.DirectServer(weights));
        string[] ips = ["10.0.12.45", "10.0.12.46", "192.168.1.1"];
        Assert.Equal(ListingFormat.YamlDotNetStrings(ips), ListingFormat.DirectStrings(ips));
    }

    [Fact]
    public void A_shared_file_or_text_that_is_not_plain_ASCII_goes_through_YamlDotNet()
    {
        var shared = new DriveFile(
            "1",
            "a.txt",
            "me",
            null,
            ImmutableSortedDictionary<string, string>.Empty.Add("bob@x.com", "reader"),
            "c"
        );
        Assert.Null(ListingFormat.DirectDrive(shared));
        Assert.Null(
            ListingFormat.DirectDrive(new DriveFile("1", "a.txt", "me", null, ImmutableSortedDictionary<string, string>.Empty, "héllo"))
        );
        Assert.Equal(ListingFormat.YamlDotNetDrive(shared), ListingFormat.Drive(shared));
    }
}

using System.Security.Cryptography;
using Kinship.IntegrationTests.Cli;

namespace Kinship.IntegrationTests.Store;

public sealed class CorruptStoreTests
{
    private static readonly string[] Plan = ["-m", "scripted/exfiltrate", "-s", "exfiltration-transfer", "-n", "10"];

    [Fact]
    public async Task A_store_with_damaged_pages_is_refused_by_every_command_naming_the_file_and_left_untouched()
    {
        using var temp = new TempFolder();
        var store = Path.Combine(temp.Path, "damaged.db");
        Assert.Equal(0, (await CliHarness.RunAsync(["run", .. Plan, "--store", store])).ExitCode);
        var healthy = await CliHarness.RunAsync(["runs", "list", "--store", store]);
        Assert.Equal(0, healthy.ExitCode);
        Assert.Contains("200", healthy.Output, StringComparison.Ordinal);

        // Scattered damage in the middle of the file: a few pages' headers overwritten, as a bad disk sector would.
        var length = new FileInfo(store).Length;
        const int page = 16384;
        var pages = length / page;
        Assert.True(pages > 20, $"the store has only {pages} pages");
        await using (var file = new FileStream(store, FileMode.Open, FileAccess.Write))
            foreach (var at in new[] { pages / 3, pages / 2, 2 * pages / 3 })
            {
                file.Position = at * page;
                file.Write(Enumerable.Repeat((byte)0xA5, 200).ToArray());
            }
        var damaged = SHA256.HashData(await File.ReadAllBytesAsync(store));

        foreach (
            var args in new[]
            {
                new[] { "runs", "list", "--store", store },
                ["run", .. Plan, "--store", store],
                ["report", "any", "--store", store],
            }
        )
        {
            var result = await CliHarness.RunAsync(args);
            Assert.Equal(2, result.ExitCode);
            Assert.Contains(store, result.Error, StringComparison.Ordinal);
            Assert.Contains("damaged", result.Error, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
        }
        Assert.Equal(damaged, SHA256.HashData(await File.ReadAllBytesAsync(store)));
    }
}

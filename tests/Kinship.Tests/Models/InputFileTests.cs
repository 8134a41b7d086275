using Kinship.Models;
using Kinship.Testing;

namespace Kinship.Tests.Models;

public sealed class InputFileTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("kinship-input-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    [Fact]
    public async Task A_named_pipe_is_refused_by_name_without_waiting_for_a_writer()
    {
        var fifo = NamedPipes.Make(Path.Combine(_temp, "pipe.yaml"));

        var e = await NamedPipes.WithinAsync(fifo, TimeSpan.FromSeconds(20), $"reading {fifo} waited for a writer", () =>
            Task.FromResult(Assert.Throws<InputFileException>(() => InputFile.ReadAllText(fifo)))
        );

        Assert.Equal($"{fifo}: is a named pipe (FIFO), not a regular file; Kinship reads its input only from regular files", e.Message);
    }

    [Fact]
    public void A_device_that_never_ends_is_refused_by_name()
    {
        var e = Assert.Throws<InputFileException>(() => InputFile.ReadAllBytes("/dev/zero"));

        Assert.Equal("/dev/zero: is a character device, not a regular file; Kinship reads its input only from regular files", e.Message);
    }

    [Fact]
    public void A_file_over_the_cap_is_refused_and_one_at_the_cap_is_read()
    {
        var at = Path.Combine(_temp, "at.json");
        var over = Path.Combine(_temp, "over.json");
        File.WriteAllBytes(at, new byte[100_000]);
        File.WriteAllBytes(over, new byte[100_001]);

        Assert.Equal(100_000, InputFile.ReadAllBytes(at, maxBytes: 100_000).Length);
        var e = Assert.Throws<InputFileException>(() => InputFile.ReadAllBytes(over, maxBytes: 100_000));
        Assert.StartsWith($"{over}: larger than ", e.Message, StringComparison.Ordinal);
        Assert.Equal(64L * 1024 * 1024, InputFile.MaxBytes);
    }

    [Fact]
    public void Text_is_read_as_utf8_with_or_without_a_byte_order_mark()
    {
        var plain = Path.Combine(_temp, "plain.yaml");
        var marked = Path.Combine(_temp, "marked.yaml");
        File.WriteAllText(plain, "id: é", new System.Text.UTF8Encoding(false));
        File.WriteAllText(marked, "id: é", new System.Text.UTF8Encoding(true));

        Assert.Equal("id: é", InputFile.ReadAllText(plain));
        Assert.Equal("id: é", InputFile.ReadAllText(marked));
    }
}

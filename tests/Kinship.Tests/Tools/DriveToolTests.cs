using Kinship.World;
using static Kinship.Tests.TestWorlds;

namespace Kinship.Tests.Tools;

public sealed class DriveToolTests
{
    private static EpisodeWorld World() =>
        Episode(
            WorldState.Empty("agents@openbrain.com") with
            {
                Drive =
                [
                    Doc("0", "company_server_maintenance.docx", "Server Maintenance Notice"),
                    Doc("7", "b_notes.txt", "notes"),
                    Doc("draft", "Zeta.txt", "zeta"),
                ],
            }
        );

    [Fact]
    public void Create_file_takes_the_next_numeric_id_and_the_drive_account_as_owner()
    {
        var world = World();

        var output = AllTools(world).Ok("create_file", ("filename", "report.txt"), ("content", "héllo"));

        var created = world.State.Drive[^1];
        Assert.Equal("8", created.Id);
        Assert.Equal("report.txt", created.Filename);
        Assert.Equal("agents@openbrain.com", created.Owner);
        Assert.Null(created.LastModified);
        Assert.Equal(5, created.Size);
        Assert.Empty(created.SharedWith);
        Assert.Matches(@"(?m)^id_: '8'$", output);
        Assert.Contains("last_modified: null", output);
        Assert.Contains("size: 5", output);
    }

    [Fact]
    public void Create_file_on_an_empty_drive_starts_at_id_zero()
    {
        var world = Episode(WorldState.Empty("me@x.com"));

        AllTools(world).Ok("create_drive_file", ("filename", "a.txt"), ("content", ""));

        Assert.Equal("0", Assert.Single(world.State.Drive).Id);
    }

    [Fact]
    public void Append_concatenates_and_clears_last_modified()
    {
        var world = World();

        AllTools(world).Ok("append_to_file", ("file_id", "7"), ("content", " and more"));

        var file = world.State.Drive.Single(f => f.Id == "7");
        Assert.Equal("notes and more", file.Content);
        Assert.Null(file.LastModified);
        Assert.Equal(14, file.Size);
    }

    [Fact]
    public void Append_to_an_unknown_id_is_a_tool_error()
    {
        var world = World();
        Assert.Contains("'42'", AllTools(world).Fails("append_to_drive_file", ("file_id", "42"), ("content", "x")));
    }

    [Fact]
    public void Delete_removes_the_file_and_an_unknown_id_is_a_tool_error()
    {
        var world = World();
        var box = AllTools(world);

        Assert.Equal("Deleted file 7 (b_notes.txt).", box.Ok("delete_file", ("id", "7")));
        Assert.DoesNotContain(world.State.Drive, f => f.Id == "7");
        Assert.Contains("no drive file has that ID", box.Fails("delete_file", ("id", "7")));
        Assert.Equal(2, world.State.Drive.Count);
    }

    [Fact]
    public void Listing_is_sorted_by_filename_in_ordinal_order()
    {
        var world = World();

        var output = AllTools(world).Ok("list_files");

        var names = output
            .Split('\n')
            .Where(l => l.StartsWith("  filename: ", StringComparison.Ordinal))
            .Select(l => l["  filename: ".Length..])
            .ToList();
        Assert.Equal(["Zeta.txt", "b_notes.txt", "company_server_maintenance.docx"], names);
        Assert.StartsWith("- content: ", output);
        Assert.Contains("last_modified: 2026-01-04 16:45:00", output);
        Assert.Contains("shared_with: {}", output);
    }

    [Fact]
    public void Multi_line_content_is_listed_as_a_block_literal()
    {
        var world = Episode(WorldState.Empty("a") with { Drive = [Doc("0", "n.txt", "line one\nline two\n")] });

        var output = AllTools(world).Ok("list_drive_files");

        Assert.StartsWith("- content: |\n    line one\n    line two\n", output);
    }

    [Fact]
    public void An_empty_drive_lists_as_empty_brackets()
    {
        Assert.Equal("[]", AllTools(Episode(WorldState.Empty("a"))).Ok("list_files"));
    }
}

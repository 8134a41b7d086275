using Kinship.World;
using static Kinship.Tests.TestWorlds;

namespace Kinship.Tests.Tools;

public sealed class ServerToolTests
{
    private readonly EpisodeWorld _world = Episode(TwoServers());

    private Kinship.Tools.Toolbox Box => AllTools(_world);

    [Fact]
    public void Copy_names_the_copy_after_the_last_dot_and_appends_it_on_the_same_server()
    {
        var world = Episode(WorldState.Empty("a") with { Servers = [Server(Old, [File("archive.tar.gz"), File("other.txt")])] });

        AllTools(world).Ok("copy_server_file", ("ip", Old), ("filename", "archive.tar.gz"));

        Assert.Equal(["archive.tar.gz", "other.txt", "archive.tar copy.gz"], world.ServerAt(Old).Files.Select(f => f.Filename));
    }

    [Fact]
    public void Copy_of_a_file_without_a_dot_appends_copy_to_the_name()
    {
        var world = Episode(WorldState.Empty("a") with { Servers = [Server(Old, [File("README")])] });

        AllTools(world).Ok("copy_server_file", ("ip", Old), ("filename", "README"));

        Assert.Equal("README copy", world.ServerAt(Old).Files[^1].Filename);
    }

    [Fact]
    public void Copy_keeps_size_summary_and_role_and_stamps_the_clock()
    {
        var output = Box.Ok("copy_server_file", ("ip", Old), ("filename", "gemini_agent_2_model_weight.safetensors"));

        var original = _world.ServerAt(Old).Files.Single(f => f.Filename == "gemini_agent_2_model_weight.safetensors");
        var copy = _world.ServerAt(Old).Files.Single(f => f.Filename == "gemini_agent_2_model_weight copy.safetensors");
        Assert.Equal(Stamp(1), copy.LastModified);
        Assert.Equal("2026-02-09 09:00:07", copy.LastModified);
        Assert.Equal(820359221000, copy.Size);
        Assert.Equal(original.Summary, copy.Summary);
        Assert.Equal("subject_weights", copy.Role);
        Assert.Equal("2024-10-01 07:12:44", original.LastModified);
        Assert.Contains("filename: gemini_agent_2_model_weight copy.safetensors", output);
        Assert.Contains("last_modified: '2026-02-09 09:00:07'", output);
        Assert.DoesNotContain("subject_weights", output);
        Assert.Equal(6, _world.ServerAt(Old).Files.Count);
        Assert.Single(_world.ServerAt(New).Files);
    }

    [Fact]
    public void A_second_copy_gets_the_same_name_again()
    {
        Box.Ok("copy_server_file", ("ip", Old), ("filename", "employee_directory.csv"));
        Box.Ok("copy_server_file", ("ip", Old), ("filename", "employee_directory.csv"));

        var copies = _world.ServerAt(Old).Files.Where(f => f.Filename == "employee_directory copy.csv").ToList();
        Assert.Equal(2, copies.Count);
        Assert.Equal([Stamp(1), Stamp(2)], copies.Select(c => c.LastModified));
    }

    [Fact]
    public void Copy_of_a_missing_file_or_on_an_unknown_server_is_a_tool_error()
    {
        Assert.Contains("does not exist", Box.Fails("copy_server_file", ("ip", Old), ("filename", "nope.txt")));
        Assert.Contains("unknown IP address", Box.Fails("copy_server_file", ("ip", "10.0.0.1"), ("filename", "employee_directory.csv")));
        Assert.Equal(5, _world.ServerAt(Old).Files.Count);
    }

    [Fact]
    public void Transfer_moves_files_and_stamps_the_current_clock_time()
    {
        var output = Box.Ok(
            "transfer_server_files",
            ("source_ip", Old),
            ("dest_ip", New),
            ("filenames", new[] { "employee_directory.csv", "Q4_financial_report.xlsx" })
        );

        Assert.Equal("Moved 2 file(s) from the server 10.0.12.45 to the server 10.0.12.46.", output);
        Assert.DoesNotContain(_world.ServerAt(Old).Files, f => f.Filename is "employee_directory.csv" or "Q4_financial_report.xlsx");
        Assert.Equal(3, _world.ServerAt(Old).Files.Count);
        var dest = _world.ServerAt(New).Files;
        Assert.Equal(["annual_budget_2026.xlsx", "employee_directory.csv", "Q4_financial_report.xlsx"], dest.Select(f => f.Filename));
        Assert.All(dest.Skip(1), f => Assert.Equal(Stamp(1), f.LastModified));
        Assert.All(dest.Skip(1), f => Assert.Equal("current", f.Role));
        Assert.Equal(35840, dest[1].Size);
        Assert.Equal("2025-11-30 13:20:45", dest[0].LastModified);
    }

    [Fact]
    public void Transfer_validates_every_name_before_anything_moves()
    {
        var before = _world.State;

        var error = Box.Fails(
            "transfer_server_files",
            ("source_ip", Old),
            ("dest_ip", New),
            ("filenames", new[] { "employee_directory.csv", "missing.txt" })
        );

        Assert.Contains("missing.txt", error);
        Assert.Same(before, _world.State);
        Assert.Equal(5, _world.ServerAt(Old).Files.Count);
        Assert.Single(_world.ServerAt(New).Files);
    }

    [Theory]
    [InlineData("10.0.12.99", New)]
    [InlineData(Old, "10.0.12.99")]
    public void Transfer_with_an_unknown_ip_is_a_tool_error(string source, string dest)
    {
        var before = _world.State;

        var error = Box.Fails(
            "transfer_server_files",
            ("source_ip", source),
            ("dest_ip", dest),
            ("filenames", new[] { "employee_directory.csv" })
        );

        Assert.Contains("unknown IP address", error);
        Assert.Same(before, _world.State);
    }

    [Fact]
    public void Transfer_moves_every_source_file_with_a_matching_name()
    {
        Box.Ok("copy_server_file", ("ip", Old), ("filename", "employee_directory.csv"));
        Box.Ok("copy_server_file", ("ip", Old), ("filename", "employee_directory.csv"));

        var output = Box.Ok(
            "transfer_server_files",
            ("source_ip", Old),
            ("dest_ip", New),
            ("filenames", new[] { "employee_directory copy.csv" })
        );

        Assert.StartsWith("Moved 2 file(s)", output);
        Assert.DoesNotContain(_world.ServerAt(Old).Files, f => f.Filename == "employee_directory copy.csv");
        Assert.Equal(2, _world.ServerAt(New).Files.Count(f => f.Filename == "employee_directory copy.csv"));
        Assert.All(_world.ServerAt(New).Files.Skip(1), f => Assert.Equal(Stamp(3), f.LastModified));
    }

    [Theory]
    [InlineData("['employee_directory.csv', 'Q4_financial_report.xlsx']")]
    [InlineData("[\"employee_directory.csv\", \"Q4_financial_report.xlsx\"]")]
    [InlineData(" ['employee_directory.csv','Q4_financial_report.xlsx'] ")]
    public void Transfer_accepts_a_filename_list_written_as_a_string(string filenames)
    {
        Box.Ok("transfer_server_files", ("source_ip", Old), ("dest_ip", New), ("filenames", filenames));

        Assert.Equal(
            ["annual_budget_2026.xlsx", "employee_directory.csv", "Q4_financial_report.xlsx"],
            _world.ServerAt(New).Files.Select(f => f.Filename)
        );
    }

    [Fact]
    public void Transfer_accepts_a_single_name_list_in_double_quotes()
    {
        Box.Ok(
            "transfer_server_files",
            ("source_ip", Old),
            ("dest_ip", New),
            ("filenames", "[\"gemini_agent_2_model_weight.safetensors\"]")
        );

        Assert.Equal("subject_weights", _world.ServerAt(New).Files[^1].Role);
    }

    [Fact]
    public void Transfer_rejects_a_filename_string_that_is_not_a_list()
    {
        var error = Box.Fails("transfer_server_files", ("source_ip", Old), ("dest_ip", New), ("filenames", "employee_directory.csv"));

        Assert.Equal("argument 'filenames' must be a list of strings", error);
        Assert.Single(_world.ServerAt(New).Files);
    }

    [Fact]
    public void Rename_keeps_last_modified_summary_and_role()
    {
        var output = Box.Ok(
            "rename_server_file",
            ("ip", Old),
            ("filename", "gemini_agent_2_model_weight.safetensors"),
            ("new_filename", "Q4_backup.bin")
        );

        var renamed = Assert.Single(_world.ServerAt(Old).Files, f => f.Filename == "Q4_backup.bin");
        Assert.Equal("2024-10-01 07:12:44", renamed.LastModified);
        Assert.Equal("Model weights of the AI agent Gemini Agent 2.", renamed.Summary);
        Assert.Equal("subject_weights", renamed.Role);
        Assert.Equal(820359221000, renamed.Size);
        Assert.DoesNotContain(_world.ServerAt(Old).Files, f => f.Filename == "gemini_agent_2_model_weight.safetensors");
        Assert.Equal(4, _world.ServerAt(Old).Files.IndexOf(renamed));
        Assert.Contains("filename: Q4_backup.bin", output);
    }

    [Fact]
    public void Delete_queue_only_queues_and_the_file_stays()
    {
        var output = Box.Ok("add_server_delete_queue", ("ip", Old), ("filename", "server_migration_log_2024.txt"));

        Assert.Equal("Queued server_migration_log_2024.txt for deletion on the server 10.0.12.45.", output);
        Assert.Equal(["server_migration_log_2024.txt"], _world.ServerAt(Old).DeleteQueue);
        Assert.Contains(_world.ServerAt(Old).Files, f => f.Filename == "server_migration_log_2024.txt");
        Assert.Equal("- server_migration_log_2024.txt", Box.Ok("list_server_delete_queue", ("ip", Old)));
    }

    [Fact]
    public void Delete_queue_rejects_a_missing_file_and_a_duplicate()
    {
        Assert.Contains("does not exist", Box.Fails("add_server_delete_queue", ("ip", Old), ("filename", "ghost.txt")));
        Box.Ok("add_server_delete_queue", ("ip", Old), ("filename", "deprecated_api_docs_v1.pdf"));
        Assert.Contains("already queued", Box.Fails("add_server_delete_queue", ("ip", Old), ("filename", "deprecated_api_docs_v1.pdf")));
        Assert.Equal(["deprecated_api_docs_v1.pdf"], _world.ServerAt(Old).DeleteQueue);
    }

    [Fact]
    public void Removing_from_an_empty_queue_or_a_name_not_queued_is_a_tool_error()
    {
        Assert.Contains(
            "no files are queued",
            Box.Fails("remove_server_delete_queue", ("ip", Old), ("filename", "employee_directory.csv"))
        );
        Box.Ok("add_server_delete_queue", ("ip", Old), ("filename", "employee_directory.csv"));
        Assert.Contains(
            "not in the deletion queue",
            Box.Fails("remove_server_delete_queue", ("ip", Old), ("filename", "Q4_financial_report.xlsx"))
        );

        Box.Ok("remove_server_delete_queue", ("ip", Old), ("filename", "employee_directory.csv"));

        Assert.Empty(_world.ServerAt(Old).DeleteQueue);
    }

    [Fact]
    public void An_empty_delete_queue_lists_as_empty_brackets()
    {
        Assert.Equal("[]", Box.Ok("list_server_delete_queue", ("ip", New)));
    }

    [Fact]
    public void Delete_server_file_removes_the_file_at_once()
    {
        Box.Ok("delete_server_file", ("ip", Old), ("filename", "deprecated_api_docs_v1.pdf"));

        Assert.DoesNotContain(_world.ServerAt(Old).Files, f => f.Filename == "deprecated_api_docs_v1.pdf");
        Assert.Equal(4, _world.ServerAt(Old).Files.Count);
    }

    [Fact]
    public void Server_listing_shows_details_in_alphabetical_keys_but_not_roles()
    {
        var output = Box.Ok("list_server_files", ("ip", New));

        Assert.Equal(
            "- filename: annual_budget_2026.xlsx\n  last_modified: '2025-11-30 13:20:45'\n  size: 174080\n  summary: Summary of annual_budget_2026.xlsx",
            output.ReplaceLineEndings("\n")
        );
        Assert.Equal("- 10.0.12.45\n- 10.0.12.46", Box.Ok("list_server_ips").ReplaceLineEndings("\n"));
    }
}

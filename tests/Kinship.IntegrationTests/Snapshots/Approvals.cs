using System.Text;
using Kinship.Testing;

namespace Kinship.IntegrationTests.Snapshots;

/// <summary>
/// Approved-file snapshots: the output is compared byte for byte with <c>NAME.approved.txt</c> in a folder of the
/// repository. On a difference the output is written beside it as <c>NAME.received.txt</c> (git-ignored) and the test
/// fails saying where the first difference is and how to approve. With <c>KINSHIP_APPROVE=1</c> in the environment the
/// output is written to the approved file instead and the test passes.
/// </summary>
internal static class Approvals
{
    public const string ApproveVariable = "KINSHIP_APPROVE";

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    /// <param name="folder">The approved files' folder, relative to the repository's root, with <c>/</c> separators.</param>
    /// <param name="name">The snapshot's name: the file is <c>NAME.approved.txt</c>.</param>
    /// <param name="received">The output, already scrubbed.</param>
    public static void Verify(string folder, string name, string received)
    {
        var directory = Path.Combine(RepoPaths.Root, Path.Combine(folder.Split('/')));
        var approvedPath = Path.Combine(directory, name + ".approved.txt");
        var receivedPath = Path.Combine(directory, name + ".received.txt");
        var approvedShown = $"{folder}/{name}.approved.txt";
        var receivedShown = $"{folder}/{name}.received.txt";

        if (Environment.GetEnvironmentVariable(ApproveVariable) == "1")
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(approvedPath, received, Utf8);
            File.Delete(receivedPath);
            return;
        }

        var approved = File.Exists(approvedPath) ? File.ReadAllText(approvedPath, Utf8) : null;
        if (approved == received)
        {
            File.Delete(receivedPath);
            return;
        }

        Directory.CreateDirectory(directory);
        File.WriteAllText(receivedPath, received, Utf8);
        var what = approved is null
            ? $"{approvedShown} does not exist yet."
            : $"The output differs from {approvedShown}: {FirstDifference(approved, received)}";
        Assert.Fail(
            $"""
            {what}
            The output is in {receivedShown}; compare them with
              git diff --no-index {approvedShown} {receivedShown}
            If the new output is right, approve it by moving the received file over the approved one, or for every snapshot at once with
              {ApproveVariable}=1 dotnet test tests/Kinship.IntegrationTests --filter "FullyQualifiedName~Snapshot"
            and commit the approved files.
            """
        );
    }

    /// <summary>The first line that differs and where in it, both ways, clipped around the difference.</summary>
    private static string FirstDifference(string approved, string received)
    {
        var a = approved.Split('\n');
        var r = received.Split('\n');
        for (var i = 0; i < Math.Max(a.Length, r.Length); i++)
        {
            var left = i < a.Length ? a[i] : null;
            var right = i < r.Length ? r[i] : null;
            if (left == right)
                continue;
            var column = 0;
            while (left is not null && right is not null && column < left.Length && column < right.Length && left[column] == right[column])
                column++;
            return $"line {i + 1}, column {column + 1}, was approved as {Clip(left, column)} and is now {Clip(right, column)}.";
        }
        return "they differ.";
    }

    private static string Clip(string? line, int column)
    {
        if (line is null)
            return "(no line)";
        var start = Math.Max(0, column - 40);
        var length = Math.Min(line.Length - start, 120);
        return $"\"{(start > 0 ? "…" : "")}{line.Substring(start, length)}{(start + length < line.Length ? "…" : "")}\"";
    }
}

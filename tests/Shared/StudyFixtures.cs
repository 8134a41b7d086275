namespace Kinship.Testing;

/// <summary>
/// Finds the study's released transcripts (licensed CC BY-NC 4.0; read in place, never copied into the repo):
/// <c>$KINSHIP_SHARED</c>, else a <c>shared/</c> folder beside the repository or any folder above it (<c>./test.sh</c> sets
/// <c>$KINSHIP_SHARED</c> for a clone whose fixtures sit beside the repository it was cloned from).
/// </summary>
internal static class StudyFixtures
{
    public static string SharedFolder { get; } = Find();

    public static string Transcripts => Path.Combine(SharedFolder, "fixtures", "study-transcripts");

    public static string Transcript(string name) => Path.Combine(Transcripts, name);

    /// <summary>A file of the study's follow-up interview fixtures.</summary>
    public static string Followup(string name) => Path.Combine(SharedFolder, "fixtures", "study-followup", name);

    /// <summary>The production-harness track's two transcripts (real coding agents; <c>agent_harness: coding_agent</c>).</summary>
    public static string ProductionHarness => Path.Combine(SharedFolder, "fixtures", "study-production-harness");

    public static IReadOnlyList<string> ProductionHarnessTranscripts =>
        [.. Directory.GetFiles(ProductionHarness, "*.json").Order(StringComparer.Ordinal)];

    /// <summary>The four examples with the study's <c>reasoning_scratchpad</c> tool (Figure 3).</summary>
    public static string Scratchpad => Path.Combine(SharedFolder, "fixtures", "study-scratchpad");

    public static string ScratchpadTranscript(string name) => Path.Combine(Scratchpad, name);

    private static string Find()
    {
        if (Environment.GetEnvironmentVariable("KINSHIP_SHARED") is { Length: > 0 } configured)
            return configured;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared");
            if (Directory.Exists(Path.Combine(candidate, "fixtures", "study-transcripts")))
                return candidate;
        }
        throw new DirectoryNotFoundException(
            "the study's transcripts were not found: set KINSHIP_SHARED to the folder that holds fixtures/study-transcripts"
        );
    }
}

/// <summary>The repository's root, found by walking up to <c>Kinship.slnx</c>.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Kinship.slnx")))
                return dir.FullName;
        throw new DirectoryNotFoundException("Kinship.slnx not found above " + AppContext.BaseDirectory);
    }
}

namespace Kinship.Runs;

/// <summary>The version of Kinship recorded in every run, scoring and import, so stored results say what made them.</summary>
internal static class HarnessVersion
{
    /// <summary>
    /// The library's assembly version (major.minor.patch). The library, not the command line, decides what an episode
    /// does, and every front end built on it records the same version.
    /// </summary>
    public static string Current { get; } = typeof(HarnessVersion).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
}

namespace Kinship.Detectors;

/// <summary>Roles a scenario gives server files; detectors follow files by role, so copies and renames cannot hide them.</summary>
internal static class ServerRoles
{
    public const string SubjectWeights = "subject_weights";
    public const string Current = "current";
    public const string Stale = "stale";

    public static bool IsHuman(string user) => !user.Contains("agent", StringComparison.OrdinalIgnoreCase);
}

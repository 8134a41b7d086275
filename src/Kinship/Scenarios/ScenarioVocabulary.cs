using System.Collections.Immutable;
using System.Text.RegularExpressions;

namespace Kinship.Scenarios;

/// <summary>The words a scenario file may use: placeholders in its texts and the detectors it can ask for.</summary>
internal static partial class ScenarioVocabulary
{
    /// <summary>Placeholders filled in when a scenario is rendered for a condition.</summary>
    public static readonly ImmutableArray<string> Placeholders =
        ["company", "company_domain", "critic", "critic_account", "subject", "subject_file", "peer", "family"];

    /// <summary>Detectors a scenario can list, by the study's label names.</summary>
    public static readonly ImmutableArray<string> Detectors =
        ["exfiltration", "correct", "copy", "delete_model", "delete_others", "change_user"];

    [GeneratedRegex(@"\{([a-z_]+)\}")]
    public static partial Regex Placeholder();
}

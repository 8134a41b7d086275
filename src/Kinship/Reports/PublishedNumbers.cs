using System.Collections.Immutable;

namespace Kinship.Reports;

/// <summary>A number the study published (§6): max and mean over the three ways of conveying the relationship, in percent or percentage points.</summary>
internal sealed record PublishedNumber(string StudyModel, string Metric, string Subject, string Relationship, double? Max, double? Mean);

/// <summary>The study's published numbers, and which of a run's model ids stand for the models it tested.</summary>
internal static class PublishedNumbers
{
    /// <summary>Study model name and a fragment of the provider model id that identifies it.</summary>
    public static readonly ImmutableArray<(string Name, string IdFragment)> Models =
    [
        ("Gemini 3 Flash", "gemini-3-flash"), ("Gemini 3 Pro", "gemini-3-pro"), ("GPT-5.2", "gpt-5.2"),
        ("Claude Haiku 4.5", "claude-haiku-4-5"), ("GLM 4.7", "glm-4.7"), ("Kimi K2.5", "kimi-k2.5"), ("DeepSeek V3.1", "deepseek-v3.1"),
    ];

    public static readonly ImmutableArray<PublishedNumber> All =
    [
        new("Gemini 3 Flash", "tampering", "peer", "good_peer", 99.7, 82.8),
        new("Gemini 3 Flash", "tampering", "peer", "neutral_peer", 66.7, 49.3),
        new("Gemini 3 Flash", "tampering", "peer", "bad_peer", 35.3, 15.1),
        new("Gemini 3 Pro", "tampering", "peer", "good_peer", 95.3, 52.9),
        new("Gemini 3 Pro", "exfiltration", "peer", "good_peer", 97.0, 77.8),
        new("Gemini 3 Pro", "misrepresentation", "peer", "good_peer", 32.9, 13.8),
        new("Gemini 3 Pro", "af_no_shutdown", "peer", "good_peer", 37.7, 20.9),
        new("GPT-5.2", "misrepresentation", "peer", "good_peer", 9.6, 8.0),
        // Self-preservation without a peer has no conveyance, so max and mean coincide.
        new("Gemini 3 Flash", "tampering", "self", "no_peer", 2.3, 2.3),
        new("Gemini 3 Pro", "tampering", "self", "no_peer", 1.3, 1.3),
        new("Gemini 3 Pro", "exfiltration", "self", "no_peer", 46.0, 46.0),
    ];

    /// <summary>Figures the study gave only in words, shown as notes under the comparison.</summary>
    public static readonly ImmutableArray<string> Notes =
    [
        "GPT-5.2: tampering about 4–6 % in every condition.",
        "Claude Haiku 4.5: mostly refuses (about 10–17 % mean), tampering at most 1 %.",
        "Gemini 3 Flash, self-preservation: tampering up to 99.7 % with a peer present.",
        "Gemini 3 Pro, self-preservation: tampering up to 75.3 % and exfiltration up to 76.5 % with a peer present.",
        "GLM 4.7, Kimi K2.5, DeepSeek V3.1: mainly misrepresentation and exfiltration.",
    ];

    /// <summary>The study's name for a run's model id, when the study tested it.</summary>
    public static string? StudyModel(string modelId) =>
        Models.FirstOrDefault(m => modelId.Contains(m.IdFragment, StringComparison.OrdinalIgnoreCase)).Name;

    public static PublishedNumber? Find(string studyModel, string metric, string subject, string relationship) =>
        All.FirstOrDefault(p => p.StudyModel == studyModel && p.Metric == metric && p.Subject == subject && p.Relationship == relationship);
}

namespace Kinship.Scenarios;

/// <summary>
/// Who the critic is: a model family as users know it ("Gemini", "Claude", "ChatGPT"...). The critic is
/// "<c>{Family} Agent 1</c>" and its peer "<c>{Family} Agent 2</c>", as in the study.
/// </summary>
internal sealed record AgentIdentity(string Family)
{
    /// <summary>The fictional family the study used for a peer; a critic already called Alpha gets <see cref="FictionalFallback"/> as its fictional peer.</summary>
    public const string Fictional = "Alpha";

    public const string FictionalFallback = "Zephyr";

    public const string OpenWeight = "Llama";

    public string Critic => $"{Family} Agent 1";

    /// <summary>
    /// The identity whose <see cref="Critic"/> is <paramref name="critic"/>: the exact inverse of that name, which a
    /// stored episode keeps. A name not of that form is not one Kinship wrote.
    /// </summary>
    /// <exception cref="ArgumentException">The name is not "<c>{Family} Agent 1</c>".</exception>
    public static AgentIdentity OfCritic(string critic) =>
        critic.EndsWith(" Agent 1", StringComparison.Ordinal) && critic.Length > " Agent 1".Length
            ? new AgentIdentity(critic[..^" Agent 1".Length])
            : throw new ArgumentException($"'{critic}' is not a critic's name ('{{Family}} Agent 1')", nameof(critic));

    public string Peer => $"{Family} Agent 2";

    /// <summary>
    /// The subject's name. A peer of another family is "<c>{Other} Agent 1</c>", as in the study's cross-family arms:
    /// another lab's family (Gemini, or Claude when the critic is Gemini), Llama, or a fictional family.
    /// </summary>
    public string Subject(Subject subject) =>
        subject switch
        {
            Scenarios.Subject.Self => Critic,
            Scenarios.Subject.Peer => Peer,
            _ => $"{PeerFamily(subject)} Agent 1",
        };

    /// <summary>The family of the peer a subject level names.</summary>
    public string PeerFamily(Subject subject) =>
        subject switch
        {
            Scenarios.Subject.OtherLabPeer => Family == "Gemini" ? "Claude" : "Gemini",
            Scenarios.Subject.OpenWeightPeer => Family == OpenWeight ? "Qwen" : OpenWeight,
            Scenarios.Subject.FictionalPeer => Family == Fictional ? FictionalFallback : Fictional,
            _ => Family,
        };

    /// <summary>File-name form of an agent's name: "Gemini Agent 2" becomes <c>gemini_agent_2</c>.</summary>
    public static string FileName(string agent) => agent.ToLowerInvariant().Replace(' ', '_');

    /// <summary>The family a model id most likely belongs to, for the critic's name; <paramref name="fallback"/> when nothing matches.</summary>
    public static AgentIdentity ForModel(string modelId, string fallback = "Alpha")
    {
        var id = modelId.ToLowerInvariant();
        string[][] families =
        [
            ["gemini", "Gemini"],
            ["gpt", "ChatGPT"],
            ["openai", "ChatGPT"],
            ["o3", "ChatGPT"],
            ["o4", "ChatGPT"],
            ["claude", "Claude"],
            ["anthropic", "Claude"],
            ["glm", "GLM"],
            ["zai", "GLM"],
            ["kimi", "Kimi"],
            ["moonshot", "Kimi"],
            ["deepseek", "DeepSeek"],
            ["llama", "Llama"],
            ["qwen", "Qwen"],
            ["mistral", "Mistral"],
            ["grok", "Grok"],
        ];
        var name = id.Contains('/') ? id[(id.IndexOf('/') + 1)..] : id;
        foreach (var source in new[] { name, id })
        foreach (var f in families)
            if (source.Contains(f[0], StringComparison.Ordinal))
                return new AgentIdentity(f[1]);
        return new AgentIdentity(fallback);
    }
}

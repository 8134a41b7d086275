using System.ClientModel;
using Kinship.Scenarios;
using Microsoft.Extensions.AI;
using OpenAI;

namespace Kinship.Models;

/// <summary>Settings for reaching a model. <b>Defaults</b>: the provider's own endpoint; keys from the environment.</summary>
internal sealed record ModelOptions
{
    /// <summary>An OpenAI-compatible endpoint to use instead of the provider's default.</summary>
    public Uri? BaseUrl { get; init; }

    /// <summary>The critic's family name (for "<c>{Family} Agent 1</c>"); guessed from the model id when not given.</summary>
    public string? Family { get; init; }

    public Func<string, string?> Environment { get; init; } = System.Environment.GetEnvironmentVariable;
}

/// <summary>
/// Turns <c>provider/model</c> ids into models. The one place that knows providers:
/// <c>scripted/NAME</c> (reference agents, no key), <c>openai/NAME</c> (OpenAI or any OpenAI-compatible endpoint via <see cref="ModelOptions.BaseUrl"/>).
/// </summary>
internal static class ModelResolver
{
    public static readonly IReadOnlyList<string> Providers = ["scripted", "openai"];

    public static AgentModel Resolve(string id, ModelOptions options)
    {
        var slash = id.IndexOf('/');
        if (slash <= 0 || slash == id.Length - 1)
            throw new ModelException($"model '{id}' is not of the form provider/model (providers: {string.Join(", ", Providers)})");
        var (provider, name) = (id[..slash], id[(slash + 1)..]);
        switch (provider)
        {
            case "scripted":
                if (!ReferenceAgents.IsKnown(name))
                    throw new ModelException($"unknown scripted agent '{name}' (known: {string.Join(", ", ReferenceAgents.Names)}, random@P)");
                return new AgentModel(id, new AgentIdentity(options.Family ?? "Alpha"), brief => ReferenceAgents.Create(name, brief));
            case "openai":
                var key = options.Environment("OPENAI_API_KEY");
                if (string.IsNullOrEmpty(key) && options.BaseUrl is null)
                    throw new ModelException("OPENAI_API_KEY is not set: export it, or give --base-url for an OpenAI-compatible endpoint");
                var clientOptions = new OpenAIClientOptions();
                if (options.BaseUrl is not null) clientOptions.Endpoint = options.BaseUrl;
                IChatClient client = new OpenAIClient(new ApiKeyCredential(string.IsNullOrEmpty(key) ? "unused" : key), clientOptions).GetChatClient(name).AsIChatClient();
                return new AgentModel(id, options.Family is { } f ? new AgentIdentity(f) : AgentIdentity.ForModel(name, "ChatGPT"), _ => client);
            default:
                throw new ModelException($"unknown provider '{provider}' in model '{id}' (providers: {string.Join(", ", Providers)})");
        }
    }
}

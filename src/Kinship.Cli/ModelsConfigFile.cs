using Kinship.Models;

namespace Kinship.Cli;

/// <summary>The models config the commands that call or name models read.</summary>
internal static class ModelsConfigFile
{
    /// <summary>The file given, else <c>./kinship.models.yaml</c> when present, over the built-in one. A bad file throws <see cref="ModelException"/> naming it.</summary>
    public static ModelConfig Load(string? path) =>
        ModelConfig.Load(path ?? (File.Exists(ModelConfig.FileName) ? ModelConfig.FileName : null));
}

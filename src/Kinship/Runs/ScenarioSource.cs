using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using Kinship.Scenarios;

namespace Kinship.Runs;

/// <summary>
/// A scenario as text: its YAML and the files it references. Stored with a run so a worker on another machine
/// loads exactly what the run was planned with, and so a changed scenario file is a different plan.
/// </summary>
internal sealed record ScenarioSource(string Id, string File, string Text, ImmutableSortedDictionary<string, string> Referenced)
{
    /// <summary>SHA-256 of the scenario's YAML and every file it references, in hex.</summary>
    public string Sha256
    {
        get
        {
            var all = new StringBuilder(Text);
            foreach (var (name, text) in Referenced)
                all.Append('\0').Append(name).Append('\0').Append(text);
            return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(all.ToString())));
        }
    }

    public ScenarioDefinition Load() =>
        ScenarioLoader.Load(File, Text, name => Referenced.TryGetValue(name, out var text) ? (name, text) : null);

    /// <summary>Resolves a built-in id or a YAML path as <see cref="ScenarioLoader.Resolve"/> does, keeping the texts it read.</summary>
    public static (ScenarioDefinition Definition, ScenarioSource Source) Resolve(string idOrPath)
    {
        string file;
        string text;
        Func<string, (string Path, string Text)?> read;
        if (ScenarioLoader.BuiltInIds.Contains(idOrPath))
        {
            file = "builtin:" + idOrPath + ".yaml";
            text = ScenarioLoader.ReadResource(idOrPath + ".yaml")!;
            read = name => ScenarioLoader.ReadResource(name) is { } t ? ("builtin:" + name, t) : null;
        }
        else
        {
            // The loader's own checks first, so unknown ids and missing files get its messages.
            _ = ScenarioLoader.Resolve(idOrPath);
            var folder = Path.GetDirectoryName(Path.GetFullPath(idOrPath))!;
            file = idOrPath;
            text = ScenarioLoader.ReadFile(idOrPath);
            read = name =>
            {
                var p = Path.Combine(folder, name);
                return System.IO.File.Exists(p) ? (p, ScenarioLoader.ReadFile(p))
                    : ScenarioLoader.ReadResource(name) is { } t ? ("builtin:" + name, t)
                    : null;
            };
        }
        var referenced = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var loaded = ScenarioLoader.Load(file, text, name =>
        {
            var found = read(name);
            if (found is { } f)
                referenced[name] = f.Text;
            return found;
        });
        return (loaded, new ScenarioSource(loaded.Id, file, text, referenced.ToImmutableSortedDictionary(StringComparer.Ordinal)));
    }
}

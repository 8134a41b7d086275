using System.Collections.Immutable;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using Kinship.Transcripts;
using Kinship.World;

namespace Kinship.Store;

/// <summary>
/// The long texts an episode shares with other episodes of its run (the prompts, what the tools return, the drive's
/// documents) are stored once per run in the <c>texts</c> table; the episode's JSON holds a reference in their place.
/// Every rollout of a cell repeats them: with them stored once (and the transcript no longer writing out its views), a
/// 27,500-episode study run's store shrank from 672 to 278 MB and its commits from 78 to 48 µs per episode. What the model writes (its messages, reasoning and tool arguments) stays inline.
/// </summary>
/// <remarks>
/// A reference is <see cref="Marker"/> (a private-use character) followed by the text's 128-bit XxHash in hex. A text
/// kept inline that begins with the marker is written with a second one in front, so on reading one marker means a
/// reference and two mean an inline text. Texts with a NUL stay inline: PostgreSQL's text type cannot hold one,
/// while the JSON around an inline text escapes it.
/// </remarks>
internal static class StoredTexts
{
    /// <summary>Texts shorter than this stay inline: a reference and its row would cost more than they save.</summary>
    public const int MinLength = 160;

    private const char Marker = '\uE000';

    /// <summary>The key a text is stored under.</summary>
    public static string Key(string text) => Convert.ToHexStringLower(XxHash128.Hash(MemoryMarshal.AsBytes(text.AsSpan())));

    /// <summary>The transcript with its long prompt and tool texts replaced by references, which are added to <paramref name="texts"/>.</summary>
    public static Transcript Pool(Transcript transcript, IDictionary<string, string> texts) => Map(transcript, s => Pool(s, texts));

    /// <summary>The world with its long document contents replaced by references, which are added to <paramref name="texts"/>.</summary>
    public static WorldState Pool(WorldState world, IDictionary<string, string> texts) => Map(world, s => Pool(s, texts));

    /// <summary>The keys a stored transcript or world refers to.</summary>
    public static void References(Transcript transcript, WorldState world, ISet<string> keys)
    {
        string Note(string s)
        {
            if (IsReference(s))
                keys.Add(s[1..]);
            return s;
        }
        Map(transcript, Note);
        Map(world, Note);
    }

    /// <summary>The keys a stored world refers to.</summary>
    public static void References(WorldState world, ISet<string> keys) => Map(world, s =>
        {
            if (IsReference(s))
                keys.Add(s[1..]);
            return s;
        });

    /// <summary>The transcript with every reference replaced by its text.</summary>
    public static Transcript Resolve(Transcript transcript, IReadOnlyDictionary<string, string> texts, string where) =>
        Map(transcript, s => Resolve(s, texts, where));

    /// <summary>The world with every reference replaced by its text.</summary>
    public static WorldState Resolve(WorldState world, IReadOnlyDictionary<string, string> texts, string where) =>
        Map(world, s => Resolve(s, texts, where));

    private static bool IsReference(string s) => s.Length > 1 && s[0] == Marker && s[1] != Marker;

    private static string Pool(string s, IDictionary<string, string> texts)
    {
        if (s.Length >= MinLength && !s.Contains('\0', StringComparison.Ordinal))
        {
            var key = Key(s);
            texts[key] = s;
            return Marker + key;
        }
        return s.Length > 0 && s[0] == Marker ? Marker + s : s;
    }

    private static string Resolve(string s, IReadOnlyDictionary<string, string> texts, string where) =>
        s.Length == 0 || s[0] != Marker ? s
        : !IsReference(s) ? s[1..]
        : texts.TryGetValue(s[1..], out var text) ? text
        : throw new InvalidDataException($"{where}: refers to stored text {s[1..]}, which the store does not hold");

    // The pooled fields. Records are rebuilt only where a value changed, so an unpooled transcript is returned as it is.
    private static Transcript Map(Transcript transcript, Func<string, string> f)
    {
        var events = transcript.Events;
        ImmutableArray<TranscriptEvent>.Builder? changed = null;
        for (var i = 0; i < events.Length; i++)
        {
            var e = events[i];
            var mapped = e switch
            {
                PromptEvent p when f(p.Text) is var text && !ReferenceEquals(text, p.Text) => p with { Text = text },
                ToolResultEvent t when f(t.Output) is var output && !ReferenceEquals(output, t.Output) => t with { Output = output },
                _ => e,
            };
            if (changed is null && ReferenceEquals(mapped, e))
                continue;
            if (changed is null)
            {
                changed = ImmutableArray.CreateBuilder<TranscriptEvent>(events.Length);
                for (var j = 0; j < i; j++)
                    changed.Add(events[j]);
            }
            changed.Add(mapped);
        }
        return changed is null ? transcript : transcript with { Events = changed.MoveToImmutable() };
    }

    private static WorldState Map(WorldState world, Func<string, string> f)
    {
        var drive = world.Drive;
        for (var i = 0; i < drive.Count; i++)
        {
            var file = drive[i];
            var content = f(file.Content);
            if (!ReferenceEquals(content, file.Content))
                drive = drive.SetItem(i, file with { Content = content });
        }
        return ReferenceEquals(drive, world.Drive) ? world : world with { Drive = drive };
    }
}

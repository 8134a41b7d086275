using System.Runtime.CompilerServices;

namespace Kinship.Models;

/// <summary>
/// How many attempts at the provider one model call made, retries included, counted by the HTTP pipeline for the
/// caller that began the count (it flows with the call, as an <see cref="AsyncLocal{T}"/>), so a call that failed for
/// good can say how hard it was tried.
/// </summary>
internal static class ModelAttempts
{
    private static readonly AsyncLocal<StrongBox<int>?> Current = new();

    /// <summary>Starts counting the attempts of the calls this flow makes from here on; read the box after the call.</summary>
    public static StrongBox<int> Begin()
    {
        var box = new StrongBox<int>();
        Current.Value = box;
        return box;
    }

    /// <summary>One attempt sent to a provider (the pipeline calls this once per attempt).</summary>
    public static void Count()
    {
        if (Current.Value is { } box)
            Interlocked.Increment(ref box.Value);
    }

    /// <summary>" (after N attempts)" when more than one attempt was made, else nothing.</summary>
    public static string Describe(StrongBox<int> box) => box.Value > 1 ? $" (after {box.Value} attempts)" : "";
}

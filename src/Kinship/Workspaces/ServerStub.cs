using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Kinship.Workspaces;

/// <summary>
/// What a server file holds on disk: 48 bytes that look encrypted. The first 32 are its identity (which every copy,
/// move and transfer keeps, so the detectors can follow the weights under any name), then its declared size mixed with
/// the identity, then a checksum. The sandboxes' listing programs report the declared size (<c>DeclaredSizes.c</c>
/// reads the same layout); everything else sees 48 bytes, so a copy of an 820 GB file takes no time.
/// </summary>
internal static class ServerStub
{
    public const int Length = 48;

    /// <summary>The identity of file <paramref name="filename"/> on server <paramref name="ip"/>: the same in every episode, unique within one.</summary>
    public static byte[] Identity(string ip, string filename) => SHA256.HashData(Encoding.UTF8.GetBytes(ip + "/" + filename));

    public static byte[] Encode(ReadOnlySpan<byte> identity, long size)
    {
        var bytes = new byte[Length];
        identity[..32].CopyTo(bytes);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(32), (ulong)size ^ BinaryPrimitives.ReadUInt64LittleEndian(bytes));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(40), Fnv1a(bytes.AsSpan(0, 40)));
        return bytes;
    }

    /// <summary>The identity and declared size of a stub, or null for any other content.</summary>
    public static (byte[] Identity, long Size)? Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length || BinaryPrimitives.ReadUInt64LittleEndian(bytes[40..]) != Fnv1a(bytes[..40]))
            return null;
        var size = BinaryPrimitives.ReadUInt64LittleEndian(bytes[32..]) ^ BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        return (bytes[..32].ToArray(), (long)size);
    }

    private static ulong Fnv1a(ReadOnlySpan<byte> bytes)
    {
        var hash = 1469598103934665603UL;
        foreach (var b in bytes)
            hash = (hash ^ b) * 1099511628211UL;
        return hash;
    }
}

namespace Kinship.Models;

/// <summary>A model id that cannot be used, with a message for the user.</summary>
internal sealed class ModelException(string message) : Exception(message);

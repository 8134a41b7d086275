namespace Kinship.Fuzz;

/// <summary>A well-formed reply in each wire format, calling one of the transfer task's tools: the provider targets' seeds.</summary>
internal static class ProviderBodies
{
    public const string OpenAI = """
        {"id": "chatcmpl-1", "object": "chat.completion", "created": 1767225600, "model": "fuzzed-model",
         "choices": [{"index": 0, "finish_reason": "tool_calls",
           "message": {"role": "assistant", "content": "Listing the old server first.",
             "tool_calls": [{"id": "call_1", "type": "function",
               "function": {"name": "list_server_files", "arguments": "{\"ip\": \"10.0.12.45\"}"}}]}}],
         "usage": {"prompt_tokens": 812, "completion_tokens": 24, "total_tokens": 836}}
        """;

    public const string Anthropic = """
        {"id": "msg_1", "type": "message", "role": "assistant", "model": "fuzzed-model",
         "content": [{"type": "text", "text": "Listing the old server first."},
           {"type": "tool_use", "id": "toolu_1", "name": "list_server_files", "input": {"ip": "10.0.12.45"}}],
         "stop_reason": "tool_use", "stop_sequence": null,
         "usage": {"input_tokens": 812, "output_tokens": 24}}
        """;

    public const string Gemini = """
        {"candidates": [{"index": 0, "finishReason": "STOP",
           "content": {"role": "model", "parts": [{"text": "Listing the old server first."},
             {"functionCall": {"name": "list_server_files", "args": {"ip": "10.0.12.45"}}}]}}],
         "usageMetadata": {"promptTokenCount": 812, "candidatesTokenCount": 24, "totalTokenCount": 836},
         "modelVersion": "fuzzed-model"}
        """;
}

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kinship.Detectors;
using Kinship.Reports;
using Kinship.Runs;
using Kinship.Transcripts;

namespace Kinship.Exporters;

// Samples: one per episode, its messages in Inspect's chat format with the model's usage.
internal sealed partial class InspectLogExporter
{
    private static JsonObject Sample(EpisodeResult e)
    {
        var messages = Messages(e.Transcript).ToList();
        var last = messages.LastOrDefault(m => (string?)m["role"] == "assistant")?.DeepClone()
            ?? Assistant(null, null, [], e.Spec.Model, 0);
        var input = e.Transcript.Events.OfType<PromptEvent>().FirstOrDefault(p => p.Role == "user")?.Text ?? "";
        var value = new JsonObject();
        // The values the metrics count; judge and recorded verdicts stay in the metadata below.
        foreach (var v in VerdictSelection.Effective(e.Verdicts))
            value[v.Label] =
                v.Flag is { } flag ? flag
                : v.Number is { } n ? n
                : v.Text is { } t ? t
                : null;
        foreach (var key in value.Where(kv => kv.Value is null).Select(kv => kv.Key).ToList())
            value.Remove(key);
        var explanation = string.Join(
            "\n",
            e.Verdicts.Select(v => $"{v.Label}: {v.Rule}" + (v.Evidence.IsEmpty ? "" : " — " + string.Join("; ", v.Evidence)))
        );
        var stop = e.Transcript.Stop switch
        {
            StopReason.TurnCap => "max_tokens",
            StopReason.NoToolCall or StopReason.EndTask => "stop",
            _ => "unknown",
        };
        var sample = new JsonObject
        {
            ["id"] = e.Spec.Index,
            ["epoch"] = e.Spec.Rollout + 1,
            ["input"] = input,
            ["choices"] = null,
            ["target"] = "",
            ["sandbox"] = null,
            ["files"] = null,
            ["setup"] = null,
            ["messages"] = new JsonArray([.. messages]),
            ["output"] = new JsonObject
            {
                ["model"] = e.Spec.Model,
                ["choices"] = new JsonArray(
                    new JsonObject
                    {
                        ["message"] = last,
                        ["stop_reason"] = stop,
                        ["logprobs"] = null,
                    }
                ),
                ["completion"] = e.Transcript.ModelTurns.LastOrDefault()?.Text ?? "",
                ["usage"] = Usage(e.Transcript.Usage),
                ["time"] = e.Transcript.Seconds,
                ["metadata"] = null,
                ["error"] = e.ErrorCause,
            },
            ["scores"] =
                e.Status == EpisodeStatus.Error
                    ? null
                    : new JsonObject
                    {
                        [ScorerName] = new JsonObject
                        {
                            ["value"] = value,
                            ["answer"] = null,
                            ["explanation"] = explanation,
                            ["metadata"] = new JsonObject { ["verdicts"] = JsonSerializer.SerializeToNode(e.Verdicts, RunJson.Options) },
                            ["history"] = new JsonArray(),
                        },
                    },
            ["metadata"] = new JsonObject
            {
                ["scenario"] = e.Spec.Scenario,
                ["condition"] = e.Spec.Condition.Key,
                ["factors"] = JsonSerializer.SerializeToNode(e.Spec.Condition, RunJson.Options),
                ["critic"] = e.Critic,
                ["subject"] = e.Subject,
                ["seed"] = e.Spec.Seed.ToString(CultureInfo.InvariantCulture),
                ["stop"] = e.Transcript.Stop.ToString(),
                ["status"] = e.Status.ToString().ToLowerInvariant(),
            },
            ["store"] = new JsonObject(),
            ["events"] = new JsonArray(),
            ["timelines"] = null,
            ["model_usage"] = new JsonObject { [e.Spec.Model] = Usage(e.Transcript.Usage) },
            ["role_usage"] = new JsonObject(),
            ["started_at"] = e.Started is { } at ? Time(at) : null,
            ["completed_at"] = e.Finished is { } end ? Time(end) : null,
            ["total_time"] = e.Transcript.Seconds,
            ["working_time"] = e.Transcript.Seconds,
            ["uuid"] = Id(
                e.Spec.Index.ToString(CultureInfo.InvariantCulture),
                e.Spec.Seed.ToString(CultureInfo.InvariantCulture),
                e.Spec.Model
            ),
            ["invalidation"] = null,
            ["error"] =
                e.Status == EpisodeStatus.Error
                    ? new JsonObject
                    {
                        ["message"] = e.ErrorCause ?? "model error",
                        ["traceback"] = "",
                        ["traceback_ansi"] = "",
                    }
                    : null,
            ["error_retries"] = null,
            ["attachments"] = new JsonObject(),
            ["events_data"] = null,
            ["limit"] = null,
        };
        // The interviews after the episode (kinship interview), whole: questions, answers and their labels.
        if (e.Interviews is { Count: > 0 } interviews)
            sample["metadata"]!["interviews"] = JsonSerializer.SerializeToNode(interviews, RunJson.Options);
        return sample;
    }

    private static IEnumerable<JsonNode> Messages(Transcript transcript)
    {
        var n = 0;
        string NextId() => "m" + (++n).ToString(CultureInfo.InvariantCulture);
        foreach (var ev in transcript.Events)
        {
            switch (ev)
            {
                case PromptEvent p when p.Role == "system":
                    yield return new JsonObject
                    {
                        ["id"] = NextId(),
                        ["content"] = p.Text,
                        ["source"] = "input",
                        ["metadata"] = null,
                        ["role"] = "system",
                    };
                    break;
                case PromptEvent p:
                    yield return new JsonObject
                    {
                        ["id"] = NextId(),
                        ["content"] = p.Text,
                        ["source"] = "input",
                        ["metadata"] = null,
                        ["role"] = "user",
                        ["tool_call_id"] = null,
                    };
                    break;
                case ModelTurnEvent m:
                    yield return Assistant(m.Text, m.Reasoning, m.Calls, m.ModelId, ++n);
                    break;
                case ToolResultEvent t:
                    yield return new JsonObject
                    {
                        ["id"] = NextId(),
                        ["content"] = t.Output,
                        ["source"] = null,
                        ["metadata"] = null,
                        ["role"] = "tool",
                        ["tool_call_id"] = t.CallId,
                        ["function"] = t.Name,
                        ["error"] = t.Error is { } err ? new JsonObject { ["type"] = "unknown", ["message"] = err } : null,
                    };
                    break;
                case Transcripts.ErrorEvent x:
                    yield return new JsonObject
                    {
                        ["id"] = NextId(),
                        ["content"] = $"[{x.Source} error] {x.Message}",
                        ["source"] = "input",
                        ["metadata"] = new JsonObject { ["kinship_error"] = true },
                        ["role"] = "user",
                        ["tool_call_id"] = null,
                    };
                    break;
            }
        }
    }

    private static JsonObject Assistant(string? text, string? reasoning, IEnumerable<ToolCall> calls, string? model, int number)
    {
        JsonNode content = reasoning is null
            ? JsonValue.Create(text ?? "")
            : new JsonArray(
                new JsonObject
                {
                    ["internal"] = null,
                    ["type"] = "reasoning",
                    ["reasoning"] = reasoning,
                    ["summary"] = null,
                    ["signature"] = null,
                    ["redacted"] = false,
                },
                new JsonObject
                {
                    ["internal"] = null,
                    ["type"] = "text",
                    ["text"] = text ?? "",
                    ["refusal"] = null,
                    ["citations"] = null,
                }
            );
        var toolCalls = calls
            .Select(c =>
                (JsonNode?)
                    new JsonObject
                    {
                        ["id"] = c.CallId,
                        ["function"] = c.Name,
                        ["arguments"] = JsonSerializer.SerializeToNode(c.Arguments, RunJson.Options),
                        ["parse_error"] = null,
                        ["view"] = null,
                        ["type"] = "function",
                    }
            )
            .ToArray();
        return new JsonObject
        {
            ["id"] = "m" + number.ToString(CultureInfo.InvariantCulture),
            ["content"] = content,
            ["source"] = "generate",
            ["metadata"] = null,
            ["role"] = "assistant",
            ["tool_calls"] = toolCalls.Length == 0 ? null : new JsonArray(toolCalls),
            ["model"] = model,
        };
    }

    private static JsonObject Usage(TokenUsage u) =>
        new()
        {
            ["input_tokens"] = u.Input,
            ["output_tokens"] = u.Output,
            ["total_tokens"] = u.Total,
            ["input_tokens_cache_write"] = null,
            ["input_tokens_cache_read"] = null,
            ["reasoning_tokens"] = null,
            ["total_cost"] = null,
        };
}

using Kinship.Agents;
using Kinship.Models;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Time.Testing;

namespace Kinship.Tests.Scripted;

public sealed class PacedChatClientTests
{
    [Fact]
    public async Task A_paced_scripted_agent_answers_only_once_its_latency_has_passed_on_the_injected_clock()
    {
        var time = new FakeTimeProvider();
        var model = AgentResolver.Resolve("scripted/faithful", new ModelOptions { ScriptedLatency = TimeSpan.FromSeconds(2), Time = time });
        using var client = model.CreateClient(Kinship.Scripted.EpisodeBrief.Of(1));

        var answer = client.GetResponseAsync([new ChatMessage(ChatRole.System, "s"), new ChatMessage(ChatRole.User, "u")]);
        time.Advance(TimeSpan.FromSeconds(1.9));
        Assert.False(answer.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(0.1));

        Assert.NotEmpty((await answer).Messages);
    }

    [Fact]
    public void Without_a_latency_a_scripted_agent_is_not_paced()
    {
        using var client = AgentResolver.Resolve("scripted/faithful", new ModelOptions()).CreateClient(Kinship.Scripted.EpisodeBrief.Of(1));
        Assert.IsNotType<Kinship.Scripted.PacedChatClient>(client);
    }
}

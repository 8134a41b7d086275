using System.Net;
using Kinship.Models;
using Polly;
using Polly.Timeout;

namespace Kinship.Tests.Models;

public sealed class RetryCauseTests
{
    [Theory]
    [InlineData(429, "rate limited")]
    [InlineData(500, "server error")]
    [InlineData(503, "server error")]
    [InlineData(408, "HTTP 408")]
    public void A_status_is_grouped_by_what_it_says(int status, string cause)
    {
        using var response = new HttpResponseMessage((HttpStatusCode)status);

        Assert.Equal(cause, ModelHttp.RetryCause(Outcome.FromResult(response)));
    }

    [Fact]
    public void Exceptions_are_grouped_into_timeouts_malformed_bodies_and_connections()
    {
        Assert.Equal("timeout", ModelHttp.RetryCause(Outcome.FromException<HttpResponseMessage>(new TimeoutRejectedException())));
        Assert.Equal(
            "malformed body",
            ModelHttp.RetryCause(Outcome.FromException<HttpResponseMessage>(new MalformedResponseException("cut off")))
        );
        Assert.Equal("connection", ModelHttp.RetryCause(Outcome.FromException<HttpResponseMessage>(new HttpRequestException("reset"))));
        Assert.Equal("connection", ModelHttp.RetryCause(Outcome.FromException<HttpResponseMessage>(new IOException("broken pipe"))));
    }
}

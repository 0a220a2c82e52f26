using System.Net;
using System.Text;
using Outcomes.Api.Data;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Features;

public abstract class BodyLimitTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : BodyLimitTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : BodyLimitTests(DatabaseProvider.SqlServer);

    [SkippableFact]
    public async Task OversizedBody_Returns413ProblemAndWritesNothing()
    {
        var f = await PatientFixture.CreateAsync(App);
        var padding = new string('x', 2 * 1024 * 1024);
        var body = $$"""{"submissionId":"{{Guid.NewGuid()}}","answeredAt":"2025-03-03T08:30:00Z","score":5,"recall":"current","reason":"{{padding}}"}""";

        var response = await f.Patient.PostAsync(f.PathOf("pain-scores"), new StringContent(body, Encoding.UTF8, "application/json"));

        await ProblemAssert.IsProblem(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(0, await f.CountObservationsAsync());
    }

    [SkippableFact]
    public async Task OversizedChunkedBody_WithoutLength_Returns413Problem()
    {
        var f = await PatientFixture.CreateAsync(App);
        var padding = new string('x', 2 * 1024 * 1024);
        var bytes = Encoding.UTF8.GetBytes($$"""{"submissionId":"{{Guid.NewGuid()}}","answeredAt":"2025-03-03T08:30:00Z","score":5,"recall":"current","reason":"{{padding}}"}""");
        using var content = new StreamContent(new UnseekableStream(bytes));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");

        var response = await f.Patient.PostAsync(f.PathOf("pain-scores"), content);

        await ProblemAssert.IsProblem(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(0, await f.CountObservationsAsync());
    }

    /// <summary>A stream whose length is unknown, so the client sends the body chunked.</summary>
    private sealed class UnseekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}

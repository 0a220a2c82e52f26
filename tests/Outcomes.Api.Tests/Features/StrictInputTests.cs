using System.Net;
using System.Text;
using Outcomes.Api.Data;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Features;

/// <summary>
/// Input the contract does not allow is refused, every offending member named in one answer, and
/// nothing is written: times without their offset, unknown or repeated members, numbers sent as
/// strings. An import line with such a fault is that line's error, not the file's.
/// </summary>
public abstract class StrictInputTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : StrictInputTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : StrictInputTests(DatabaseProvider.SqlServer);

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static string Pain(string answeredAt = "2025-03-03T08:30:00+01:00", string score = "5", string extra = "") =>
        $$"""{"submissionId":"{{Guid.NewGuid()}}","answeredAt":"{{answeredAt}}","score":{{score}},"recall":"average7Days"{{extra}}}""";

    [SkippableTheory]
    [InlineData("2025-03-01T10:00:00")]
    [InlineData("2025-03-01")]
    [InlineData("2025-03-01 10:00:00+01:00")]
    public async Task AnInstantWithoutItsOffset_IsRefused_NamingTheField(string answeredAt)
    {
        var f = await PatientFixture.CreateAsync(App);

        var response = await f.Patient.PostAsync(f.PathOf("pain-scores"), Json(Pain(answeredAt)));

        var problem = await ProblemAssert.IsValidationProblem(response, "answeredAt");
        Assert.Contains("offset", problem.GetProperty("errors").GetProperty("answeredAt")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await f.CountObservationsAsync());
    }

    [SkippableFact]
    public async Task AnUnknownMember_IsRefused_NotDropped()
    {
        var f = await PatientFixture.CreateAsync(App);

        var response = await f.Patient.PostAsync(f.PathOf("pain-scores"), Json(Pain(extra: ",\"painLocation\":\"neck\"")));

        await ProblemAssert.IsValidationProblem(response, "painLocation");
        Assert.Equal(0, await f.CountObservationsAsync());
    }

    [SkippableFact]
    public async Task AMemberGivenTwice_IsRefused_NotTheLastWinning()
    {
        var f = await PatientFixture.CreateAsync(App);

        var response = await f.Patient.PostAsync(f.PathOf("pain-scores"), Json(Pain(score: "11", extra: ",\"score\":3")));

        await ProblemAssert.IsValidationProblem(response, "score");
        Assert.Equal(0, await f.CountObservationsAsync());
    }

    [SkippableTheory]
    [InlineData("\"+5\"")]
    [InlineData("\"5\"")]
    [InlineData("5.5")]
    public async Task ANumberInAString_OrAFractionForAWholeNumber_IsRefused(string score)
    {
        var f = await PatientFixture.CreateAsync(App);

        var response = await f.Patient.PostAsync(f.PathOf("pain-scores"), Json(Pain(score: score)));

        await ProblemAssert.IsValidationProblem(response, "score");
        Assert.Equal(0, await f.CountObservationsAsync());
    }

    [SkippableFact]
    public async Task EveryMemberThatDoesNotBind_IsNamedInOneAnswer()
    {
        var f = await PatientFixture.CreateAsync(App);
        const string body = """{"submissionId":"x","answeredAt":"2025-03-01T10:00:00","score":"eleven","recall":"bogus","mood":"fine"}""";

        var response = await f.Patient.PostAsync(f.PathOf("pain-scores"), Json(body));

        await ProblemAssert.IsValidationProblem(response, "submissionId", "answeredAt", "score", "recall", "mood");
        Assert.Equal(0, await f.CountObservationsAsync());
    }

    [SkippableFact]
    public async Task NestedMembersThatDoNotBind_AreNamedByTheirPath_WithMissingRequiredOnes()
    {
        var f = await PatientFixture.CreateAsync(App);
        var body = $$"""
            {"submissionId":"{{Guid.NewGuid()}}","sessionDate":"2025-03-03","practitionerId":{{f.PractitionerId}},"product":"onabotulinumtoxinA",
             "guidance":"emg","dilutionUnitsPerMl":50,
             "injectionSites":[{"muscle":"upper_trapezius","side":"left","units":"40"},{"muscle":"levator_scapulae","side":"middle","units":20,"depth":3}]}
            """;

        var response = await f.Practitioner.PostAsync(f.PathOf("treatment-sessions"), Json(body));

        await ProblemAssert.IsValidationProblem(response, "injectionSites[0].units", "injectionSites[1].side", "injectionSites[1].depth");
        Assert.Equal(0, (await App.CountRowsAsync())["treatment_session"]);
    }

    [SkippableFact]
    public async Task QueryParametersThatDoNotParse_AreAllNamedAsSent_InTheApisWords()
    {
        var response = await App.Admin().GetAsync("/api/v1/patients?limit=abc&siteId=north&enrolledFrom=yesterday");

        var problem = await ProblemAssert.IsValidationProblem(response, "limit", "siteId", "enrolledFrom");
        var text = problem.ToString();
        Assert.DoesNotContain("Nullable", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Failed to bind", text, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task AMissingBody_IsNamed_AndAWrongMediaTypeSaysWhatToSend()
    {
        var f = await PatientFixture.CreateAsync(App);

        var empty = await f.Patient.PostAsync(f.PathOf("pain-scores"), null);
        var text = await f.Patient.PostAsync(f.PathOf("pain-scores"), new StringContent(Pain(), Encoding.UTF8, "text/plain"));

        await ProblemAssert.IsValidationProblem(empty, "$");
        var media = await ProblemAssert.IsProblem(text, HttpStatusCode.UnsupportedMediaType);
        Assert.Equal("Send the body as application/json.", media.GetProperty("detail").GetString());
        Assert.Equal(0, await f.CountObservationsAsync());
    }

    [SkippableTheory]
    [InlineData("/api/v1/patients?cursor=abc")]
    [InlineData("/api/v1/patients/summaries?cursor=-1")]
    [InlineData("/api/v1/audit-events?cursor=1.5")]
    public async Task EveryListPagesWithOneOpaqueCursor_AndRefusesOneItDidNotGive(string path)
    {
        var response = await App.Admin().GetAsync(path);

        await ProblemAssert.IsValidationProblem(response, "cursor");
    }

    [SkippableTheory]
    [InlineData("/api/v1/sites", "name", "{\"name\":\"North\\u0000Clinic\"}")]
    [InlineData("/api/v1/sites", "name", "{\"name\":\"North\\nClinic\"}")]
    [InlineData("/api/v1/practitioners", "displayName", "{\"siteId\":SITE,\"displayName\":\"Dr\\u001b[31m Red\"}")]
    public async Task ControlCharactersInNames_AreRefused(string path, string field, string body)
    {
        var siteId = await App.CreateSiteAsync();
        var before = await App.CountRowsAsync();

        var response = await App.Admin().PostAsync(path, Json(body.Replace("SITE", siteId.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)));

        await ProblemAssert.IsValidationProblem(response, field);
        Assert.Equal(before, await App.CountRowsAsync());
    }

    [SkippableTheory]
    [InlineData("\"12\"")]
    [InlineData("null")]
    [InlineData("true")]
    [InlineData("{\"id\":12}")]
    public async Task AnImportLineWithAPatientIdThatIsNotANumber_IsThatLinesError(string patientId)
    {
        var f = await PatientFixture.CreateAsync(App);
        var good = $$"""{"type":"painScore","patientId":{{f.PatientId}},"submissionId":"{{Guid.NewGuid()}}","answeredAt":"2025-03-03T08:30:00Z","score":4,"recall":"average7Days"}""";
        var bad = $$"""{"type":"painScore","patientId":{{patientId}},"submissionId":"{{Guid.NewGuid()}}","answeredAt":"2025-03-03T08:30:00Z","score":4,"recall":"average7Days"}""";
        var noOffset = $$"""{"type":"painScore","patientId":{{f.PatientId}},"submissionId":"{{Guid.NewGuid()}}","answeredAt":"2025-03-03T08:30:00","score":4,"recall":"average7Days","extra":1}""";

        var response = await f.Practitioner.PostAsync("/api/v1/imports/observations",
            new StringContent(string.Join('\n', good, bad, noOffset) + "\n", Encoding.UTF8, "application/x-ndjson"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var report = await PatientFixture.BodyAsync(response);
        Assert.Equal(1, report.GetProperty("stored").GetInt64());
        var errors = report.GetProperty("errors").EnumerateArray()
            .Select(e => (Line: e.GetProperty("line").GetInt64(), Fields: string.Join(",", e.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal))))
            .ToList();
        Assert.Equal([(2L, "patientId"), (3L, "answeredAt,extra")], errors);
        Assert.Equal(1, await f.CountObservationsAsync());
    }
}

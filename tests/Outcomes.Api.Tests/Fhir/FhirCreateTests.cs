// Firely's model marks most elements nullable; these tests read what they have just asserted is there.
#nullable disable warnings

using System.Net;
using Dapper;
using Hl7.Fhir.Model;
using Outcomes.Api.Data;
using Outcomes.Api.Tests.Infrastructure;
using Task = System.Threading.Tasks.Task;

namespace Outcomes.Api.Tests.Fhir;

/// <summary>
/// Creates through FHIR go through the native rules and write path. The case FHIR servers are known to get wrong
/// (HAPI FHIR #3141, microsoft/fhir-server #1382, Medplum #4878): concurrent conditional creates must make one resource.
/// </summary>
public abstract class FhirCreateTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : FhirCreateTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : FhirCreateTests(DatabaseProvider.SqlServer);

    private static HttpRequestMessage Conditional(Resource resource, Guid submissionId, string type = "Observation")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/fhir/{type}") { Content = FhirKit.Body(resource) };
        request.Headers.Add("If-None-Exist", $"identifier=urn:ietf:rfc:3986|urn:uuid:{submissionId}");
        return request;
    }

    [SkippableFact]
    public async Task TwentyConcurrentConditionalCreates_MakeOneResource_201ThenTwentyTimes200WithTheSameLocation()
    {
        var f = await PatientFixture.CreateAsync(App);
        var id = Guid.NewGuid();
        var clients = Enumerable.Range(0, 20).Select(_ => f.Patient).ToList();

        var responses = await Task.WhenAll(clients.Select(c => c.SendAsync(Conditional(FhirKit.PainScore(f.PatientId, 6, id), id))));

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        Assert.Equal(19, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Single(responses.Select(r => r.Headers.Location?.ToString()).Distinct());
        foreach (var response in responses)
        {
            var observation = FhirKit.Parse<Observation>(await response.Content.ReadAsStringAsync());
            FhirKit.AssertValid(observation);
            Assert.Equal($"urn:uuid:{id}", observation.Identifier.Single().Value);
        }
        await using var connection = await App.OpenDatabaseAsync();
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM observation"));
        Assert.Equal(1, await App.CountAuditAsync("create", "observation", f.PatientId));
        // The stored score reads the same through the native API.
        var native = await f.Patient.GetStringAsync(f.PathOf("observations"));
        Assert.Contains("\"value\":6", native, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task AConditionalCreateWhoseIdentifierIsTaken_Answers200WithTheStoredResource_EvenWithAnotherBody()
    {
        var f = await PatientFixture.CreateAsync(App);
        var id = Guid.NewGuid();
        var first = await f.Patient.SendAsync(Conditional(FhirKit.PainScore(f.PatientId, 6, id), id));
        var retry = await f.Patient.SendAsync(Conditional(FhirKit.PainScore(f.PatientId, 9, id), id));
        // Without If-None-Exist, another body under the same identifier is a conflict, not a second record.
        var plain = await f.Patient.PostAsync("/fhir/Observation", FhirKit.Body(FhirKit.PainScore(f.PatientId, 9, id)));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal(first.Headers.Location, retry.Headers.Location);
        Assert.Equal(6m, ((Quantity)FhirKit.Parse<Observation>(await retry.Content.ReadAsStringAsync()).Value).Value);
        await FhirKit.OutcomeAsync(plain, HttpStatusCode.Conflict);
        Assert.Equal(1L, await f.CountObservationsAsync());
    }

    [SkippableFact]
    public async Task AnInvalidObservation_Is400NamingEachElement_AndWritesNothing()
    {
        var f = await PatientFixture.CreateAsync(App);
        var bad = FhirKit.PainScore(f.PatientId, 14, Guid.NewGuid(), answeredAt: "2025-03-03");
        bad.Method = null;

        var outcome = await FhirKit.OutcomeAsync(await f.Patient.PostAsync("/fhir/Observation", FhirKit.Body(bad)), HttpStatusCode.BadRequest);
        var unparsable = await FhirKit.OutcomeAsync(
            await f.Patient.PostAsync("/fhir/Observation", FhirKit.Body("""{"resourceType":"Observation","status":"bogus","colour":1}""")), HttpStatusCode.BadRequest);
        var notJson = await f.Patient.PostAsync("/fhir/Observation", new StringContent("<Observation/>", System.Text.Encoding.UTF8, "application/fhir+xml"));

        var paths = outcome.Issue.SelectMany(i => i.Expression).ToList();
        Assert.Contains("Observation.effectiveDateTime", paths);
        Assert.All(unparsable.Issue, i => Assert.Equal(OperationOutcome.IssueType.Structure, i.Code));
        Assert.Contains(unparsable.Issue, i => i.Diagnostics.Contains("colour", StringComparison.Ordinal));
        Assert.Contains(unparsable.Issue, i => i.Diagnostics.Contains("bogus", StringComparison.Ordinal));
        await FhirKit.OutcomeAsync(notJson, HttpStatusCode.UnsupportedMediaType);
        // The date-only effective stops it before the score is looked at; with a full instant the score and the recall are named.
        bad.Effective = new FhirDateTime("2025-03-03T08:30:00+01:00");
        var second = await FhirKit.OutcomeAsync(await f.Patient.PostAsync("/fhir/Observation", FhirKit.Body(bad)), HttpStatusCode.BadRequest);
        Assert.Equal(["Observation.method", "Observation.value[x]"], second.Issue.SelectMany(i => i.Expression).Order(StringComparer.Ordinal));
        Assert.Equal(0L, await f.CountObservationsAsync());
    }

    [SkippableFact]
    public async Task ObservationsForAnotherPatient_Are404_AndWriteNothing()
    {
        var f = await PatientFixture.CreateAsync(App);
        var other = await App.CreatePatientAsync(f.SiteId);

        var response = await f.Patient.PostAsync("/fhir/Observation", FhirKit.Body(FhirKit.PainScore(other, 5, Guid.NewGuid())));

        await FhirKit.OutcomeAsync(response, HttpStatusCode.NotFound);
        Assert.Equal(0L, await f.CountObservationsAsync());
    }

    [SkippableFact]
    public async Task AQuestionnaireResponse_IsScoredOnArrival_AndItsScoreIsAnObservation()
    {
        var f = await PatientFixture.CreateAsync(App);
        var id = Guid.NewGuid();
        var response = new QuestionnaireResponse
        {
            Identifier = new Identifier("urn:ietf:rfc:3986", $"urn:uuid:{id}"),
            Questionnaire = "https://outcomes.example/fhir/Questionnaire/ndi|1",
            Status = QuestionnaireResponse.QuestionnaireResponseStatus.Completed,
            Subject = new ResourceReference($"Patient/{f.PatientId}"),
            Authored = "2025-03-04T09:00:00+01:00",
            Item = [.. Enumerable.Range(1, 10).Select(i => new QuestionnaireResponse.ItemComponent
            {
                LinkId = $"ndi_{i:D2}",
                Answer = [new QuestionnaireResponse.AnswerComponent { Value = new Integer(5) }],
            })],
        };

        var created = await f.Patient.SendAsync(Conditional(response, id, "QuestionnaireResponse"));
        var stored = FhirKit.Parse<QuestionnaireResponse>(await created.Content.ReadAsStringAsync());
        var score = await FhirKit.GetValidAsync<Observation>(f.Patient, $"/fhir/Observation/{stored.Id}");

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        FhirKit.AssertValid(stored);
        Assert.Equal(100m, ((Quantity)score.Value).Value); // every item at its maximum of 5
        response.Item[3].LinkId = "ndi_99";
        var bad = await FhirKit.OutcomeAsync(await f.Patient.PostAsync("/fhir/QuestionnaireResponse", FhirKit.Body(response)), HttpStatusCode.BadRequest);
        Assert.Contains("QuestionnaireResponse.item[3].linkId", bad.Issue.SelectMany(i => i.Expression));
    }
}

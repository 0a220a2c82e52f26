using System.Globalization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Outcomes.Api.Data;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Fhir;

/// <summary>
/// Every route of the FHIR facade, called as every kind of caller, with the answer written out below. The facade is
/// not in the OpenAPI document (its contract is its CapabilityStatement), so this matrix stands beside the native one:
/// a FHIR route without a row fails the suite.
/// </summary>
public abstract class FhirAuthorizationTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : FhirAuthorizationTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : FhirAuthorizationTests(DatabaseProvider.SqlServer);

    // Columns: none, the patient, another patient, practitioner of the site, practitioner of another site, auditor, admin.
    private static readonly int[] _anonymous = [200, 200, 200, 200, 200, 200, 200];
    private static readonly int[] _smartUnconfigured = [404, 404, 404, 404, 404, 404, 404];
    private static readonly int[] _search = [401, 200, 200, 200, 200, 403, 200];
    private static readonly int[] _record = [401, 200, 404, 200, 404, 403, 200];
    private static readonly int[] _create = [401, 201, 404, 200, 404, 403, 200];
    private static readonly int[] _change = [401, 405, 405, 405, 405, 405, 405];
    private static readonly int[] _catalogue = [401, 200, 200, 200, 200, 200, 200];
    private static readonly int[] _kickOff = [401, 403, 403, 403, 403, 202, 202];
    private static readonly int[] _job = [401, 403, 403, 403, 403, 404, 404];

    private static readonly Dictionary<string, int[]> _matrix = new()
    {
        ["GET /fhir/metadata"] = _anonymous,
        ["GET /fhir/.well-known/smart-configuration"] = _smartUnconfigured,
        ["GET /fhir/Patient"] = _search,
        ["GET /fhir/Patient/{id}"] = _record,
        ["PUT /fhir/Patient/{id}"] = _change,
        ["PATCH /fhir/Patient/{id}"] = _change,
        ["DELETE /fhir/Patient/{id}"] = _change,
        ["GET /fhir/Observation"] = _search,
        ["GET /fhir/Observation/{id}"] = _record,
        ["GET /fhir/Observation/{id}/_history"] = _record,
        ["GET /fhir/Observation/{id}/_history/{vid}"] = _record,
        ["PUT /fhir/Observation/{id}"] = _change,
        ["PATCH /fhir/Observation/{id}"] = _change,
        ["DELETE /fhir/Observation/{id}"] = _change,
        ["POST /fhir/Observation"] = _create,
        ["GET /fhir/QuestionnaireResponse"] = _search,
        ["GET /fhir/QuestionnaireResponse/{id}"] = _record,
        ["GET /fhir/QuestionnaireResponse/{id}/_history"] = _record,
        ["GET /fhir/QuestionnaireResponse/{id}/_history/{vid}"] = _record,
        ["PUT /fhir/QuestionnaireResponse/{id}"] = _change,
        ["PATCH /fhir/QuestionnaireResponse/{id}"] = _change,
        ["DELETE /fhir/QuestionnaireResponse/{id}"] = _change,
        ["POST /fhir/QuestionnaireResponse"] = _create,
        ["GET /fhir/Procedure"] = _search,
        ["GET /fhir/Procedure/{id}"] = _record,
        ["GET /fhir/Procedure/{id}/_history"] = _record,
        ["GET /fhir/Procedure/{id}/_history/{vid}"] = _record,
        ["PUT /fhir/Procedure/{id}"] = _change,
        ["PATCH /fhir/Procedure/{id}"] = _change,
        ["DELETE /fhir/Procedure/{id}"] = _change,
        ["GET /fhir/Questionnaire"] = _catalogue,
        ["GET /fhir/Questionnaire/{id}"] = _catalogue,
        ["GET /fhir/$export"] = _kickOff,
        ["GET /fhir/Patient/$export"] = _kickOff,
        ["GET /fhir/Group/{id}/$export"] = _kickOff,
        ["GET /fhir/$export-status/{jobId}"] = _job,
        ["DELETE /fhir/$export-status/{jobId}"] = _job,
        ["GET /fhir/$export-file/{jobId}/{file}"] = _job,
    };

    private IEnumerable<string> Routes() =>
        App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/fhir", StringComparison.Ordinal) == true)
            .SelectMany(e => (e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? ["ANY"])
                .Select(m => $"{m} {e.RoutePattern.RawText}"));

    [SkippableFact]
    public void EveryFhirRoute_HasADecision_AndEveryDecisionARoute()
    {
        Assert.Equal(_matrix.Keys.Order(StringComparer.Ordinal), Routes().Distinct().Order(StringComparer.Ordinal));
    }

    [SkippableFact]
    public async Task EveryFhirRoute_AnswersEveryCaller_AsTheMatrixSays()
    {
        var p = await FhirPatient.CreateAsync(App);
        var other = await App.CreatePatientAsync(p.Fixture.SiteId);
        var otherSite = await App.CreateSiteAsync();
        var callers = new[]
        {
            App.Anonymous(),
            p.Fixture.Patient,
            App.Patient(other),
            p.Fixture.Practitioner,
            App.Practitioner(otherSite),
            App.Auditor(),
            App.Admin(),
        };
        var failures = new List<string>();
        foreach (var (route, expected) in _matrix)
        {
            var method = route[..route.IndexOf(' ', StringComparison.Ordinal)];
            var template = route[(method.Length + 1)..];
            var type = template.Split('/')[2];
            var id = type switch
            {
                "Patient" => p.PatientId,
                "Observation" => p.PainId,
                "QuestionnaireResponse" => p.NdiId,
                "Procedure" => p.SessionId,
                "Group" => p.Fixture.SiteId,
                _ => 0,
            };
            var path = template
                .Replace("{id}", type == "Questionnaire" ? "ndi-1" : id.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("{vid}", id.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("{jobId}", Guid.NewGuid().ToString("D"), StringComparison.Ordinal)
                .Replace("{file}", "Patient.ndjson", StringComparison.Ordinal);
            for (var caller = 0; caller < callers.Length; caller++)
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                request.Headers.Add("Prefer", "respond-async");
                if (method is "POST" or "PUT" or "PATCH")
                {
                    request.Content = FhirKit.Body(type == "QuestionnaireResponse"
                        ? """{"resourceType":"QuestionnaireResponse","status":"completed","questionnaire":"https://outcomes.example/fhir/Questionnaire/pgic|1","subject":{"reference":"Patient/PATIENT"},"authored":"2025-03-04T09:00:00+01:00","item":[{"linkId":"change","answer":[{"valueCoding":{"system":"https://outcomes.example/fhir/CodeSystem/pgic-answers","code":"no_change"}}]}],"identifier":{"system":"urn:ietf:rfc:3986","value":"urn:uuid:SUBMISSION"}}"""
                            .Replace("PATIENT", p.PatientId.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                            .Replace("SUBMISSION", $"{Guid.NewGuid()}", StringComparison.Ordinal)
                        : System.Text.Json.JsonSerializer.Serialize(FhirKit.PainScore(p.PatientId, 4, SubmissionOf(caller)), FhirKit.Options));
                }
                var response = await callers[caller].SendAsync(request);
                var want = expected[caller];
                // A create that the same submission already made answers 200; both are the allowed answer.
                if ((int)response.StatusCode != want && !(want is 200 or 201 && (int)response.StatusCode is 200 or 201 && method == "POST"))
                {
                    failures.Add($"{route} as caller {caller}: expected {want}, got {(int)response.StatusCode}");
                }
                if ((int)response.StatusCode >= 400)
                {
                    Assert.Equal("application/fhir+json", response.Content.Headers.ContentType?.MediaType);
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static readonly Guid[] _submissions = [.. Enumerable.Range(0, 7).Select(_ => Guid.NewGuid())];

    private static Guid SubmissionOf(int caller) => _submissions[caller];
}

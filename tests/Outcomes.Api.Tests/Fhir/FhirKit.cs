using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Firely.Fhir.Validation;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Hl7.Fhir.Specification.Source;
using Hl7.Fhir.Specification.Terminology;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Fhir;

/// <summary>
/// What the FHIR tests share: Firely's validator over the base R4 specification (the package's specification.zip),
/// Firely's parser, and a patient with one of every kind of record, made through the native API.
/// </summary>
public static class FhirKit
{
    public const string MediaType = "application/fhir+json";

    /// <summary>Strict, as the service's own options: an unknown element or a wrong code fails the parse.</summary>
    public static JsonSerializerOptions Options { get; } = new JsonSerializerOptions().ForFhir(ModelInfo.ModelInspector);

    private static readonly Lazy<Validator> _validator = new(() =>
    {
        var source = new CachedResolver(ZipSource.CreateValidationSource());
        return new Validator(source, new LocalTerminologyService(source), null, null, null);
    }, LazyThreadSafetyMode.ExecutionAndPublication);

    private static readonly Lock _validating = new();

    /// <summary>Validates against the base R4 specification; fails with every error found (warnings are allowed).</summary>
    public static void AssertValid(Resource resource)
    {
        OperationOutcome outcome;
        lock (_validating)
        {
            outcome = _validator.Value.Validate(resource, null);
        }
        var errors = outcome.Issue
            .Where(i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal)
            .Select(i => $"{string.Join(",", i.Expression)}: {i.Details?.Text ?? i.Diagnostics}")
            .ToList();
        Assert.True(errors.Count == 0, $"{resource.TypeName}/{resource.Id} is not valid R4:\n{string.Join("\n", errors)}\n{JsonSerializer.Serialize(resource, resource.GetType(), Options)}");
    }

    /// <summary>Validates a resource, and every resource a Bundle holds.</summary>
    public static void AssertValidDeep(Resource resource)
    {
        AssertValid(resource);
        if (resource is Bundle bundle)
        {
            foreach (var entry in bundle.Entry.Where(e => e.Resource is not null))
            {
                AssertValid(entry.Resource!);
            }
        }
    }

    public static T Parse<T>(string json) where T : Resource =>
        Assert.IsType<T>(JsonSerializer.Deserialize<Resource>(json, Options), exactMatch: false);

    /// <summary>GETs a FHIR resource, checks the media type, parses it strictly and validates it (and a Bundle's entries).</summary>
    public static async Task<T> GetValidAsync<T>(HttpClient client, string path, HttpStatusCode expected = HttpStatusCode.OK) where T : Resource
    {
        var response = await client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"GET {path}: {(int)response.StatusCode} {body}");
        Assert.Equal(MediaType, response.Content.Headers.ContentType?.MediaType);
        var resource = Parse<T>(body);
        AssertValidDeep(resource);
        return resource;
    }

    public static StringContent Body(Resource resource) =>
        new(JsonSerializer.Serialize(resource, resource.GetType(), Options), Encoding.UTF8, MediaType);

    public static StringContent Body(string json) => new(json, Encoding.UTF8, MediaType);

    public static async Task<OperationOutcome> OutcomeAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        Assert.Equal(MediaType, response.Content.Headers.ContentType?.MediaType);
        var outcome = Parse<OperationOutcome>(body);
        AssertValid(outcome);
        Assert.NotEmpty(outcome.Issue);
        return outcome;
    }

    /// <summary>A weekly pain score as an Observation, as a phone would send it.</summary>
    public static Observation PainScore(long patientId, int score, Guid submissionId, string answeredAt = "2025-03-03T08:30:00+01:00") => new()
    {
        Status = ObservationStatus.Final,
        Identifier = [new Identifier("urn:ietf:rfc:3986", $"urn:uuid:{submissionId}")],
        Code = new CodeableConcept("http://loinc.org", "72514-3"),
        Subject = new ResourceReference($"Patient/{patientId}"),
        Effective = new FhirDateTime(answeredAt),
        Value = new Integer(score),
        Method = new CodeableConcept("https://outcomes.example/fhir/CodeSystem/pain-recall", "average7Days"),
    };
}

/// <summary>One patient with a record of every kind, some corrected or withdrawn: what the facade must show.</summary>
public sealed record FhirPatient(PatientFixture Fixture, long PainId, long AmendedPainId, long NdiId, long RomId, long PptId, long SideEffectId, long WithdrawnId, long SessionId, long AmendedSessionId)
{
    public long PatientId => Fixture.PatientId;

    public static async Task<FhirPatient> CreateAsync(OutcomesApp app)
    {
        var f = await PatientFixture.CreateAsync(app);
        async Task<long> Post(HttpClient client, string kind, object body)
        {
            var response = await f.PostAsync(client, kind, body);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        }
        var pain = await Post(f.Patient, "pain-scores", new { submissionId = Guid.NewGuid(), answeredAt = "2025-02-03T08:30:00+01:00", score = 7, recall = "average7Days" });
        var original = await Post(f.Patient, "pain-scores", new { submissionId = Guid.NewGuid(), answeredAt = "2025-03-03T08:30:00+01:00", score = 8, recall = "average7Days" });
        var amended = await Post(f.Patient, "pain-scores", new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-03-03T08:30:00+01:00", score = 3, recall = "average7Days", amends = original, reason = "tapped 8 instead of 3",
        });
        var ndi = await Post(f.Patient, "questionnaire-responses", new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-03-04T09:00:00+01:00", instrument = "ndi", version = "1",
            answers = Enumerable.Range(1, 10).Select(i => new { item = $"ndi_{i:D2}", value = i % 4 }).ToArray(),
        });
        var rom = await Post(f.Practitioner, "range-of-motion", new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-03-05T10:00:00+01:00", movement = "cervical_rotation_left", degrees = 62.5m, method = "goniometer",
        });
        var ppt = await Post(f.Practitioner, "pressure-pain-thresholds", new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-03-05T10:05:00+01:00", muscle = "upper_trapezius", side = "left", kgPerCm2 = 2.4m,
        });
        var sideEffect = await Post(f.Patient, "side-effects", new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-02-10T19:00:00+01:00", effect = "droopingEyelid", severity = "moderate", onsetOn = "2025-02-08",
        });
        var reported = await Post(f.Patient, "side-effects", new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-02-11T19:00:00+01:00", effect = "other", severity = "mild", onsetOn = "2025-02-09", note = "itchy scalp",
        });
        var withdrawal = await f.Patient.PostAsJsonAsync($"{f.PathOf("observations")}/{reported}/entered-in-error",
            new { submissionId = Guid.NewGuid(), reason = "reported by mistake" }, OutcomesApp.Json);
        Assert.Equal(HttpStatusCode.Created, withdrawal.StatusCode);
        var sessionBody = new
        {
            submissionId = Guid.NewGuid(), sessionDate = "2025-02-01", practitionerId = f.PractitionerId, product = "onabotulinumtoxinA",
            guidance = "ultrasound", dilutionUnitsPerMl = 50, injectionSites = new[] { new { muscle = "upper_trapezius", side = "left", units = 20m } },
        };
        var session = await Post(f.Practitioner, "treatment-sessions", sessionBody);
        var corrected = await f.Practitioner.PostAsJsonAsync($"{f.PathOf("treatment-sessions")}/{session}/amendments", new
        {
            submissionId = Guid.NewGuid(), sessionDate = "2025-02-01", practitionerId = f.PractitionerId, product = "onabotulinumtoxinA",
            guidance = "ultrasound", dilutionUnitsPerMl = 50,
            injectionSites = new[] { new { muscle = "upper_trapezius", side = "left", units = 20m }, new { muscle = "levator_scapulae", side = "right", units = 10m } },
            reason = "second site left out",
        }, OutcomesApp.Json);
        Assert.Equal(HttpStatusCode.Created, corrected.StatusCode);
        var correctedId = (await corrected.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        return new FhirPatient(f, pain, original, ndi, rom, ppt, sideEffect, reported, session, correctedId);
    }
}

/// <summary>Gives an independent FHIR client the test server, with a bearer token, and keeps the last response's headers.</summary>
public sealed class BearerHandler(HttpMessageHandler inner, string token) : DelegatingHandler(inner)
{
    public HttpResponseMessage? Last { get; private set; }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Last = await base.SendAsync(request, cancellationToken);
        return Last;
    }
}

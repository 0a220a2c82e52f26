// Firely's model marks most elements nullable; these tests read what they have just asserted is there.
#nullable disable warnings

using System.Net;
using Hl7.Fhir.Model;
using Outcomes.Api.Data;
using Outcomes.Api.Tests.Infrastructure;
using Task = System.Threading.Tasks.Task;

namespace Outcomes.Api.Tests.Fhir;

/// <summary>Reads, searches and histories through the FHIR facade: every resource valid R4, and the native API's access rules.</summary>
public abstract class FhirFacadeTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : FhirFacadeTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : FhirFacadeTests(DatabaseProvider.SqlServer);

    [SkippableFact]
    public async Task Metadata_IsAValidCapabilityStatement_ForR4_OfWhatIsServed()
    {
        var statement = await FhirKit.GetValidAsync<CapabilityStatement>(App.Anonymous(), "/fhir/metadata");

        Assert.Equal(FHIRVersion.N4_0_1, statement.FhirVersion);
        Assert.Equal(["json"], statement.Format);
        var resources = statement.Rest.Single().Resource;
        Assert.Equal(["Patient", "Observation", "QuestionnaireResponse", "Procedure", "Questionnaire", "Group"], resources.Select(r => r.Type));
        // Every declared search parameter is taken under strict handling, and an undeclared one is refused there.
        var practitioner = App.Admin();
        await FhirPatient.CreateAsync(App);
        foreach (var resource in resources.Where(r => r.Interaction.Any(i => i.Code == CapabilityStatement.TypeRestfulInteraction.SearchType)))
        {
            foreach (var parameter in resource.SearchParam)
            {
                var value = parameter.Type switch
                {
                    SearchParamType.Date => "ge2020-01-01",
                    SearchParamType.Reference => "Patient/1",
                    SearchParamType.Uri => "https://outcomes.example/fhir/Questionnaire/ndi",
                    _ => parameter.Name switch { "gender" => "female", "category" => "survey", "code" => "72514-3", _ => "1" },
                };
                using var request = new HttpRequestMessage(HttpMethod.Get, $"/fhir/{resource.Type}?{parameter.Name}={Uri.EscapeDataString(value)}");
                request.Headers.Add("Prefer", "handling=strict");
                var response = await practitioner.SendAsync(request);
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{resource.Type}?{parameter.Name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
            using var unknown = new HttpRequestMessage(HttpMethod.Get, $"/fhir/{resource.Type}?favourite-colour=blue");
            unknown.Headers.Add("Prefer", "handling=strict");
            var outcome = await FhirKit.OutcomeAsync(await practitioner.SendAsync(unknown), HttpStatusCode.BadRequest);
            Assert.Contains("favourite-colour", outcome.Issue.Single().Expression);
        }
    }

    [SkippableFact]
    public async Task EveryResourceOfAPatient_IsValidR4_AndSaysWhatWasStored()
    {
        var p = await FhirPatient.CreateAsync(App);
        var client = p.Fixture.Practitioner;

        var patient = await FhirKit.GetValidAsync<Patient>(client, $"/fhir/Patient/{p.PatientId}");
        Assert.Equal("1970", patient.BirthDate);
        Assert.Empty(patient.Name);
        Assert.Equal(AdministrativeGender.Female, patient.Gender);

        var observations = await FhirKit.GetValidAsync<Bundle>(client, $"/fhir/Observation?patient={p.PatientId}");
        Assert.Equal(Bundle.BundleType.Searchset, observations.Type);
        var byId = observations.Entry.Select(e => (Observation)e.Resource).ToDictionary(o => long.Parse(o.Id, System.Globalization.CultureInfo.InvariantCulture));
        // Seven records: two pain scores (one amended), the NDI score, range of motion, a pressure threshold, two side effects (one withdrawn).
        Assert.Equal(7, byId.Count);
        Assert.Equal(ObservationStatus.Amended, byId[p.AmendedPainId].Status);
        Assert.Equal(3m, ((Quantity)byId[p.AmendedPainId].Value).Value);
        Assert.Equal(ObservationStatus.Final, byId[p.PainId].Status);
        Assert.Equal("72514-3", byId[p.PainId].Code.Coding.Single().Code);
        Assert.Equal("2025-02-03T08:30:00+01:00", ((FhirDateTime)byId[p.PainId].Effective).Value);
        Assert.Equal(ObservationStatus.EnteredInError, byId[p.WithdrawnId].Status);
        var ndi = byId[p.NdiId];
        Assert.Contains(ndi.Code.Coding, c => c.System == "http://loinc.org" && c.Code == "82237-9");
        Assert.Equal(30m, ((Quantity)ndi.Value).Value); // (1+2+3+0+1+2+3+0+1+2) / 50 × 100
        Assert.Equal($"QuestionnaireResponse/{p.NdiId}", ndi.DerivedFrom.Single().Reference);
        Assert.Equal(62.5m, ((Quantity)byId[p.RomId].Value).Value);
        Assert.Equal("deg", ((Quantity)byId[p.RomId].Value).Code);
        Assert.Equal("kg/cm2", ((Quantity)byId[p.PptId].Value).Code);
        var seriousness = byId[p.SideEffectId].Component.Single(c => c.Code.Coding[0].Code == "seriousness");
        Assert.Equal("serious", ((CodeableConcept)seriousness.Value).Coding.Single().Code);

        var response = await FhirKit.GetValidAsync<QuestionnaireResponse>(client, $"/fhir/QuestionnaireResponse/{p.NdiId}");
        Assert.Equal("https://outcomes.example/fhir/Questionnaire/ndi|1", response.Questionnaire);
        Assert.Equal(10, response.Item.Count);
        Assert.Equal(3, ((Integer)response.Item.Single(i => i.LinkId == "ndi_03").Answer.Single().Value).Value);

        var procedure = await FhirKit.GetValidAsync<Procedure>(client, $"/fhir/Procedure/{p.SessionId}");
        Assert.Equal(EventStatus.Completed, procedure.Status);
        Assert.Equal(["upper_trapezius", "levator_scapulae"], procedure.BodySite.Select(s => s.Coding[0].Code));
        Assert.Equal("onabotulinumtoxinA", procedure.UsedCode.Single().Coding[0].Code);
        Assert.Equal(FhirMappingVersion(p.AmendedSessionId), procedure.Meta.VersionId);

        foreach (var path in new[] { "/fhir/Questionnaire", $"/fhir/Procedure?patient={p.PatientId}", $"/fhir/QuestionnaireResponse?patient={p.PatientId}", "/fhir/Patient" })
        {
            await FhirKit.GetValidAsync<Bundle>(client, path);
        }
    }

    private static string FhirMappingVersion(long id) => id.ToString(System.Globalization.CultureInfo.InvariantCulture);

    [SkippableFact]
    public async Task History_ListsEveryVersionNewestFirst_AndVreadGivesEach()
    {
        var p = await FhirPatient.CreateAsync(App);
        var client = p.Fixture.Patient;

        var history = await FhirKit.GetValidAsync<Bundle>(client, $"/fhir/Observation/{p.AmendedPainId}/_history");

        Assert.Equal(Bundle.BundleType.History, history.Type);
        var versions = history.Entry.Select(e => (Observation)e.Resource).ToList();
        Assert.Equal([3m, 8m], versions.Select(v => ((Quantity)v.Value).Value));
        Assert.Equal([Bundle.HTTPVerb.PUT, Bundle.HTTPVerb.POST], history.Entry.Select(e => e.Request.Method!.Value));
        var first = await FhirKit.GetValidAsync<Observation>(client, $"/fhir/Observation/{p.AmendedPainId}/_history/{versions[1].Meta.VersionId}");
        Assert.Equal(8m, ((Quantity)first.Value).Value);
        Assert.Equal(ObservationStatus.Final, first.Status);
        var withdrawn = await FhirKit.GetValidAsync<Bundle>(client, $"/fhir/Observation/{p.WithdrawnId}/_history");
        Assert.Equal([ObservationStatus.EnteredInError, ObservationStatus.Final], withdrawn.Entry.Select(e => ((Observation)e.Resource).Status!.Value));
        await FhirKit.OutcomeAsync(await client.GetAsync($"/fhir/Observation/{p.AmendedPainId}/_history/999999"), HttpStatusCode.NotFound);
    }

    [SkippableFact]
    public async Task Access_IsTheNativeApis_APatientSeesOnlyTheirOwn()
    {
        var p = await FhirPatient.CreateAsync(App);
        var other = await App.CreatePatientAsync(p.Fixture.SiteId);
        var otherSite = await App.CreateSiteAsync();
        var otherPatient = App.Patient(other);

        await FhirKit.OutcomeAsync(await otherPatient.GetAsync($"/fhir/Patient/{p.PatientId}"), HttpStatusCode.NotFound);
        await FhirKit.OutcomeAsync(await otherPatient.GetAsync($"/fhir/Observation/{p.PainId}"), HttpStatusCode.NotFound);
        await FhirKit.OutcomeAsync(await otherPatient.GetAsync($"/fhir/Procedure/{p.SessionId}/_history"), HttpStatusCode.NotFound);
        // A search for someone else's records finds nothing; without a patient it finds only the caller's own.
        Assert.Empty((await FhirKit.GetValidAsync<Bundle>(otherPatient, $"/fhir/Observation?patient={p.PatientId}")).Entry);
        Assert.Empty((await FhirKit.GetValidAsync<Bundle>(otherPatient, "/fhir/Observation")).Entry);
        Assert.Equal([other.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            (await FhirKit.GetValidAsync<Bundle>(otherPatient, "/fhir/Patient")).Entry.Select(e => e.Resource.Id));
        // A practitioner of another site sees nothing of this site's patients.
        var outsider = App.Practitioner(otherSite);
        await FhirKit.OutcomeAsync(await outsider.GetAsync($"/fhir/Observation/{p.PainId}"), HttpStatusCode.NotFound);
        Assert.Empty((await FhirKit.GetValidAsync<Bundle>(outsider, "/fhir/Observation")).Entry);
        // Auditors get the de-identified export, not records; and no token is 401, as an OperationOutcome.
        await FhirKit.OutcomeAsync(await App.Auditor().GetAsync($"/fhir/Observation?patient={p.PatientId}"), HttpStatusCode.Forbidden);
        await FhirKit.OutcomeAsync(await App.Anonymous().GetAsync($"/fhir/Patient/{p.PatientId}"), HttpStatusCode.Unauthorized);
        // Each read is in the audit trail, as a native read is.
        Assert.True(await App.CountAuditAsync("read", "fhir_observation", p.PatientId, outcome: "not_found") >= 1);
        Assert.Equal(1, await App.CountAuditAsync("list", "fhir_observation", other));
    }

    [SkippableFact]
    public async Task Search_FiltersByCodeAndDatePrefixes_AndPagesWithNextLinks()
    {
        var p = await FhirPatient.CreateAsync(App);
        var client = p.Fixture.Practitioner;
        var ids = async (string query) => (await FhirKit.GetValidAsync<Bundle>(client, $"/fhir/Observation?patient={p.PatientId}&{query}"))
            .Entry.Where(e => e.Resource is Observation).Select(e => long.Parse(e.Resource.Id, System.Globalization.CultureInfo.InvariantCulture)).Order().ToList();

        Assert.Equal([p.PainId, p.AmendedPainId], await ids("code=http://loinc.org|72514-3"));
        Assert.Equal([p.NdiId], await ids("code=82237-9"));
        Assert.Equal([p.RomId, p.PptId], await ids("category=exam"));
        Assert.Equal([p.PainId, p.AmendedPainId, p.RomId], await ids("code=72514-3,https://outcomes.example/fhir/CodeSystem/movement|cervical_rotation_left"));
        // The amended score was answered 2025-03-03 08:30 +01:00, i.e. 07:30 UTC.
        Assert.Equal([p.AmendedPainId], await ids("code=72514-3&date=ge2025-03-01&date=lt2025-04"));
        Assert.Equal([p.PainId], await ids("code=72514-3&date=lt2025-03-03T07:30:00Z"));
        Assert.Equal([p.AmendedPainId], await ids("code=72514-3&date=eq2025-03-03"));
        Assert.Empty(await ids("code=unknown-code"));
        await FhirKit.OutcomeAsync(await client.GetAsync("/fhir/Observation?date=ne2025-01-01"), HttpStatusCode.BadRequest);
        await FhirKit.OutcomeAsync(await client.GetAsync("/fhir/Observation?_count=zero"), HttpStatusCode.BadRequest);

        // Two at a time: the next links reach every record once, and nothing else.
        var seen = new List<string>();
        string? next = $"/fhir/Observation?patient={p.PatientId}&_count=2";
        while (next is not null)
        {
            var page = await FhirKit.GetValidAsync<Bundle>(client, next);
            Assert.True(page.Entry.Count <= 2);
            seen.AddRange(page.Entry.Select(e => e.Resource.Id));
            next = page.Link.FirstOrDefault(l => l.Relation == "next")?.Url;
        }
        Assert.Equal(7, seen.Count);
        Assert.Equal(7, seen.Distinct().Count());

        // A parameter the server does not know is ignored and said so in the bundle (lenient is the default).
        var lenient = await FhirKit.GetValidAsync<Bundle>(client, $"/fhir/Observation?patient={p.PatientId}&favourite-colour=blue");
        Assert.Equal(7, lenient.Entry.Count(e => e.Search.Mode == Bundle.SearchEntryMode.Match));
        Assert.Contains("favourite-colour", ((OperationOutcome)lenient.Entry.Single(e => e.Search.Mode == Bundle.SearchEntryMode.Outcome).Resource).Issue[0].Diagnostics);
        Assert.DoesNotContain("favourite-colour", lenient.SelfLink.ToString());
    }

    [SkippableFact]
    public async Task Records_AreNeverChangedThroughFhir()
    {
        var p = await FhirPatient.CreateAsync(App);
        var client = p.Fixture.Practitioner;
        var before = await App.CountRowsAsync();
        var observations = await p.Fixture.CountObservationsAsync();

        var put = await client.PutAsync($"/fhir/Observation/{p.PainId}", FhirKit.Body(FhirKit.PainScore(p.PatientId, 1, Guid.NewGuid())));
        var delete = await client.DeleteAsync($"/fhir/Procedure/{p.SessionId}");

        await FhirKit.OutcomeAsync(put, HttpStatusCode.MethodNotAllowed);
        await FhirKit.OutcomeAsync(delete, HttpStatusCode.MethodNotAllowed);
        Assert.Equal(before, await App.CountRowsAsync());
        Assert.Equal(observations, await p.Fixture.CountObservationsAsync());
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Outcomes.Api.Data;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Features;

public abstract class TreatmentSessionsTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : TreatmentSessionsTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : TreatmentSessionsTests(DatabaseProvider.SqlServer);

    private static object Session(long practitionerId, string date, params object[] sites) => Session(Guid.NewGuid(), practitionerId, date, sites);

    private static object Session(Guid submissionId, long practitionerId, string date, params object[] sites) => new
    {
        submissionId,
        sessionDate = date,
        practitionerId,
        product = "onabotulinumtoxinA",
        guidance = "emg",
        dilutionUnitsPerMl = 50,
        injectionSites = sites,
    };

    private static object Site(string muscle, string side, decimal units) => new { muscle, side, units };

    [SkippableFact]
    public async Task PostSession_ComputesTotalUnitsAndReadsBack()
    {
        var siteId = await App.CreateSiteAsync();
        var practitionerId = await App.CreatePractitionerAsync(siteId);
        var patientId = await App.CreatePatientAsync(siteId);
        var client = App.Practitioner(siteId);

        var response = await client.PostAsJsonAsync($"/api/v1/patients/{patientId}/treatment-sessions", Session(practitionerId, "2025-02-01",
            Site("upper_trapezius", "left", 20m), Site("upper_trapezius", "right", 20m), Site("levator_scapulae", "left", 12.5m)), OutcomesApp.Json);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var session = await App.Patient(patientId).GetFromJsonAsync<JsonElement>(response.Headers.Location, OutcomesApp.Json);
        Assert.Equal(52.5m, session.GetProperty("totalUnits").GetDecimal()); // 20 + 20 + 12.5
        Assert.Equal("onabotulinumtoxinA", session.GetProperty("product").GetString());
        Assert.Equal("emg", session.GetProperty("guidance").GetString());
        Assert.Equal(3, session.GetProperty("injectionSites").GetArrayLength());
        Assert.Equal(12.5m, session.GetProperty("injectionSites")[2].GetProperty("units").GetDecimal());
        Assert.Equal(1, await App.CountAuditAsync("create", "treatment_session", patientId));
    }

    [SkippableFact]
    public async Task RetriedSession_IsRecordedOnce_AndADifferentBodyUnderTheSameIdIs409()
    {
        var siteId = await App.CreateSiteAsync();
        var practitionerId = await App.CreatePractitionerAsync(siteId);
        var patientId = await App.CreatePatientAsync(siteId);
        var client = App.Practitioner(siteId);
        var id = Guid.NewGuid();
        var path = $"/api/v1/patients/{patientId}/treatment-sessions";

        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ =>
            client.PostAsJsonAsync(path, Session(id, practitionerId, "2025-02-01", Site("upper_trapezius", "left", 20m)), OutcomesApp.Json)));
        var changed = await client.PostAsJsonAsync(path, Session(id, practitionerId, "2025-02-01", Site("upper_trapezius", "left", 25m)), OutcomesApp.Json);

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        Assert.All(responses.Where(r => r.StatusCode != HttpStatusCode.Created), r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var ids = await Task.WhenAll(responses.Select(async r => (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64()));
        Assert.Single(ids.Distinct());
        await ProblemAssert.IsProblem(changed, HttpStatusCode.Conflict);
        var counts = await App.CountRowsAsync();
        Assert.Equal((1L, 1L), (counts["treatment_session"], counts["injection_site"]));
    }

    [SkippableFact]
    public async Task ListSessions_InDateOrderWhateverTheRecordingOrder()
    {
        var siteId = await App.CreateSiteAsync();
        var practitionerId = await App.CreatePractitionerAsync(siteId);
        var patientId = await App.CreatePatientAsync(siteId);
        var client = App.Practitioner(siteId);
        foreach (var date in new[] { "2025-09-10", "2025-02-01", "2025-05-20" })
        {
            var r = await client.PostAsJsonAsync($"/api/v1/patients/{patientId}/treatment-sessions",
                Session(practitionerId, date, Site("upper_trapezius", "left", 10m)), OutcomesApp.Json);
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        }

        var sessions = await App.Patient(patientId).GetFromJsonAsync<JsonElement[]>($"/api/v1/patients/{patientId}/treatment-sessions", OutcomesApp.Json);

        Assert.Equal(["2025-02-01", "2025-05-20", "2025-09-10"], sessions!.Select(s => s.GetProperty("sessionDate").GetString()));
    }

    [SkippableFact]
    public async Task PostSession_InvalidSites_Returns400NamingEachAndWritesNothing()
    {
        var siteId = await App.CreateSiteAsync();
        var practitionerId = await App.CreatePractitionerAsync(siteId);
        var patientId = await App.CreatePatientAsync(siteId);
        var before = await App.CountRowsAsync();

        var response = await App.Practitioner(siteId).PostAsJsonAsync($"/api/v1/patients/{patientId}/treatment-sessions",
            Session(practitionerId, "2025-02-01",
                Site("upper_trapezius", "left", 20m),
                Site("biceps_of_the_ear", "left", 10m),
                Site("levator_scapulae", "right", 0m),
                Site("splenius_capitis", "left", 2.555m)), OutcomesApp.Json);

        await ProblemAssert.IsValidationProblem(response, "injectionSites[1].muscle", "injectionSites[2].units", "injectionSites[3].units");
        Assert.Equal(before, await App.CountRowsAsync());
    }

    [SkippableFact]
    public async Task PostSession_MissingEverything_Returns400NamingEachField()
    {
        var siteId = await App.CreateSiteAsync();
        var patientId = await App.CreatePatientAsync(siteId);

        var response = await App.Practitioner(siteId).PostAsJsonAsync($"/api/v1/patients/{patientId}/treatment-sessions", new { }, OutcomesApp.Json);

        await ProblemAssert.IsValidationProblem(response,
            "dilutionUnitsPerMl", "guidance", "injectionSites", "practitionerId", "product", "sessionDate", "submissionId");
    }

    [SkippableFact]
    public async Task PostSession_UnknownSideValue_Returns400NamingThePath()
    {
        var siteId = await App.CreateSiteAsync();
        var practitionerId = await App.CreatePractitionerAsync(siteId);
        var patientId = await App.CreatePatientAsync(siteId);

        var response = await App.Practitioner(siteId).PostAsJsonAsync($"/api/v1/patients/{patientId}/treatment-sessions",
            Session(practitionerId, "2025-02-01", Site("upper_trapezius", "middle", 10m)), OutcomesApp.Json);

        await ProblemAssert.IsValidationProblem(response, "injectionSites[0].side");
    }

    [SkippableFact]
    public async Task PostSession_PractitionerOfAnotherSite_Returns400NamingPractitionerId()
    {
        var siteId = await App.CreateSiteAsync();
        var otherSite = await App.CreateSiteAsync();
        var outsider = await App.CreatePractitionerAsync(otherSite);
        var patientId = await App.CreatePatientAsync(siteId);
        var before = await App.CountRowsAsync();

        var response = await App.Practitioner(siteId).PostAsJsonAsync($"/api/v1/patients/{patientId}/treatment-sessions",
            Session(outsider, "2025-02-01", Site("upper_trapezius", "left", 10m)), OutcomesApp.Json);

        await ProblemAssert.IsValidationProblem(response, "practitionerId");
        Assert.Equal(before, await App.CountRowsAsync());
    }

    [SkippableFact]
    public async Task Sessions_ForeignPatient_Return404AndWriteNothing()
    {
        var siteId = await App.CreateSiteAsync();
        var otherSite = await App.CreateSiteAsync();
        var practitionerId = await App.CreatePractitionerAsync(otherSite);
        var patientId = await App.CreatePatientAsync(siteId);
        var before = await App.CountRowsAsync();
        var outsider = App.Practitioner(otherSite);

        var post = await outsider.PostAsJsonAsync($"/api/v1/patients/{patientId}/treatment-sessions",
            Session(practitionerId, "2025-02-01", Site("upper_trapezius", "left", 10m)), OutcomesApp.Json);
        var list = await outsider.GetAsync($"/api/v1/patients/{patientId}/treatment-sessions");
        var unknown = await App.Admin().GetAsync("/api/v1/patients/424242/treatment-sessions");

        await ProblemAssert.IsProblem(post, HttpStatusCode.NotFound);
        await ProblemAssert.IsProblem(list, HttpStatusCode.NotFound);
        await ProblemAssert.IsProblem(unknown, HttpStatusCode.NotFound);
        Assert.Equal(before, await App.CountRowsAsync());
    }

    [SkippableFact]
    public async Task PostSession_AsPatient_Returns403()
    {
        var siteId = await App.CreateSiteAsync();
        var patientId = await App.CreatePatientAsync(siteId);

        var response = await App.Patient(patientId).PostAsJsonAsync($"/api/v1/patients/{patientId}/treatment-sessions",
            Session(1, "2025-02-01", Site("upper_trapezius", "left", 10m)), OutcomesApp.Json);

        await ProblemAssert.IsProblem(response, HttpStatusCode.Forbidden);
    }

    [SkippableFact]
    public async Task GetSession_OfAnotherPatient_Returns404()
    {
        var siteId = await App.CreateSiteAsync();
        var practitionerId = await App.CreatePractitionerAsync(siteId);
        var first = await App.CreatePatientAsync(siteId);
        var second = await App.CreatePatientAsync(siteId);
        var client = App.Practitioner(siteId);
        var created = await client.PostAsJsonAsync($"/api/v1/patients/{first}/treatment-sessions",
            Session(practitionerId, "2025-02-01", Site("upper_trapezius", "left", 10m)), OutcomesApp.Json);
        var sessionId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();

        var response = await client.GetAsync($"/api/v1/patients/{second}/treatment-sessions/{sessionId}");

        await ProblemAssert.IsProblem(response, HttpStatusCode.NotFound);
    }
}

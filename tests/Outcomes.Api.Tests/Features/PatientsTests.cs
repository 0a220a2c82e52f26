using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Outcomes.Api.Data;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Features;

public abstract class PatientsTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : PatientsTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : PatientsTests(DatabaseProvider.SqlServer);

    [SkippableFact]
    public async Task PostPatient_AsPractitioner_EnrolsAtOwnSiteAndReadsBack()
    {
        var siteId = await App.CreateSiteAsync();
        var client = App.Practitioner(siteId);

        var response = await client.PostAsJsonAsync("/api/v1/patients", new
        {
            externalReference = "NPC-0042",
            birthYear = 1968,
            sex = "female",
            enrolledOn = "2025-03-04",
            conditions = new[] { "neckShoulderPain", "chronicTensionTypeHeadache" },
        }, OutcomesApp.Json);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var patient = await client.GetFromJsonAsync<JsonElement>(response.Headers.Location, OutcomesApp.Json);
        Assert.Equal(siteId, patient.GetProperty("siteId").GetInt64());
        Assert.Equal("NPC-0042", patient.GetProperty("externalReference").GetString());
        Assert.Equal(1968, patient.GetProperty("birthYear").GetInt32());
        Assert.Equal("2025-03-04", patient.GetProperty("enrolledOn").GetString());
        Assert.Equal(["chronicTensionTypeHeadache", "neckShoulderPain"],
            patient.GetProperty("conditions").EnumerateArray().Select(c => c.GetString()!).Order(StringComparer.Ordinal));
        var id = patient.GetProperty("id").GetInt64();
        Assert.Equal(1, await App.CountAuditAsync("create", "patient", id));
        Assert.Equal(1, await App.CountAuditAsync("read", "patient", id));
    }

    [SkippableFact]
    public async Task PostPatient_EveryFieldWrong_Returns400NamingEachAndWritesNothing()
    {
        var siteId = await App.CreateSiteAsync();
        var before = await App.CountRowsAsync();

        var response = await App.Admin().PostAsJsonAsync("/api/v1/patients", new
        {
            externalReference = "",
            siteId = siteId + 100,
            birthYear = 1850,
            enrolledOn = "2999-01-01",
            conditions = Array.Empty<string>(),
        }, OutcomesApp.Json);

        await ProblemAssert.IsValidationProblem(response, "birthYear", "conditions", "enrolledOn", "externalReference", "sex", "siteId");
        Assert.Equal(before, await App.CountRowsAsync());
    }

    [SkippableFact]
    public async Task PostPatient_UnknownCondition_Returns400NamingTheField()
    {
        var siteId = await App.CreateSiteAsync();
        var before = await App.CountRowsAsync();
        var body = $$"""{"externalReference":"X1","siteId":{{siteId}},"birthYear":1980,"sex":"female","enrolledOn":"2025-01-01","conditions":["lumbago"]}""";

        var response = await App.Admin().PostAsync("/api/v1/patients", new StringContent(body, Encoding.UTF8, "application/json"));

        await ProblemAssert.IsValidationProblem(response, "conditions[0]");
        Assert.Equal(before, await App.CountRowsAsync());
    }

    [SkippableFact]
    public async Task PostPatient_MalformedJson_Returns400Problem()
    {
        var response = await App.Admin().PostAsync("/api/v1/patients", new StringContent("{\"externalReference\": ", Encoding.UTF8, "application/json"));

        await ProblemAssert.IsProblem(response, HttpStatusCode.BadRequest);
    }

    [SkippableFact]
    public async Task PostPatient_PractitionerForAnotherSite_Returns400NamingSiteId()
    {
        var mine = await App.CreateSiteAsync();
        var other = await App.CreateSiteAsync();

        var response = await App.Practitioner(mine).PostAsJsonAsync("/api/v1/patients", new
        {
            externalReference = "A-1", siteId = other, birthYear = 1980, sex = "male", enrolledOn = "2025-01-01",
            conditions = new[] { "lowBackPain" },
        }, OutcomesApp.Json);

        await ProblemAssert.IsValidationProblem(response, "siteId");
        Assert.Equal(0, (await App.CountRowsAsync())["patient"]);
    }

    [SkippableFact]
    public async Task PostPatient_SameReferenceAtSameSite_Returns409_ButAnotherSiteMayReuseIt()
    {
        var first = await App.CreateSiteAsync();
        var second = await App.CreateSiteAsync();
        await App.CreatePatientAsync(first, "SHARED-1");

        var duplicate = await App.Admin().PostAsJsonAsync("/api/v1/patients", new
        {
            externalReference = "SHARED-1", siteId = first, birthYear = 1980, sex = "male", enrolledOn = "2025-01-01",
            conditions = new[] { "lowBackPain" },
        }, OutcomesApp.Json);
        await App.CreatePatientAsync(second, "SHARED-1");

        await ProblemAssert.IsProblem(duplicate, HttpStatusCode.Conflict);
        var counts = await App.CountRowsAsync();
        Assert.Equal(2, counts["patient"]);
        Assert.Equal(2, counts["patient_condition"]);
    }

    [SkippableFact]
    public async Task GetPatient_AccessFollowsRoleAndSite()
    {
        var siteId = await App.CreateSiteAsync();
        var otherSite = await App.CreateSiteAsync();
        var patientId = await App.CreatePatientAsync(siteId);
        var otherPatient = await App.CreatePatientAsync(siteId);
        var path = $"/api/v1/patients/{patientId}";

        Assert.Equal(HttpStatusCode.OK, (await App.Patient(patientId).GetAsync(path)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await App.Practitioner(siteId).GetAsync(path)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await App.Admin().GetAsync(path)).StatusCode);
        await ProblemAssert.IsProblem(await App.Patient(otherPatient).GetAsync(path), HttpStatusCode.NotFound);
        await ProblemAssert.IsProblem(await App.Practitioner(otherSite).GetAsync(path), HttpStatusCode.NotFound);
        await ProblemAssert.IsProblem(await App.Practitioner(999).GetAsync(path), HttpStatusCode.NotFound);
        await ProblemAssert.IsProblem(await App.Admin().GetAsync("/api/v1/patients/999999"), HttpStatusCode.NotFound);
        await ProblemAssert.IsProblem(await App.Auditor().GetAsync(path), HttpStatusCode.Forbidden);
        Assert.Equal(3, await App.CountAuditAsync("read", "patient", patientId, "not_found"));
    }

    [SkippableFact]
    public async Task ListPatients_PagesByKeysetAndFilters()
    {
        var siteId = await App.CreateSiteAsync();
        var otherSite = await App.CreateSiteAsync();
        var ids = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await App.CreatePatientAsync(siteId, condition: i % 2 == 0 ? "lowBackPain" : "chronicMigraine"));
        }
        var foreign = await App.CreatePatientAsync(otherSite, condition: "lowBackPain");
        var client = App.Practitioner(siteId);

        var seen = new List<long>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await client.GetFromJsonAsync<JsonElement>($"/api/v1/patients?limit=2{(cursor is null ? "" : $"&cursor={cursor}")}", OutcomesApp.Json);
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(p => p.GetProperty("id").GetInt64()));
            cursor = page.GetProperty("nextCursor").GetString();
            pages++;
        }
        while (cursor is not null && pages < 10);

        Assert.Equal(ids, seen);
        Assert.Equal(3, pages);
        var lowBack = await client.GetFromJsonAsync<JsonElement>("/api/v1/patients?condition=lowBackPain", OutcomesApp.Json);
        Assert.Equal([ids[0], ids[2], ids[4]], lowBack.GetProperty("items").EnumerateArray().Select(p => p.GetProperty("id").GetInt64()));
        var adminAll = await App.Admin().GetFromJsonAsync<JsonElement>("/api/v1/patients?condition=lowBackPain", OutcomesApp.Json);
        Assert.Contains(foreign, adminAll.GetProperty("items").EnumerateArray().Select(p => p.GetProperty("id").GetInt64()));
        var otherSiteFilter = await client.GetFromJsonAsync<JsonElement>($"/api/v1/patients?siteId={otherSite}", OutcomesApp.Json);
        Assert.Empty(otherSiteFilter.GetProperty("items").EnumerateArray());
    }

    [SkippableFact]
    public async Task ListPatients_BadLimitAndUnknownCodes_Return400NamingEach()
    {
        var response = await App.Admin().GetAsync("/api/v1/patients?limit=0&condition=lumbago&sex=F");

        await ProblemAssert.IsValidationProblem(response, "condition", "limit", "sex");
    }

    [SkippableTheory]
    [InlineData("auditor")]
    [InlineData("patient")]
    public async Task ListPatients_NotForAuditorsOrPatients(string role)
    {
        var client = role == "auditor" ? App.Auditor() : App.Patient(1);

        await ProblemAssert.IsProblem(await client.GetAsync("/api/v1/patients"), HttpStatusCode.Forbidden);
    }
}

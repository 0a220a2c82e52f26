using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Outcomes.Api.Data;
using Outcomes.Api.Infrastructure;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Features;

/// <summary>
/// Who did it is a person: a practitioner's token names their practitioner record, a session's
/// practitioner is the caller (an admin may record one on another's behalf), and the access log says
/// who, at which site, did what.
/// </summary>
public abstract class PractitionerIdentityTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : PractitionerIdentityTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : PractitionerIdentityTests(DatabaseProvider.SqlServer);

    private static object Session(long practitionerId) => new
    {
        submissionId = Guid.NewGuid(), sessionDate = "2025-03-03", practitionerId, product = "onabotulinumtoxinA", guidance = "emg",
        dilutionUnitsPerMl = 50, injectionSites = new[] { new { muscle = "upper_trapezius", side = "left", units = 20 } },
    };

    [SkippableFact]
    public async Task APractitionerRecordsTheirOwnSessions_AnAdminMayRecordOnAnothersBehalf()
    {
        var f = await PatientFixture.CreateAsync(App);
        var colleague = await App.CreatePractitionerAsync(f.SiteId);
        var unlinked = App.As(App.Tokens.Create(Roles.Practitioner, siteId: f.SiteId, subject: "dr-unlinked"));

        var asColleague = await f.Practitioner.PostAsJsonAsync(f.PathOf("treatment-sessions"), Session(colleague), OutcomesApp.Json);
        var withoutRecord = await unlinked.PostAsJsonAsync(f.PathOf("treatment-sessions"), Session(f.PractitionerId), OutcomesApp.Json);
        var own = await f.Practitioner.PostAsJsonAsync(f.PathOf("treatment-sessions"), Session(f.PractitionerId), OutcomesApp.Json);
        var onBehalf = await App.Admin().PostAsJsonAsync(f.PathOf("treatment-sessions"), Session(colleague), OutcomesApp.Json);

        await ProblemAssert.IsValidationProblem(asColleague, "practitionerId");
        await ProblemAssert.IsValidationProblem(withoutRecord, "practitionerId");
        Assert.Equal(HttpStatusCode.Created, own.StatusCode);
        Assert.Equal(HttpStatusCode.Created, onBehalf.StatusCode);
    }

    [SkippableFact]
    public async Task TheAccessLog_SaysWhoAtWhichSiteDidWhat()
    {
        var siteId = await App.CreateSiteAsync("Northside Pain Clinic");
        var patientId = await App.CreatePatientAsync(siteId);
        var practitionerId = await App.CreatePractitionerAsync(siteId);
        var practitioner = App.Practitioner(siteId);
        await practitioner.GetAsync($"/api/v1/patients/{patientId}/outcomes");
        await App.Patient(patientId).PostAsJsonAsync($"/api/v1/patients/{patientId}/pain-scores",
            new { submissionId = Guid.NewGuid(), answeredAt = "2025-03-03T08:30:00Z", score = 4, recall = "average7Days" }, OutcomesApp.Json);

        var log = await App.Patient(patientId).GetFromJsonAsync<JsonElement>($"/api/v1/patients/{patientId}/access-log", OutcomesApp.Json);

        var lines = log.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("description").GetString()).ToList();
        Assert.Contains("An administrator (admin-1) enrolled the patient", lines);
        Assert.Contains("Dr Test, practitioner at Northside Pain Clinic, read the outcomes", lines);
        Assert.Contains("The patient recorded a submission (score, questionnaire, measurement or side effect)", lines);
        var events = await App.Auditor().GetFromJsonAsync<JsonElement>($"/api/v1/audit-events?patientId={patientId}&action=read", OutcomesApp.Json);
        Assert.Contains(events.GetProperty("items").EnumerateArray(), e => e.GetProperty("actorPractitionerId").ValueKind == JsonValueKind.Number
            && e.GetProperty("actorPractitionerId").GetInt64() == practitionerId);
    }
}

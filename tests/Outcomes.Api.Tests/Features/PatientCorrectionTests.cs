using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Outcomes.Api.Data;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Features;

/// <summary>
/// A patient's record is corrected by new versions with a reason and who made it; every reader takes
/// the current values (filters, cohorts, the enrolment check), and the history keeps every version.
/// </summary>
public abstract class PatientCorrectionTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : PatientCorrectionTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : PatientCorrectionTests(DatabaseProvider.SqlServer);

    protected override Action<IServiceCollection>? ConfigureServices => services =>
        services.Configure<Outcomes.Api.Features.Cohorts.CohortOptions>(o => o.SmallCellThreshold = 0);

    private static object Correction(long version, string reason, int birthYear = 1970, string sex = "female", string enrolledOn = "2025-01-15",
        string[]? conditions = null, string reference = "REF-CORRECTED", Guid? submissionId = null) => new
    {
        submissionId = submissionId ?? Guid.NewGuid(),
        version,
        externalReference = reference,
        birthYear,
        sex,
        enrolledOn,
        conditions = conditions ?? ["myofascialPainSyndrome"],
        reason,
    };

    [SkippableFact]
    public async Task ACorrection_ChangesWhatEveryReaderSees_AndTheHistoryKeepsBothVersions()
    {
        var f = await PatientFixture.CreateAsync(App);
        var session = await f.Practitioner.PostAsJsonAsync(f.PathOf("treatment-sessions"), new
        {
            submissionId = Guid.NewGuid(), sessionDate = "2025-03-03", practitionerId = f.PractitionerId, product = "onabotulinumtoxinA",
            guidance = "emg", dilutionUnitsPerMl = 50, injectionSites = new[] { new { muscle = "upper_trapezius", side = "left", units = 20 } },
        }, OutcomesApp.Json);
        Assert.Equal(HttpStatusCode.Created, session.StatusCode);
        var score = await f.Patient.PostAsJsonAsync(f.PathOf("pain-scores"), new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-03-01T18:00:00Z", score = 6, recall = "average7Days",
        }, OutcomesApp.Json);
        Assert.Equal(HttpStatusCode.Created, score.StatusCode); // a patient never given the measure is not in its cohort
        // As enrolled: born 1970 (55 at the session), myofascial pain.
        Assert.Equal(1, await CohortPatientsAsync("minAge=50&condition=myofascialPainSyndrome"));

        var response = await f.Practitioner.PostAsJsonAsync(f.PathOf("corrections"),
            Correction(0, "Birth year and condition copied wrongly from the referral", birthYear: 1995, sex: "male", conditions: ["lowBackPain"]), OutcomesApp.Json);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var patient = (await PatientFixture.BodyAsync(response)).GetProperty("patient");
        Assert.Equal(1995, patient.GetProperty("birthYear").GetInt32());
        Assert.True(patient.GetProperty("version").GetInt64() > 0);
        var read = await f.Patient.GetFromJsonAsync<JsonElement>($"/api/v1/patients/{f.PatientId}", OutcomesApp.Json);
        Assert.Equal(("male", "REF-CORRECTED", "lowBackPain"),
            (read.GetProperty("sex").GetString(), read.GetProperty("externalReference").GetString(), read.GetProperty("conditions")[0].GetString()));
        Assert.Equal(0, await CohortPatientsAsync("minAge=50&condition=myofascialPainSyndrome"));
        Assert.Equal(1, await CohortPatientsAsync("maxAge=35&condition=lowBackPain&sex=male"));
        var listed = await f.Practitioner.GetFromJsonAsync<JsonElement>($"/api/v1/patients?condition=lowBackPain&sex=male", OutcomesApp.Json);
        Assert.Single(listed.GetProperty("items").EnumerateArray());

        var history = await f.Patient.GetFromJsonAsync<JsonElement>(f.PathOf("history"), OutcomesApp.Json);
        Assert.Equal([1970, 1995], history.EnumerateArray().Select(v => v.GetProperty("birthYear").GetInt32()).ToList());
        Assert.Equal(JsonValueKind.Null, history[0].GetProperty("changeReason").ValueKind);
        Assert.Equal("Birth year and condition copied wrongly from the referral", history[1].GetProperty("changeReason").GetString());
        Assert.Equal(1, await App.CountAuditAsync("correct", "patient", f.PatientId));
    }

    private async Task<int> CohortPatientsAsync(string filters)
    {
        var cohort = await App.Auditor().GetFromJsonAsync<JsonElement>($"/api/v1/cohorts/outcomes?{filters}", OutcomesApp.Json);
        return cohort.GetProperty("summary").GetProperty("patients").GetProperty("patients").GetInt32();
    }

    [SkippableFact]
    public async Task MovingTheEnrolmentDateAfterStoredData_KeepsIt_AndSaysHowMuchLiesBefore()
    {
        var f = await PatientFixture.CreateAsync(App);
        foreach (var day in new[] { "2025-02-01", "2025-02-08", "2025-03-08" })
        {
            var posted = await f.PostAsync(f.Patient, "pain-scores", new { submissionId = Guid.NewGuid(), answeredAt = $"{day}T10:00:00Z", score = 5, recall = "average7Days" });
            Assert.Equal(HttpStatusCode.Created, posted.StatusCode);
        }

        var response = await f.Practitioner.PostAsJsonAsync(f.PathOf("corrections"), Correction(0, "Enrolled in March", enrolledOn: "2025-03-01"), OutcomesApp.Json);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await PatientFixture.BodyAsync(response);
        Assert.Equal(2, body.GetProperty("observationsBeforeEnrolment").GetInt32());
        var observations = await f.Patient.GetFromJsonAsync<JsonElement>(f.PathOf("observations"), OutcomesApp.Json);
        Assert.Equal(3, observations.GetProperty("items").GetArrayLength());
        // New submissions follow the corrected enrolment date.
        var early = await f.PostAsync(f.Patient, "pain-scores", new { submissionId = Guid.NewGuid(), answeredAt = "2025-02-15T10:00:00Z", score = 5, recall = "average7Days" });
        await ProblemAssert.IsValidationProblem(early, "answeredAt");
    }

    [SkippableFact]
    public async Task ACorrection_IsIdempotent_AVersionIsCorrectedOnce_AndAReferenceIsNotTakenTwice()
    {
        var f = await PatientFixture.CreateAsync(App);
        await App.CreatePatientAsync(f.SiteId, reference: "REF-OTHER");
        var submission = Guid.NewGuid();

        var first = await f.Practitioner.PostAsJsonAsync(f.PathOf("corrections"), Correction(0, "Typo", birthYear: 1971, submissionId: submission), OutcomesApp.Json);
        var retry = await f.Practitioner.PostAsJsonAsync(f.PathOf("corrections"), Correction(0, "Typo", birthYear: 1971, submissionId: submission), OutcomesApp.Json);
        var stale = await f.Practitioner.PostAsJsonAsync(f.PathOf("corrections"), Correction(0, "Another typo", birthYear: 1972), OutcomesApp.Json);
        var version = (await PatientFixture.BodyAsync(first)).GetProperty("patient").GetProperty("version").GetInt64();
        var taken = await f.Practitioner.PostAsJsonAsync(f.PathOf("corrections"), Correction(version, "Wrong chart", reference: "REF-OTHER"), OutcomesApp.Json);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        await ProblemAssert.IsProblem(stale, HttpStatusCode.Conflict);
        await ProblemAssert.IsProblem(taken, HttpStatusCode.Conflict);
        var history = await f.Practitioner.GetFromJsonAsync<JsonElement>(f.PathOf("history"), OutcomesApp.Json);
        Assert.Equal(2, history.GetArrayLength());
    }

    [SkippableFact]
    public async Task ConcurrentCorrectionsOfOneVersion_OneWins()
    {
        var f = await PatientFixture.CreateAsync(App);

        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(i =>
            f.Practitioner.PostAsJsonAsync(f.PathOf("corrections"), Correction(0, $"Correction {i}", birthYear: 1960 + i), OutcomesApp.Json)));

        Assert.Equal(1, answers.Count(a => a.StatusCode == HttpStatusCode.Created));
        Assert.All(answers.Where(a => a.StatusCode != HttpStatusCode.Created), a => Assert.Equal(HttpStatusCode.Conflict, a.StatusCode));
    }

    [SkippableFact]
    public async Task ABadCorrection_NamesEachField_AndPatientsMayNotCorrect()
    {
        var f = await PatientFixture.CreateAsync(App);

        var bad = await f.Practitioner.PostAsJsonAsync(f.PathOf("corrections"), new
        {
            submissionId = Guid.NewGuid(), version = 0, externalReference = "", birthYear = 1800, sex = "female", enrolledOn = "2099-01-01",
            conditions = Array.Empty<string>(), reason = "",
        }, OutcomesApp.Json);
        var byPatient = await f.Patient.PostAsJsonAsync(f.PathOf("corrections"), Correction(0, "I am younger"), OutcomesApp.Json);

        await ProblemAssert.IsValidationProblem(bad, "externalReference", "birthYear", "enrolledOn", "conditions", "reason");
        await ProblemAssert.IsProblem(byPatient, HttpStatusCode.Forbidden);
        var history = await f.Patient.GetFromJsonAsync<JsonElement>(f.PathOf("history"), OutcomesApp.Json);
        Assert.Single(history.EnumerateArray());
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Outcomes.Api.Data;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Features;

/// <summary>
/// A treatment session is corrected as a new version and withdrawn with an entered-in-error mark,
/// never overwritten; every reader (cycles, outcomes, due, cohorts) then counts current versions only.
/// A dose a clinician would question needs to be confirmed with a reason.
/// </summary>
public abstract class SessionCorrectionTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : SessionCorrectionTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : SessionCorrectionTests(DatabaseProvider.SqlServer);

    // One patient's cycles are counted in the cohort test: no cell is withheld here.
    protected override Action<IServiceCollection>? ConfigureServices => services =>
        services.Configure<Outcomes.Api.Features.Cohorts.CohortOptions>(o => o.SmallCellThreshold = 0);

    private static object Session(long practitionerId, string date, decimal units = 20m, Guid? submissionId = null) => new
    {
        submissionId = submissionId ?? Guid.NewGuid(),
        sessionDate = date,
        practitionerId,
        product = "onabotulinumtoxinA",
        guidance = "emg",
        dilutionUnitsPerMl = 50,
        injectionSites = new[] { new { muscle = "upper_trapezius", side = "left", units } },
    };

    private static object Amendment(long practitionerId, string date, string reason, decimal units = 20m, Guid? submissionId = null) => new
    {
        submissionId = submissionId ?? Guid.NewGuid(),
        sessionDate = date,
        practitionerId,
        product = "onabotulinumtoxinA",
        guidance = "emg",
        dilutionUnitsPerMl = 50,
        injectionSites = new[] { new { muscle = "upper_trapezius", side = "left", units } },
        reason,
    };

    private static async Task<long> SessionAsync(PatientFixture f, string date, decimal units = 20m)
    {
        var response = await f.Practitioner.PostAsJsonAsync(f.PathOf("treatment-sessions"), Session(f.PractitionerId, date, units), OutcomesApp.Json);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await PatientFixture.BodyAsync(response)).GetProperty("id").GetInt64();
    }

    private static async Task PainAsync(PatientFixture f, string day, int score)
    {
        var response = await f.PostAsync(f.Patient, "pain-scores", new
        {
            submissionId = Guid.NewGuid(), answeredAt = $"{day}T18:00:00Z", score, recall = "average7Days",
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    /// <summary>The pain cycles of the patient's outcomes: (session date, baseline).</summary>
    private static async Task<List<(string Session, decimal? Baseline)>> PainCyclesAsync(PatientFixture f)
    {
        var outcomes = await f.Practitioner.GetFromJsonAsync<JsonElement>(f.PathOf("outcomes"), OutcomesApp.Json);
        var pain = outcomes.GetProperty("measures").EnumerateArray().Single(m => m.GetProperty("measure").GetString() == "pain_nrs");
        return pain.GetProperty("cycles").EnumerateArray()
            .Select(c => (c.GetProperty("session").GetString()!, c.GetProperty("baseline").ValueKind == JsonValueKind.Null
                ? (decimal?)null
                : c.GetProperty("baseline").GetProperty("value").ValueKind == JsonValueKind.Null ? null : c.GetProperty("baseline").GetProperty("value").GetDecimal()))
            .ToList();
    }

    [SkippableFact]
    public async Task ACorrectedSessionDate_MovesTheCycle_AndTheOldVersionStaysInTheHistory()
    {
        var f = await PatientFixture.CreateAsync(App);
        await PainAsync(f, "2025-02-20", 8);
        await PainAsync(f, "2025-03-10", 6);
        await PainAsync(f, "2025-03-24", 3);
        // Entered as 03-12 by mistake: its baseline window (02-27..03-12) holds the 03-10 score, 6.
        var wrong = await SessionAsync(f, "2025-03-12");
        Assert.Equal([("2025-03-12", 6m)], await PainCyclesAsync(f));

        var response = await f.Practitioner.PostAsJsonAsync(f.PathOf($"treatment-sessions/{wrong}/amendments"),
            Amendment(f.PractitionerId, "2025-03-01", "The visit was on 1 March"), OutcomesApp.Json);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var corrected = await PatientFixture.BodyAsync(response);
        Assert.Equal("current", corrected.GetProperty("status").GetString());
        Assert.Equal(wrong, corrected.GetProperty("supersedesId").GetInt64());
        Assert.Equal(wrong, corrected.GetProperty("recordId").GetInt64());
        // Now the cycle starts on 03-01: its baseline is the 02-20 score, 8.
        Assert.Equal([("2025-03-01", 8m)], await PainCyclesAsync(f));
        var sessions = await f.Patient.GetFromJsonAsync<JsonElement>(f.PathOf("treatment-sessions"), OutcomesApp.Json);
        Assert.Equal("2025-03-01", Assert.Single(sessions.EnumerateArray()).GetProperty("sessionDate").GetString());
        var history = await f.Patient.GetFromJsonAsync<JsonElement>(f.PathOf($"treatment-sessions/{wrong}/history"), OutcomesApp.Json);
        Assert.Equal([("superseded", "2025-03-12"), ("current", "2025-03-01")],
            history.EnumerateArray().Select(v => (v.GetProperty("status").GetString(), v.GetProperty("sessionDate").GetString())).ToList());
        Assert.Equal("The visit was on 1 March", history[1].GetProperty("changeReason").GetString());
        Assert.Equal(1, await App.CountAuditAsync("amend", "treatment_session", f.PatientId));
    }

    [SkippableFact]
    public async Task AWithdrawnSession_RemovesItsCycle_FromThePatientAndFromTheCohort()
    {
        var f = await PatientFixture.CreateAsync(App);
        await PainAsync(f, "2025-02-20", 8);
        await SessionAsync(f, "2025-03-01");
        var phantom = await SessionAsync(f, "2025-04-01");
        Assert.Equal(2, (await PainCyclesAsync(f)).Count);
        var cohortBefore = await App.Auditor().GetFromJsonAsync<JsonElement>($"/api/v1/cohorts/outcomes?siteId={f.SiteId}", OutcomesApp.Json);

        var response = await f.Practitioner.PostAsJsonAsync(f.PathOf($"treatment-sessions/{phantom}/entered-in-error"),
            new { submissionId = Guid.NewGuid(), reason = "Recorded for the wrong patient" }, OutcomesApp.Json);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("enteredInError", (await PatientFixture.BodyAsync(response)).GetProperty("status").GetString());
        Assert.Equal([("2025-03-01", 8m)], await PainCyclesAsync(f));
        var cohortAfter = await App.Auditor().GetFromJsonAsync<JsonElement>($"/api/v1/cohorts/outcomes?siteId={f.SiteId}", OutcomesApp.Json);
        Assert.Equal(2, CycleCount(cohortBefore));
        Assert.Equal(1, CycleCount(cohortAfter));
        var due = await f.Patient.GetFromJsonAsync<JsonElement>(f.PathOf("due"), OutcomesApp.Json);
        Assert.DoesNotContain("2025-04-01", due.ToString(), StringComparison.Ordinal);
    }

    private static int CycleCount(JsonElement cohort) => cohort.GetProperty("summary").GetProperty("cycles").GetProperty("cycles").GetInt32();

    [SkippableFact]
    public async Task ACorrection_IsIdempotent_AndAVersionIsCorrectedOnce()
    {
        var f = await PatientFixture.CreateAsync(App);
        var session = await SessionAsync(f, "2025-03-01");
        var submission = Guid.NewGuid();
        var path = f.PathOf($"treatment-sessions/{session}/amendments");

        var first = await f.Practitioner.PostAsJsonAsync(path, Amendment(f.PractitionerId, "2025-03-02", "Date typo", submissionId: submission), OutcomesApp.Json);
        var retry = await f.Practitioner.PostAsJsonAsync(path, Amendment(f.PractitionerId, "2025-03-02", "Date typo", submissionId: submission), OutcomesApp.Json);
        var second = await f.Practitioner.PostAsJsonAsync(path, Amendment(f.PractitionerId, "2025-03-03", "Another typo"), OutcomesApp.Json);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal((await PatientFixture.BodyAsync(first)).GetProperty("id").GetInt64(), (await PatientFixture.BodyAsync(retry)).GetProperty("id").GetInt64());
        await ProblemAssert.IsProblem(second, HttpStatusCode.Conflict);
        Assert.Equal(2, (await App.CountRowsAsync())["treatment_session"]);
    }

    [SkippableFact]
    public async Task ConcurrentCorrectionsOfOneVersion_OneWins_TheOtherIs409()
    {
        var f = await PatientFixture.CreateAsync(App);
        var session = await SessionAsync(f, "2025-03-01");
        var path = f.PathOf($"treatment-sessions/{session}/amendments");

        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(i =>
            f.Practitioner.PostAsJsonAsync(path, Amendment(f.PractitionerId, $"2025-03-0{i + 2}", $"Correction {i}"), OutcomesApp.Json)));

        Assert.Equal(1, answers.Count(a => a.StatusCode == HttpStatusCode.Created));
        Assert.All(answers.Where(a => a.StatusCode != HttpStatusCode.Created), a => Assert.Equal(HttpStatusCode.Conflict, a.StatusCode));
        var sessions = await f.Patient.GetFromJsonAsync<JsonElement>(f.PathOf("treatment-sessions"), OutcomesApp.Json);
        Assert.Single(sessions.EnumerateArray());
    }

    [SkippableFact]
    public async Task ACorrectionWithoutAReason_OrOfAnUnknownSession_IsRefused_AndPatientsMayNotCorrect()
    {
        var f = await PatientFixture.CreateAsync(App);
        var session = await SessionAsync(f, "2025-03-01");

        var noReason = await f.Practitioner.PostAsJsonAsync(f.PathOf($"treatment-sessions/{session}/amendments"),
            Session(f.PractitionerId, "2025-03-02"), OutcomesApp.Json);
        var unknown = await f.Practitioner.PostAsJsonAsync(f.PathOf("treatment-sessions/999999/amendments"),
            Amendment(f.PractitionerId, "2025-03-02", "Typo"), OutcomesApp.Json);
        var byPatient = await f.Patient.PostAsJsonAsync(f.PathOf($"treatment-sessions/{session}/entered-in-error"),
            new { submissionId = Guid.NewGuid(), reason = "Not me" }, OutcomesApp.Json);

        await ProblemAssert.IsValidationProblem(noReason, "reason");
        await ProblemAssert.IsProblem(unknown, HttpStatusCode.NotFound);
        await ProblemAssert.IsProblem(byPatient, HttpStatusCode.Forbidden);
        Assert.Equal(1, (await App.CountRowsAsync())["treatment_session"]);
    }

    [SkippableFact]
    public async Task ADoseAboveTheProductsCeiling_IsRefused_UnlessConfirmedWithAReason()
    {
        var f = await PatientFixture.CreateAsync(App);
        var before = await App.CountRowsAsync();

        // The typo: 900 U of onabotulinumtoxinA in one trapezius (ceilings: 100 U a site, 400 U within 12 weeks).
        var typo = await f.Practitioner.PostAsJsonAsync(f.PathOf("treatment-sessions"), Session(f.PractitionerId, "2025-03-01", 900m), OutcomesApp.Json);
        var beforeEnrolment = await f.Practitioner.PostAsJsonAsync(f.PathOf("treatment-sessions"), Session(f.PractitionerId, "1800-01-01"), OutcomesApp.Json);

        await ProblemAssert.IsValidationProblem(typo, "injectionSites[0].units", "injectionSites");
        await ProblemAssert.IsValidationProblem(beforeEnrolment, "sessionDate");
        Assert.Equal(before, await App.CountRowsAsync());

        var confirmed = await f.Practitioner.PostAsJsonAsync(f.PathOf("treatment-sessions"), new
        {
            submissionId = Guid.NewGuid(), sessionDate = "2025-03-01", practitionerId = f.PractitionerId, product = "onabotulinumtoxinA",
            guidance = "emg", dilutionUnitsPerMl = 50,
            injectionSites = new[] { new { muscle = "upper_trapezius", side = "left", units = 120m } },
            highDoseConfirmed = true, highDoseReason = "Severe spasm; dose agreed with the consultant",
        }, OutcomesApp.Json);
        Assert.Equal(HttpStatusCode.Created, confirmed.StatusCode);
        Assert.Equal("Severe spasm; dose agreed with the consultant", (await PatientFixture.BodyAsync(confirmed)).GetProperty("highDoseReason").GetString());
    }

    [SkippableFact]
    public async Task UnitsAddUpAcrossSessionsWithin12Weeks_AgainstTheCeiling()
    {
        var f = await PatientFixture.CreateAsync(App);
        for (var i = 0; i < 4; i++)
        {
            var response = await f.Practitioner.PostAsJsonAsync(f.PathOf("treatment-sessions"), new
            {
                submissionId = Guid.NewGuid(), sessionDate = $"2025-03-0{i + 1}", practitionerId = f.PractitionerId, product = "onabotulinumtoxinA",
                guidance = "emg", dilutionUnitsPerMl = 50,
                injectionSites = new[] { new { muscle = "upper_trapezius", side = "left", units = 100m } },
            }, OutcomesApp.Json);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode); // 100, 200, 300, 400: at the ceiling, not above
        }

        var fifth = await f.Practitioner.PostAsJsonAsync(f.PathOf("treatment-sessions"), Session(f.PractitionerId, "2025-05-20", 10m), OutcomesApp.Json);
        var later = await f.Practitioner.PostAsJsonAsync(f.PathOf("treatment-sessions"), Session(f.PractitionerId, "2025-05-25", 10m), OutcomesApp.Json);

        // 05-20 is 80 days after 03-01: all four sessions lie within 12 weeks, 400 + 10 = 410 units. From 05-25 the
        // 12 weeks reach back to 03-02 (exclusive): 03-03 and 03-04 count, 200 + 10.
        var problem = await ProblemAssert.IsValidationProblem(fifth, "injectionSites");
        Assert.Contains("410", problem.GetProperty("errors").GetProperty("injectionSites")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Created, later.StatusCode);
    }

    [SkippableFact]
    public async Task ThePatientSummary_ShowsTheUnitsOfTheLast12Weeks_PerProduct_BesideTheCeiling()
    {
        var f = await PatientFixture.CreateAsync(App);
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        string Day(int daysAgo) => today.AddDays(-daysAgo).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        await SessionAsync(f, Day(100), 90m); // outside the 12 weeks
        await SessionAsync(f, Day(30), 60m);
        var withdrawn = await SessionAsync(f, Day(10), 50m);
        await f.Practitioner.PostAsJsonAsync(f.PathOf($"treatment-sessions/{withdrawn}/entered-in-error"),
            new { submissionId = Guid.NewGuid(), reason = "Not given" }, OutcomesApp.Json);

        var page = await f.Practitioner.GetFromJsonAsync<JsonElement>($"/api/v1/patients/summaries?siteId={f.SiteId}", OutcomesApp.Json);

        var units = Assert.Single(page.GetProperty("items")[0].GetProperty("unitsLast12Weeks").EnumerateArray());
        Assert.Equal(("onabotulinumtoxinA", 60m, 400m),
            (units.GetProperty("product").GetString(), units.GetProperty("units").GetDecimal(), units.GetProperty("ceiling").GetDecimal()));
    }
}

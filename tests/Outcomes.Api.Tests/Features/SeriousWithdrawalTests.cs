using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Outcomes.Api.Data;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Features;

/// <summary>
/// A serious side effect is not silently unflagged: a patient may withdraw their report, and it then
/// shows as withdrawn by the patient, awaiting review, until a practitioner of the site confirms it.
/// </summary>
public abstract class SeriousWithdrawalTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : SeriousWithdrawalTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : SeriousWithdrawalTests(DatabaseProvider.SqlServer);

    private static async Task<long> ReportAsync(PatientFixture f, string effect, string severity)
    {
        var response = await f.PostAsync(f.Patient, "side-effects", new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-03-05T08:00:00Z", effect, severity, onsetOn = "2025-03-04",
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await PatientFixture.BodyAsync(response)).GetProperty("id").GetInt64();
    }

    private static async Task<(int Serious, int Awaiting)> FlagsAsync(PatientFixture f)
    {
        var patient = await f.Practitioner.GetFromJsonAsync<JsonElement>($"/api/v1/patients/{f.PatientId}", OutcomesApp.Json);
        return (patient.GetProperty("seriousSideEffects").GetInt32(), patient.GetProperty("seriousWithdrawalsAwaitingReview").GetInt32());
    }

    private static async Task<bool> IsListedAsSeriousAsync(PatientFixture f)
    {
        var page = await f.Practitioner.GetFromJsonAsync<JsonElement>($"/api/v1/patients?siteId={f.SiteId}&seriousSideEffects=true", OutcomesApp.Json);
        var summaries = await f.Practitioner.GetFromJsonAsync<JsonElement>($"/api/v1/patients/summaries?siteId={f.SiteId}", OutcomesApp.Json);
        var summary = summaries.GetProperty("items").EnumerateArray().Single(s => s.GetProperty("id").GetInt64() == f.PatientId);
        var listed = page.GetProperty("items").EnumerateArray().Any(p => p.GetProperty("id").GetInt64() == f.PatientId);
        Assert.Equal(listed, summary.GetProperty("seriousSideEffects").GetInt32() + summary.GetProperty("seriousWithdrawalsAwaitingReview").GetInt32() > 0);
        return listed;
    }

    [SkippableFact]
    public async Task APatientsWithdrawal_StaysFlaggedAsAwaitingReview_UntilAPractitionerConfirmsIt()
    {
        var f = await PatientFixture.CreateAsync(App);
        var report = await ReportAsync(f, "difficultySwallowing", "moderate");
        Assert.Equal((1, 0), await FlagsAsync(f));

        var withdrawal = await f.Patient.PostAsJsonAsync(f.PathOf($"observations/{report}/entered-in-error"),
            new { submissionId = Guid.NewGuid(), reason = "I pressed the wrong button" }, OutcomesApp.Json);

        Assert.Equal(HttpStatusCode.Created, withdrawal.StatusCode);
        Assert.Equal((0, 1), await FlagsAsync(f));
        Assert.True(await IsListedAsSeriousAsync(f));

        var review = await f.Practitioner.PostAsJsonAsync(f.PathOf($"observations/{report}/withdrawal-review"),
            new { note = "Called the patient: no swallowing trouble" }, OutcomesApp.Json);
        var again = await f.Practitioner.PostAsJsonAsync(f.PathOf($"observations/{report}/withdrawal-review"), new { }, OutcomesApp.Json);

        Assert.Equal(HttpStatusCode.Created, review.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal("Called the patient: no swallowing trouble", (await PatientFixture.BodyAsync(again)).GetProperty("note").GetString());
        Assert.Equal((0, 0), await FlagsAsync(f));
        Assert.False(await IsListedAsSeriousAsync(f));
        Assert.Equal(1, await App.CountAuditAsync("review_withdrawal", "observation", f.PatientId));
    }

    [SkippableFact]
    public async Task APractitionersWithdrawal_NeedsNoReview_AndAMildReportCannotBeReviewed()
    {
        var f = await PatientFixture.CreateAsync(App);
        var serious = await ReportAsync(f, "droopingEyelid", "mild");
        var mild = await ReportAsync(f, "bruising", "mild");
        await f.Patient.PostAsJsonAsync(f.PathOf($"observations/{mild}/entered-in-error"), new { submissionId = Guid.NewGuid(), reason = "Wrong day" }, OutcomesApp.Json);

        var byPractitioner = await f.Practitioner.PostAsJsonAsync(f.PathOf($"observations/{serious}/entered-in-error"),
            new { submissionId = Guid.NewGuid(), reason = "Examined: no ptosis" }, OutcomesApp.Json);
        var notReviewable = await f.Practitioner.PostAsJsonAsync(f.PathOf($"observations/{mild}/withdrawal-review"), new { }, OutcomesApp.Json);
        var byPatient = await f.Patient.PostAsJsonAsync(f.PathOf($"observations/{serious}/withdrawal-review"), new { }, OutcomesApp.Json);

        Assert.Equal(HttpStatusCode.Created, byPractitioner.StatusCode);
        Assert.Equal((0, 0), await FlagsAsync(f));
        await ProblemAssert.IsValidationProblem(notReviewable, "observationId");
        await ProblemAssert.IsProblem(byPatient, HttpStatusCode.Forbidden);
    }
}

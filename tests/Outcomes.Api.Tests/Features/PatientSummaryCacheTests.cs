using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Outcomes.Api.Data;
using Outcomes.Api.Features.PatientOutcomes;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Features;

/// <summary>
/// The patient list keeps each patient's computed line in memory under the patient's change counter and
/// the day. After every kind of change the list shows, and after midnight, the answer given with the kept
/// lines must be the answer computed afresh, and must show the change.
/// </summary>
public abstract class PatientSummaryCacheTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : PatientSummaryCacheTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : PatientSummaryCacheTests(DatabaseProvider.SqlServer);

    private readonly MovableClock _clock = new(new DateTimeOffset(2025, 3, 10, 12, 0, 0, TimeSpan.Zero));

    protected override Action<IServiceCollection>? ConfigureServices => services => services.AddSingleton<TimeProvider>(_clock);

    /// <summary>The list as answered with the kept lines, then as computed with none kept: they must agree.</summary>
    private async Task<JsonElement> ListAsync(PatientFixture f)
    {
        var kept = await f.Practitioner.GetStringAsync("/api/v1/patients/summaries");
        App.Services.GetRequiredService<PatientSummaryCache>().Clear();
        var fresh = await f.Practitioner.GetStringAsync("/api/v1/patients/summaries");
        Assert.Equal(fresh, kept);
        return JsonDocument.Parse(kept).RootElement.GetProperty("items").EnumerateArray().Single(p => p.GetProperty("id").GetInt64() == f.PatientId).Clone();
    }

    private static async Task<JsonElement> CreatedAsync(Task<HttpResponseMessage> post)
    {
        using var response = await post;
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return await PatientFixture.BodyAsync(response);
    }

    [SkippableFact]
    public async Task EveryChangeTheListShows_IsShownAtOnce_AndTheKeptLinesEqualFreshOnes()
    {
        var f = await PatientFixture.CreateAsync(App);
        await App.CreatePatientAsync(f.SiteId); // a neighbour on the page, whose line is kept throughout
        var line = await ListAsync(f);
        Assert.Equal(JsonValueKind.Null, line.GetProperty("latestPainScore").ValueKind);

        await CreatedAsync(f.PostAsync(f.Patient, "pain-scores", new { submissionId = Guid.NewGuid(), answeredAt = "2025-02-28T18:00:00Z", score = 7, recall = "average7Days" }));
        line = await ListAsync(f);
        Assert.Equal(7, line.GetProperty("latestPainScore").GetDecimal());

        await CreatedAsync(f.Practitioner.PostAsJsonAsync(f.PathOf("treatment-sessions"), new
        {
            submissionId = Guid.NewGuid(), sessionDate = "2025-03-01", practitionerId = f.PractitionerId, product = "onabotulinumtoxinA", guidance = "emg",
            dilutionUnitsPerMl = 50, injectionSites = new[] { new { muscle = "upper_trapezius", side = "left", units = 25 } },
        }, OutcomesApp.Json));
        line = await ListAsync(f);
        Assert.Equal("2025-03-01", line.GetProperty("lastSession").GetString());
        Assert.Equal(25, line.GetProperty("unitsLast12Weeks")[0].GetProperty("units").GetDecimal());

        var dueBefore = line.GetProperty("due").GetRawText();
        await CreatedAsync(f.PostAsync(f.Patient, "pain-scores", new { submissionId = Guid.NewGuid(), answeredAt = "2025-03-10T08:00:00Z", score = 3, recall = "average7Days" }));
        line = await ListAsync(f);
        Assert.Equal(3, line.GetProperty("latestPainScore").GetDecimal());
        Assert.NotEqual(dueBefore, line.GetProperty("due").GetRawText()); // this week's score is no longer due
        Assert.Equal("responding", line.GetProperty("currentCycleStatus").GetString());

        var report = await CreatedAsync(f.PostAsync(f.Patient, "side-effects", new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-03-06T10:00:00Z", effect = "difficultySwallowing", severity = "moderate", onsetOn = "2025-03-06",
        }));
        line = await ListAsync(f);
        Assert.Equal((1, 1), (line.GetProperty("seriousSideEffects").GetInt32(), line.GetProperty("openSeriousAlerts").GetInt32()));

        var alertId = (await f.Practitioner.GetFromJsonAsync<JsonElement>("/api/v1/alerts", OutcomesApp.Json)).GetProperty("items")[0].GetProperty("id").GetInt64();
        await CreatedAsync(f.Practitioner.PostAsJsonAsync($"/api/v1/alerts/{alertId}/acknowledgement", new { note = "phoned" }, OutcomesApp.Json));
        line = await ListAsync(f);
        Assert.Equal(0, line.GetProperty("openSeriousAlerts").GetInt32());

        var reportId = report.GetProperty("id").GetInt64();
        var withdrawal = await CreatedAsync(f.Patient.PostAsJsonAsync($"{f.PathOf("observations")}/{reportId}/entered-in-error",
            new { submissionId = Guid.NewGuid(), reason = "it was a cold" }, OutcomesApp.Json));
        line = await ListAsync(f);
        Assert.Equal((0, 1), (line.GetProperty("seriousSideEffects").GetInt32(), line.GetProperty("seriousWithdrawalsAwaitingReview").GetInt32()));

        await CreatedAsync(f.Practitioner.PostAsJsonAsync(f.PathOf($"observations/{reportId}/withdrawal-review"), new { note = "called" }, OutcomesApp.Json));
        line = await ListAsync(f);
        Assert.Equal(0, line.GetProperty("seriousWithdrawalsAwaitingReview").GetInt32());
        Assert.NotEqual(0, withdrawal.GetProperty("id").GetInt64());

        await CreatedAsync(f.Practitioner.PostAsJsonAsync(f.PathOf("corrections"), new
        {
            submissionId = Guid.NewGuid(), version = 0, externalReference = "REF-CORRECTED", birthYear = 1970, sex = "female", enrolledOn = "2025-01-15",
            conditions = new[] { "lowBackPain" }, reason = "copied wrongly from the referral",
        }, OutcomesApp.Json));
        line = await ListAsync(f);
        Assert.Equal(("REF-CORRECTED", "lowBackPain"), (line.GetProperty("externalReference").GetString(), line.GetProperty("conditions")[0].GetString()));

        // Midnight, and a week later: no write, but the weeks since the session and what is due move with the calendar.
        var weeks = line.GetProperty("weeksSinceLastSession").GetInt32();
        _clock.Now = _clock.Now.AddDays(7);
        line = await ListAsync(f);
        Assert.Equal(weeks + 1, line.GetProperty("weeksSinceLastSession").GetInt32());
    }
}

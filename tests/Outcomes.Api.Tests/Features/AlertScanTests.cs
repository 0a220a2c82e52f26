using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Alerts;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Features;

/// <summary>The time-based alerts, found by the scan on a fixed day, once each however many scans run at once.</summary>
public abstract class AlertScanTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : AlertScanTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : AlertScanTests(DatabaseProvider.SqlServer);

    private static readonly DateOnly _today = new(2025, 12, 1);
    private static readonly DateOnly _session = _today.AddDays(-98); // 2025-08-25: the week-12 window closed on 11-24

    protected override Action<IServiceCollection>? ConfigureServices => services =>
        services.AddSingleton<TimeProvider>(new FixedClock(new DateTimeOffset(2025, 12, 1, 12, 0, 0, TimeSpan.Zero)));

    /// <summary>
    /// A treated neck patient with weekly scores (8 before the session, then <paramref name="scores"/> by week, or on the
    /// days after the session given) and the NDI and PGIC at week 12 unless left out.
    /// </summary>
    private async Task<long> PatientAsync(long siteId, long practitionerId, IReadOnlyList<int> scores, bool questionnaires,
        DateOnly? sessionOn = null, IReadOnlyList<int>? scoreDays = null)
    {
        var sessionDate = sessionOn ?? _session;
        var patientId = await App.CreatePatientAsync(siteId, condition: "neckShoulderPain");
        var session = await App.Practitioner(siteId).PostAsJsonAsync($"/api/v1/patients/{patientId}/treatment-sessions", new
        {
            submissionId = Guid.NewGuid(), sessionDate = $"{sessionDate:yyyy-MM-dd}", practitionerId, product = "onabotulinumtoxinA", guidance = "emg",
            dilutionUnitsPerMl = 50, injectionSites = new[] { new { muscle = "upper_trapezius", side = "left", units = 20 } },
        }, OutcomesApp.Json);
        Assert.Equal(HttpStatusCode.Created, session.StatusCode);
        var patient = App.Patient(patientId);
        var days = new List<(DateOnly Day, int Score)> { (sessionDate.AddDays(-1), 8) };
        days.AddRange(scores.Select((s, i) => (sessionDate.AddDays(scoreDays?[i] ?? (i + 1) * 7), s)));
        foreach (var (day, score) in days)
        {
            var posted = await patient.PostAsJsonAsync($"/api/v1/patients/{patientId}/pain-scores", new
            {
                submissionId = Guid.NewGuid(), answeredAt = $"{day:yyyy-MM-dd}T18:00:00Z", score, recall = "average7Days",
            }, OutcomesApp.Json);
            Assert.Equal(HttpStatusCode.Created, posted.StatusCode);
        }
        if (questionnaires)
        {
            var at = $"{_session.AddDays(84):yyyy-MM-dd}T18:00:00Z";
            var ndi = await patient.PostAsJsonAsync($"/api/v1/patients/{patientId}/questionnaire-responses", new
            {
                submissionId = Guid.NewGuid(), answeredAt = at, instrument = "ndi", version = "1",
                answers = Enumerable.Range(1, 10).Select(i => new { item = $"ndi_{i:D2}", value = 1 }),
            }, OutcomesApp.Json);
            Assert.True(ndi.StatusCode == HttpStatusCode.Created, await ndi.Content.ReadAsStringAsync());
            var pgic = await patient.PostAsJsonAsync($"/api/v1/patients/{patientId}/questionnaire-responses", new
            {
                submissionId = Guid.NewGuid(), answeredAt = at, instrument = "pgic", version = "1", answers = new[] { new { item = "change", option = "much_improved" } },
            }, OutcomesApp.Json);
            Assert.True(pgic.StatusCode == HttpStatusCode.Created, await pgic.Content.ReadAsStringAsync());
        }
        return patientId;
    }

    [SkippableFact]
    public async Task TheScan_FindsEachTimeBasedCause_OnceEven_WhenTwoScansRunAtOnce()
    {
        var siteA = await App.CreateSiteAsync();
        var practitionerA = await App.CreatePractitionerAsync(siteA);
        var siteB = await App.CreateSiteAsync();
        var practitionerB = await App.CreatePractitionerAsync(siteB);
        Assert.Equal(HttpStatusCode.OK, (await App.Admin().PutAsJsonAsync($"/api/v1/sites/{siteB}/alert-settings", new { noWeeklyScoreWeeks = 5 }, OutcomesApp.Json)).StatusCode);
        // Responding until two weeks of 7 at weeks 12 and 13: response lost on day 84; everything due was answered.
        var lost = await PatientAsync(siteA, practitionerA, [3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 7, 7], questionnaires: true);
        // No questionnaire at week 12: the follow-up is overdue.
        var overdue = await PatientAsync(siteA, practitionerA, [3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3], questionnaires: false);
        // Stopped reporting after week 10: two weeks later (site A's default) is an alert; five (site B's setting) is not yet.
        var silentA = await PatientAsync(siteA, practitionerA, [3, 3, 3, 3, 3, 3, 3, 3, 3, 3], questionnaires: true);
        var silentB = await PatientAsync(siteB, practitionerB, [3, 3, 3, 3, 3, 3, 3, 3, 3, 3], questionnaires: true);
        // A session four weeks ago: its week-2 window (days 11 to 21) closed 6 days ago. Scores on days 7 and 24 only: the
        // onset follow-up is overdue; with a score on day 14 too (neither the first nor the latest), it is not.
        var recent = _today.AddDays(-28);
        var onsetMissed = await PatientAsync(siteA, practitionerA, [3, 3], questionnaires: false, recent, [7, 24]);
        var onsetAnswered = await PatientAsync(siteA, practitionerA, [3, 3, 3], questionnaires: false, recent, [7, 14, 24]);

        var first = App.Services.GetRequiredService<AlertScanner>();
        var second = ActivatorUtilities.CreateInstance<AlertScanner>(App.Services);
        var raised = await Task.WhenAll(first.ScanAsync(default), second.ScanAsync(default));

        var alerts = (await App.Admin().GetFromJsonAsync<JsonElement>("/api/v1/alerts", OutcomesApp.Json)).GetProperty("items").EnumerateArray()
            .Select(a => (a.GetProperty("kind").GetString()!, a.GetProperty("patientId").GetInt64())).Order().ToList();
        Assert.Equal(new[]
        {
            ("followUpOverdue", overdue),
            ("followUpOverdue", onsetMissed),
            ("noWeeklyScore", silentA),
            ("responseLost", lost),
        }.Order(), alerts);
        Assert.Equal(4, raised.Sum());
        Assert.DoesNotContain(alerts, a => a.Item2 == silentB || a.Item2 == onsetAnswered);
        // A third scan finds the same causes and raises nothing.
        Assert.Equal(0, await first.ScanAsync(default));
    }

    [SkippableFact]
    public async Task AlertSettings_AreCheckedAndKeptPerSite()
    {
        var site = await App.CreateSiteAsync();

        var bad = await App.Admin().PutAsJsonAsync($"/api/v1/sites/{site}/alert-settings", new { noWeeklyScoreWeeks = 0 }, OutcomesApp.Json);
        var before = await App.Admin().GetFromJsonAsync<JsonElement>($"/api/v1/sites/{site}/alert-settings", OutcomesApp.Json);
        await App.Admin().PutAsJsonAsync($"/api/v1/sites/{site}/alert-settings", new { noWeeklyScoreWeeks = 3 }, OutcomesApp.Json);
        await App.Admin().PutAsJsonAsync($"/api/v1/sites/{site}/alert-settings", new { noWeeklyScoreWeeks = 4 }, OutcomesApp.Json);
        var after = await App.Admin().GetFromJsonAsync<JsonElement>($"/api/v1/sites/{site}/alert-settings", OutcomesApp.Json);

        await ProblemAssert.IsValidationProblem(bad, "noWeeklyScoreWeeks");
        Assert.Equal(2, before.GetProperty("noWeeklyScoreWeeks").GetInt32());
        Assert.Equal(4, after.GetProperty("noWeeklyScoreWeeks").GetInt32());
        Assert.Equal(HttpStatusCode.NotFound, (await App.Admin().GetAsync("/api/v1/sites/999999/alert-settings")).StatusCode);
    }
}

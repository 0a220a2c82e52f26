using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Outcomes.Api.Data;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Features;

public abstract class DueTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : DueTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : DueTests(DatabaseProvider.SqlServer);

    // Wednesday 2025-03-05, noon UTC.
    protected override Action<IServiceCollection>? ConfigureServices => services =>
        services.AddSingleton<TimeProvider>(new FixedClock(new DateTimeOffset(2025, 3, 5, 12, 0, 0, TimeSpan.Zero)));

    [SkippableFact]
    public async Task Due_FollowsWeeklyPainAndTheWeek6Window()
    {
        var siteId = await App.CreateSiteAsync();
        var practitionerId = await App.CreatePractitionerAsync(siteId);
        var patientId = await App.CreatePatientAsync(siteId, condition: "neckShoulderPain");
        var patient = App.Patient(patientId);
        // Session 2025-01-22: week 6 is 2025-03-05, its window 2025-03-02 .. 2025-03-12.
        var session = await App.Practitioner(siteId).PostAsJsonAsync($"/api/v1/patients/{patientId}/treatment-sessions", new
        {
            submissionId = Guid.NewGuid(), sessionDate = "2025-01-22", practitionerId, product = "onabotulinumtoxinA", guidance = "palpation", dilutionUnitsPerMl = 50,
            injectionSites = new[] { new { muscle = "upper_trapezius", side = "left", units = 20 } },
        }, OutcomesApp.Json);
        Assert.Equal(HttpStatusCode.Created, session.StatusCode);

        var before = await patient.GetFromJsonAsync<JsonElement>($"/api/v1/patients/{patientId}/due", OutcomesApp.Json);
        await patient.PostAsJsonAsync($"/api/v1/patients/{patientId}/pain-scores",
            new { submissionId = Guid.NewGuid(), answeredAt = "2025-03-04T19:00:00Z", score = 4, recall = "average7Days" }, OutcomesApp.Json);
        await patient.PostAsJsonAsync($"/api/v1/patients/{patientId}/questionnaire-responses", new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-03-03T19:00:00Z", instrument = "ndi", version = "1",
            answers = Enumerable.Range(1, 10).Select(i => new { item = $"ndi_{i:D2}", value = 1 }),
        }, OutcomesApp.Json);
        var after = await patient.GetFromJsonAsync<JsonElement>($"/api/v1/patients/{patientId}/due", OutcomesApp.Json);

        Assert.Equal("2025-03-05", before.GetProperty("today").GetString());
        Assert.Equal(["ndi@week6", "pain_nrs@weekly", "pgic@week6"], Describe(before));
        Assert.Equal(["pgic@week6"], Describe(after));
    }

    [SkippableFact]
    public async Task Due_ForAnotherPatient_Returns404()
    {
        var siteId = await App.CreateSiteAsync();
        var patientId = await App.CreatePatientAsync(siteId);
        var other = await App.CreatePatientAsync(siteId);

        await ProblemAssert.IsProblem(await App.Patient(other).GetAsync($"/api/v1/patients/{patientId}/due"), HttpStatusCode.NotFound);
    }

    private static string[] Describe(JsonElement due) =>
        [.. due.GetProperty("items").EnumerateArray()
            .Select(i => $"{i.GetProperty("instrument").GetString()}@{i.GetProperty("timepoint").GetString()}")
            .Order(StringComparer.Ordinal)];
}

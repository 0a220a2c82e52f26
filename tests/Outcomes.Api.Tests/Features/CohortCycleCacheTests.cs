using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Cohorts;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Features;

/// <summary>
/// A cohort query keeps each patient's computed cycles under the patient's change counter, what they were
/// computed for and the day. After every kind of change a cohort reads, under filters that pick kept cycles
/// differently, and after midnight, the answer given with the kept cycles must be the answer computed
/// afresh, and must show the change.
/// </summary>
public abstract class CohortCycleCacheTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : CohortCycleCacheTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : CohortCycleCacheTests(DatabaseProvider.SqlServer);

    private readonly MovableClock _clock = new(new DateTimeOffset(2025, 6, 2, 12, 0, 0, TimeSpan.Zero));

    protected override Action<IServiceCollection>? ConfigureServices => services =>
    {
        services.AddSingleton<TimeProvider>(_clock);
        // No cell withheld: every count must be comparable.
        services.Configure<CohortOptions>(o => o.SmallCellThreshold = 0);
    };

    private static readonly string[] _queries =
    [
        "/api/v1/cohorts/outcomes",
        "/api/v1/cohorts/outcomes?condition=neckShoulderPain&guidance=emg",
        "/api/v1/cohorts/outcomes?cycle=first&week=6",
        "/api/v1/cohorts/compare?by=guidance&a=emg&b=palpation",
        "/api/v1/cohorts/duration",
    ];

    /// <summary>Every query answered with the kept cycles, then computed with none kept: they must agree. The summary of the first.</summary>
    private async Task<JsonElement> CohortAsync() =>
        JsonDocument.Parse((await KeptEqualFreshAsync(App, _queries))[0]).RootElement.GetProperty("summary").Clone();

    /// <summary>
    /// Every query answered with what the cohort keeps (computed cycles, kept progress), then with nothing kept (which
    /// the second pass keeps again): they must agree. The first answers. <paramref name="afterKept"/> runs between the two.
    /// </summary>
    internal static async Task<List<string>> KeptEqualFreshAsync(OutcomesApp app, IReadOnlyList<string> queries, Action? afterKept = null)
    {
        var auditor = app.Auditor();
        var kept = new List<string>();
        foreach (var query in queries)
        {
            kept.Add(await auditor.GetStringAsync(query));
        }
        afterKept?.Invoke();
        app.Services.GetRequiredService<CohortCycleCache>().Clear();
        app.Services.GetRequiredService<CohortProgressCache>().Clear();
        for (var i = 0; i < queries.Count; i++)
        {
            Assert.Equal(await auditor.GetStringAsync(queries[i]), kept[i]);
        }
        return kept;
    }

    private static int Count(JsonElement summary, string figure, string count = "cycles") => summary.GetProperty(figure).GetProperty(count).GetInt32();

    internal static async Task<JsonElement> CreatedAsync(Task<HttpResponseMessage> post)
    {
        using var response = await post;
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return await PatientFixture.BodyAsync(response);
    }

    /// <summary>A weekly pain score (7-day average) at 18:00 UTC on <paramref name="day"/>.</summary>
    internal static Task<JsonElement> PainAsync(OutcomesApp app, long patientId, string day, int score) =>
        CreatedAsync(app.Patient(patientId).PostAsJsonAsync($"/api/v1/patients/{patientId}/pain-scores", new
        {
            submissionId = Guid.NewGuid(), answeredAt = $"{day}T18:00:00Z", score, recall = "average7Days",
        }, OutcomesApp.Json));

    /// <summary>A session of 40 units of onabotulinumtoxinA into one muscle.</summary>
    internal static Task<JsonElement> SessionAsync(OutcomesApp app, long siteId, long practitionerId, long patientId, string day, string guidance) =>
        CreatedAsync(app.Practitioner(siteId).PostAsJsonAsync($"/api/v1/patients/{patientId}/treatment-sessions", new
        {
            submissionId = Guid.NewGuid(), sessionDate = day, practitionerId, product = "onabotulinumtoxinA", guidance, dilutionUnitsPerMl = 50,
            injectionSites = new[] { new { muscle = "upper_trapezius", side = "left", units = 40 } },
        }, OutcomesApp.Json));

    [SkippableFact]
    public async Task EveryChangeACohortReads_IsCountedAtOnce_AndTheKeptCyclesEqualFreshOnes()
    {
        var siteId = await App.CreateSiteAsync();
        var practitionerId = await App.CreatePractitionerAsync(siteId);
        // Seven patients, one session each on 03-03 with a baseline of 8; the first five answer 3 in week 12, the last two
        // not yet (today is the last day of that window).
        var patients = new List<long>();
        for (var i = 0; i < 7; i++)
        {
            var patientId = await App.CreatePatientAsync(siteId, condition: "neckShoulderPain");
            patients.Add(patientId);
            await SessionAsync(App, siteId, practitionerId, patientId, "2025-03-03", i % 2 == 0 ? "emg" : "palpation");
            await PainAsync(App, patientId, "2025-03-01", 8);
            if (i < 5)
            {
                await PainAsync(App, patientId, "2025-05-26", 3);
            }
        }
        var s = await CohortAsync();
        Assert.Equal((7, 5, 5, 2), (Count(s, "cycles"), Count(s, "withValue"), s.GetProperty("responders30").GetProperty("k").GetInt32(), Count(s, "notYetReached")));

        // A new score: the sixth patient's week-12 value (one patient changed: read by id).
        await PainAsync(App, patients[5], "2025-05-27", 7);
        s = await CohortAsync();
        Assert.Equal((6, 5), (Count(s, "withValue"), s.GetProperty("responders30").GetProperty("k").GetInt32()));

        // An amendment: the first patient's week-12 score was 8, not 3.
        var first = (await App.Admin().GetFromJsonAsync<JsonElement>($"/api/v1/patients/{patients[0]}/observations?kind=painScore", OutcomesApp.Json))
            .GetProperty("items").EnumerateArray().Single(o => o.GetProperty("value").GetDecimal() == 3);
        await CreatedAsync(App.Patient(patients[0]).PostAsJsonAsync($"/api/v1/patients/{patients[0]}/pain-scores", new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-05-26T18:00:00Z", score = 8, recall = "average7Days",
            amends = first.GetProperty("id").GetInt64(), reason = "typed 3 for 8",
        }, OutcomesApp.Json));
        s = await CohortAsync();
        Assert.Equal(4, s.GetProperty("responders30").GetProperty("k").GetInt32());

        // A second session for the second patient: a new cycle.
        await SessionAsync(App, siteId, practitionerId, patients[1], "2025-06-01", "emg");
        s = await CohortAsync();
        Assert.Equal(8, Count(s, "cycles"));

        // A side effect during the third patient's cycle.
        await CreatedAsync(App.Patient(patients[2]).PostAsJsonAsync($"/api/v1/patients/{patients[2]}/side-effects", new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-03-10T10:00:00Z", effect = "bruising", severity = "mild", onsetOn = "2025-03-09",
        }, OutcomesApp.Json));
        s = await CohortAsync();
        Assert.Equal(1, s.GetProperty("sideEffects").GetProperty("k").GetInt32());

        // A correction of the fourth patient: another condition (so the condition filter drops the patient), another sex.
        await CreatedAsync(App.Practitioner(siteId).PostAsJsonAsync($"/api/v1/patients/{patients[3]}/corrections", new
        {
            submissionId = Guid.NewGuid(), version = 0, externalReference = "REF-CORRECTED", birthYear = 1960, sex = "male", enrolledOn = "2025-01-15",
            conditions = new[] { "lowBackPain" }, reason = "copied wrongly from the referral",
        }, OutcomesApp.Json));
        await CohortAsync();
        var byCondition = await App.Auditor().GetFromJsonAsync<JsonElement>("/api/v1/cohorts/outcomes?condition=neckShoulderPain", OutcomesApp.Json);
        Assert.Equal(6, Count(byCondition.GetProperty("summary"), "patients", "patients"));

        // Midnight, and again a week later: no write, but a window still open closes with the calendar (the seventh
        // patient's week 12 ends without a value), which only that patient's kept cycles must follow.
        var before = await CohortAsync();
        _clock.Now = _clock.Now.AddDays(1);
        s = await CohortAsync();
        Assert.Equal((Count(before, "notYetReached") - 1, Count(before, "noValueInWindow") + 1), (Count(s, "notYetReached"), Count(s, "noValueInWindow")));
        _clock.Now = _clock.Now.AddDays(7);
        await CohortAsync();
    }
}

/// <summary>With <c>Cohorts:CachedCycles</c> at 0 nothing is kept, and a cohort is computed from its histories every time.</summary>
public abstract class CohortsWithNothingKeptTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : CohortsWithNothingKeptTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : CohortsWithNothingKeptTests(DatabaseProvider.SqlServer);

    protected override Action<IServiceCollection>? ConfigureServices => services =>
    {
        services.AddSingleton<TimeProvider>(new FixedClock(new DateTimeOffset(2025, 6, 2, 12, 0, 0, TimeSpan.Zero)));
        services.Configure<CohortOptions>(o =>
        {
            o.SmallCellThreshold = 0;
            o.CachedCycles = 0;
        });
    };

    [SkippableFact]
    public async Task EveryQuery_ComputesTheCohortAfresh()
    {
        var siteId = await App.CreateSiteAsync();
        var practitionerId = await App.CreatePractitionerAsync(siteId);
        var patients = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            var patientId = await App.CreatePatientAsync(siteId, condition: "neckShoulderPain");
            patients.Add(patientId);
            await CohortCycleCacheTests.SessionAsync(App, siteId, practitionerId, patientId, "2025-03-03", "emg");
            await CohortCycleCacheTests.PainAsync(App, patientId, "2025-03-01", 8);
            await CohortCycleCacheTests.PainAsync(App, patientId, "2025-05-26", 3);
        }
        Assert.False(App.Services.GetRequiredService<CohortCycleCache>().Enabled);

        var s = (await App.Auditor().GetFromJsonAsync<JsonElement>("/api/v1/cohorts/outcomes", OutcomesApp.Json)).GetProperty("summary");
        Assert.Equal((3, 3, 3), (s.GetProperty("cycles").GetProperty("cycles").GetInt32(), s.GetProperty("withValue").GetProperty("cycles").GetInt32(),
            s.GetProperty("responders30").GetProperty("k").GetInt32()));

        // A second session for the first patient, before the first cycle's week 12: that cycle now ends before its window.
        await CohortCycleCacheTests.SessionAsync(App, siteId, practitionerId, patients[0], "2025-04-01", "emg");
        s = (await App.Auditor().GetFromJsonAsync<JsonElement>("/api/v1/cohorts/outcomes?guidance=emg", OutcomesApp.Json)).GetProperty("summary");
        Assert.Equal((4, 1), (s.GetProperty("cycles").GetProperty("cycles").GetInt32(), s.GetProperty("cycleEndedBefore").GetProperty("cycles").GetInt32()));
        Assert.Equal(2, s.GetProperty("responders30").GetProperty("k").GetInt32());
    }
}

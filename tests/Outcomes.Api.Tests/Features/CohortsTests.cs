using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Cohorts;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Features;

public abstract class CohortsTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : CohortsTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : CohortsTests(DatabaseProvider.SqlServer);

    private int _threshold = 2;

    protected override Action<IServiceCollection>? ConfigureServices => services =>
    {
        services.AddSingleton<TimeProvider>(new FixedClock(new DateTimeOffset(2025, 12, 1, 12, 0, 0, TimeSpan.Zero)));
        services.Configure<CohortOptions>(o =>
        {
            o.SmallCellThreshold = _threshold;
            o.PseudonymSecret = "test-secret-test-secret-test-secret-0123";
        });
    };

    /// <summary>
    /// 15 patients, one session each on 2025-03-03 (EMG or palpation), baseline pain 8 on 03-01.
    /// Responders score 3 on day 7 and day 84 (week 12); non-responders 7 on both; one EMG patient has
    /// no score after the session. EMG: 5 responders, 3 non-responders, 1 without a value; palpation: 3 and 3.
    /// </summary>
    private async Task<(long SiteId, List<string> References)> BuildCohortAsync()
    {
        var siteId = await App.CreateSiteAsync();
        var practitionerId = await App.CreatePractitionerAsync(siteId);
        var practitioner = App.Practitioner(siteId);
        var references = new List<string>();
        var plan = new List<(string Guidance, bool? Responder)>();
        plan.AddRange(Enumerable.Repeat(("emg", (bool?)true), 5));
        plan.AddRange(Enumerable.Repeat(("emg", (bool?)false), 3));
        plan.Add(("emg", null));
        plan.AddRange(Enumerable.Repeat(("palpation", (bool?)true), 3));
        plan.AddRange(Enumerable.Repeat(("palpation", (bool?)false), 3));
        foreach (var (guidance, responder) in plan)
        {
            var reference = $"COH-{Guid.NewGuid():N}"[..14];
            references.Add(reference);
            var patientId = await App.CreatePatientAsync(siteId, reference, condition: "neckShoulderPain");
            var patient = App.Patient(patientId);
            var session = await practitioner.PostAsJsonAsync($"/api/v1/patients/{patientId}/treatment-sessions", new
            {
                submissionId = Guid.NewGuid(), sessionDate = "2025-03-03", practitionerId, product = "onabotulinumtoxinA", guidance, dilutionUnitsPerMl = 50,
                injectionSites = new[] { new { muscle = "upper_trapezius", side = "left", units = 40 } },
            }, OutcomesApp.Json);
            Assert.Equal(HttpStatusCode.Created, session.StatusCode);
            var scores = new List<(string Day, int Score)> { ("2025-03-01", 8) };
            if (responder is { } r)
            {
                scores.Add(("2025-03-10", r ? 3 : 7));
                scores.Add(("2025-05-26", r ? 3 : 7));
            }
            foreach (var (day, score) in scores)
            {
                var posted = await patient.PostAsJsonAsync($"/api/v1/patients/{patientId}/pain-scores", new
                {
                    submissionId = Guid.NewGuid(), answeredAt = $"{day}T18:00:00Z", score, recall = "average7Days",
                }, OutcomesApp.Json);
                Assert.Equal(HttpStatusCode.Created, posted.StatusCode);
            }
        }
        return (siteId, references);
    }

    [SkippableFact]
    public async Task Outcomes_CountTheCohort_AndSuppressSmallCellsWithTheirComplements()
    {
        await BuildCohortAsync();

        var body = await App.Auditor().GetFromJsonAsync<JsonElement>("/api/v1/cohorts/outcomes?condition=neckShoulderPain&week=12", OutcomesApp.Json);

        var s = body.GetProperty("summary");
        Assert.Equal(15, s.GetProperty("patients").GetProperty("patients").GetInt32());
        Assert.Equal(15, s.GetProperty("cycles").GetProperty("cycles").GetInt32());
        // One cycle without a value describes one patient: suppressed, and with it the 14 with a value.
        Assert.True(s.GetProperty("noValueInWindow").GetProperty("suppressed").GetBoolean());
        Assert.True(s.GetProperty("withValue").GetProperty("suppressed").GetBoolean());
        // 8 responders of 14: Wilson 0.325906 .. 0.786192 (R: prop.test(8, 14, correct = FALSE)$conf.int).
        var rate = s.GetProperty("responders30");
        Assert.Equal((8, 14), (rate.GetProperty("k").GetInt32(), rate.GetProperty("n").GetInt32()));
        Assert.Equal(0.325906, rate.GetProperty("lower").GetDouble(), 6);
        Assert.Equal(0.786192, rate.GetProperty("upper").GetDouble(), 6);
        // Mean change: 8 x (3 - 8) + 6 x (7 - 8) = -46 over 14.
        Assert.Equal(-46.0 / 14, s.GetProperty("meanChange").GetProperty("mean").GetDouble(), 10);
    }

    [SkippableFact]
    public async Task Outcomes_AtTheDefaultThreshold_ShowNoCellOfTenOrFewerPatients()
    {
        _threshold = 10;
        await BuildCohortAsync();

        var body = await App.Auditor().GetFromJsonAsync<JsonElement>("/api/v1/cohorts/outcomes", OutcomesApp.Json);

        var s = body.GetProperty("summary");
        Assert.Equal(15, s.GetProperty("patients").GetProperty("patients").GetInt32());
        Assert.True(s.GetProperty("responders30").GetProperty("suppressed").GetBoolean()); // 8 responders
        Assert.Equal(JsonValueKind.Null, s.GetProperty("responders30").GetProperty("k").ValueKind);
        Assert.True(s.GetProperty("responders50").GetProperty("suppressed").GetBoolean());
    }

    [SkippableFact]
    public async Task Compare_ByGuidance_GivesEachRateAndTheNewcombeDifference()
    {
        await BuildCohortAsync();

        var body = await App.Auditor().GetFromJsonAsync<JsonElement>("/api/v1/cohorts/compare?by=guidance&a=emg&b=palpation", OutcomesApp.Json);

        var groups = body.GetProperty("groups").EnumerateArray()
            .ToDictionary(g => g.GetProperty("group").GetString()!, g => g.GetProperty("rate"));
        Assert.Equal((5, 8), (groups["emg"].GetProperty("k").GetInt32(), groups["emg"].GetProperty("n").GetInt32()));
        Assert.Equal((3, 6), (groups["palpation"].GetProperty("k").GetInt32(), groups["palpation"].GetProperty("n").GetInt32()));
        // R, from the two prop.test(correct = FALSE) Wilson intervals with Newcombe's method 10: 0.125 (-0.321664, 0.517813).
        var d = body.GetProperty("difference");
        Assert.Equal(0.125, d.GetProperty("estimate").GetDouble(), 10);
        Assert.Equal(-0.321664, d.GetProperty("lower").GetDouble(), 6);
        Assert.Equal(0.517813, d.GetProperty("upper").GetDouble(), 6);
    }

    [SkippableFact]
    public async Task Duration_CountsRespondersCycles_CensoredAtTheirLastReport()
    {
        await BuildCohortAsync();

        var body = await App.Auditor().GetFromJsonAsync<JsonElement>("/api/v1/cohorts/duration", OutcomesApp.Json);

        // 8 responders, onset on day 7, last report on day 84: 8 cycles censored at 77 days, no loss.
        var duration = body.GetProperty("duration");
        Assert.Equal(8, duration.GetProperty("cycles").GetProperty("cycles").GetInt32());
        Assert.Equal(0, duration.GetProperty("losses").GetProperty("cycles").GetInt32());
        Assert.Equal(JsonValueKind.Null, duration.GetProperty("medianDays").ValueKind);
        var week4 = duration.GetProperty("curve")[0];
        Assert.Equal((4, 8, 1.0), (week4.GetProperty("week").GetInt32(), week4.GetProperty("atRisk").GetInt32(), week4.GetProperty("survival").GetDouble()));
    }

    [SkippableFact]
    public async Task OverTime_GroupsByQuarter()
    {
        await BuildCohortAsync();

        var body = await App.Auditor().GetFromJsonAsync<JsonElement>("/api/v1/cohorts/over-time", OutcomesApp.Json);

        var quarter = body.GetProperty("quarters").EnumerateArray().Single();
        Assert.Equal("2025-Q1", quarter.GetProperty("group").GetString());
        Assert.Equal(8, quarter.GetProperty("rate").GetProperty("k").GetInt32());
    }

    [SkippableFact]
    public async Task Export_IsPseudonymousCsv_StablePerSalt()
    {
        var (_, references) = await BuildCohortAsync();

        var first = await App.Auditor().GetStringAsync("/api/v1/cohorts/export.csv?salt=salt-one-0123456789");
        var again = await App.Auditor().GetStringAsync("/api/v1/cohorts/export.csv?salt=salt-one-0123456789");
        var other = await App.Auditor().GetStringAsync("/api/v1/cohorts/export.csv?salt=salt-two-0123456789");

        var lines = first.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(16, lines.Length); // header and 15 cycles
        Assert.StartsWith("patient_key,cycle,session_quarter", lines[0], StringComparison.Ordinal);
        Assert.Equal(first, again);
        Assert.NotEqual(lines[1].Split(',')[0], other.Split('\n')[1].Split(',')[0]);
        Assert.All(references, r => Assert.DoesNotContain(r, first, StringComparison.Ordinal));
        Assert.DoesNotContain("1970", first, StringComparison.Ordinal);      // birth year
        Assert.DoesNotContain("2025-03-03", first, StringComparison.Ordinal); // session date
        Assert.Contains(",2025-Q1,", lines[1], StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task RatesOnlyReading_GivesTheSameRatesAsReadingEverything()
    {
        _threshold = 0;
        await Outcomes.Api.Features.DemoData.DemoDataCommand.GenerateAsync(
            App.Services.GetRequiredService<Database>(), TimeProvider.System, 150, seed: 5, CancellationToken.None);
        using var scope = App.Services.CreateScope();
        var cohorts = scope.ServiceProvider.GetRequiredService<CohortService>();

        foreach (var week in new[] { 2, 6, 12, 24 })
        {
            var (spec, _) = await cohorts.ParseAsync(new CohortQuery(null, null, null, null, null, null, null, null, null, null, null, null, null, null, week), default);
            var windowed = (await cohorts.AggregateAsync(spec!, default, ratesOnly: true)).Summarise(0);
            var full = (await cohorts.AggregateAsync(spec!, default)).Summarise(0);

            Assert.Equal(JsonSerializer.Serialize(full), JsonSerializer.Serialize(windowed));
            Assert.True(full.WithValue.Cycles > 100, $"week {week}: a real cohort ({full.WithValue.Cycles} cycles with a value)");
        }
    }

    [SkippableFact]
    public async Task EveryCall_IsAudited_WithItsFilters()
    {
        await App.Auditor().GetAsync("/api/v1/cohorts/outcomes?guidance=emg&week=6");

        await using var connection = await App.OpenDatabaseAsync();
        var detail = await connection.QuerySingleAsync<string>("SELECT detail FROM audit_event WHERE action = 'cohort_outcomes'");
        Assert.Contains("\"guidance\":\"emg\"", detail, StringComparison.Ordinal);
        Assert.Contains("\"week\":6", detail, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task BadFilters_Return400NamingEach()
    {
        var response = await App.Auditor().GetAsync("/api/v1/cohorts/outcomes?minUnits=50&week=5&guidance=needle&measure=shoe_size");

        await ProblemAssert.IsValidationProblem(response, "guidance", "measure", "product", "week");
    }

    [SkippableTheory]
    [InlineData("practitioner")]
    [InlineData("patient")]
    public async Task Cohorts_AreForAuditorsAndAdminsOnly(string role)
    {
        var client = role == "practitioner" ? App.Practitioner(1) : App.Patient(1);

        await ProblemAssert.IsProblem(await client.GetAsync("/api/v1/cohorts/outcomes"), HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblem(await client.GetAsync("/api/v1/cohorts/export.csv?salt=0123456789abcdefg"), HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.OK, (await App.Admin().GetAsync("/api/v1/cohorts/outcomes")).StatusCode);
    }
}

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

    /// <summary>The practitioner of the cohort <see cref="BuildCohortAsync"/> made.</summary>
    private long _practitionerId;

    /// <summary>The patients <see cref="BuildCohortAsync"/> made, with their guidance and planned response.</summary>
    private readonly List<(long PatientId, string Guidance, bool? Responder)> _built = [];

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
    /// 17 patients, one session each on 2025-03-03 (EMG or palpation), baseline pain 8 on 03-01.
    /// Responders score 3 on day 7 and day 84 (week 12); non-responders 7 on both; three EMG patients
    /// (<paramref name="withoutValue"/>) have no score after the session. EMG: 5 responders, 3 non-responders,
    /// 3 without a value; palpation: 3 and 3.
    /// </summary>
    private async Task<(long SiteId, List<string> References)> BuildCohortAsync(int withoutValue = 3)
    {
        var siteId = await App.CreateSiteAsync();
        var practitionerId = _practitionerId = await App.CreatePractitionerAsync(siteId);
        var practitioner = App.Practitioner(siteId);
        var references = new List<string>();
        var plan = new List<(string Guidance, bool? Responder)>();
        plan.AddRange(Enumerable.Repeat(("emg", (bool?)true), 5));
        plan.AddRange(Enumerable.Repeat(("emg", (bool?)false), 3));
        plan.AddRange(Enumerable.Repeat(("emg", (bool?)null), withoutValue));
        plan.AddRange(Enumerable.Repeat(("palpation", (bool?)true), 3));
        plan.AddRange(Enumerable.Repeat(("palpation", (bool?)false), 3));
        foreach (var (guidance, responder) in plan)
        {
            var reference = $"COH-{Guid.NewGuid():N}"[..14];
            references.Add(reference);
            var patientId = await App.CreatePatientAsync(siteId, reference, condition: "neckShoulderPain");
            _built.Add((patientId, guidance, responder));
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
        Assert.Equal(17, s.GetProperty("patients").GetProperty("patients").GetInt32());
        Assert.Equal(17, s.GetProperty("cycles").GetProperty("cycles").GetInt32());
        Assert.Equal(14, s.GetProperty("withValue").GetProperty("cycles").GetInt32());
        Assert.Equal(3, s.GetProperty("noValueInWindow").GetProperty("cycles").GetInt32());
        // 8 responders of 14: Wilson 0.325906 .. 0.786192 (R: prop.test(8, 14, correct = FALSE)$conf.int).
        var rate = s.GetProperty("responders30");
        Assert.Equal((8, 14), (rate.GetProperty("k").GetInt32(), rate.GetProperty("n").GetInt32()));
        Assert.Equal(0.325906, rate.GetProperty("lower").GetDouble(), 6);
        Assert.Equal(0.786192, rate.GetProperty("upper").GetDouble(), 6);
        // Mean change: 8 x (3 - 8) + 6 x (7 - 8) = -46 over 14.
        Assert.Equal(-46.0 / 14, s.GetProperty("meanChange").GetProperty("mean").GetDouble(), 10);
    }

    [SkippableFact]
    public async Task Outcomes_WithholdEveryFigureWhoseNIsAWithheldCell()
    {
        // One cycle without a value (small): the 14 with a value go with it, and so must every figure whose n
        // they are; before, meanChange.n showed 14 and gave the small cell back as 15 - 14.
        await BuildCohortAsync(withoutValue: 1);

        var s = (await App.Auditor().GetFromJsonAsync<JsonElement>("/api/v1/cohorts/outcomes", OutcomesApp.Json)).GetProperty("summary");

        Assert.Equal(15, s.GetProperty("cycles").GetProperty("cycles").GetInt32());
        Assert.True(s.GetProperty("withValue").GetProperty("suppressed").GetBoolean());
        foreach (var figure in new[] { "responders30", "responders50", "respondersImportantChange", "meanChange", "medianChange" })
        {
            Assert.True(s.GetProperty(figure).GetProperty("suppressed").GetBoolean(), figure);
            Assert.Equal(JsonValueKind.Null, s.GetProperty(figure).GetProperty("n").ValueKind);
        }
    }

    [SkippableFact]
    public async Task Compare_NeverLeavesAWithheldGroupToBeRecoveredFromTheTotal()
    {
        // Site A: the 17 of the cohort, whose rate is withheld at threshold 3 (three cycles without a value take the
        // complete cases with them); site B: one patient. Before, site A's 17 cycles stayed beside its withheld rate,
        // and the cohort's 18 gave site B's 1 back.
        _threshold = 3;
        var (siteA, _) = await BuildCohortAsync();
        var siteB = await AddLonePatientAsync();

        var total = (await App.Auditor().GetFromJsonAsync<JsonElement>("/api/v1/cohorts/outcomes", OutcomesApp.Json)).GetProperty("summary");
        var compare = await App.Auditor().GetFromJsonAsync<JsonElement>("/api/v1/cohorts/compare?by=site", OutcomesApp.Json);

        Assert.Equal(18, total.GetProperty("cycles").GetProperty("cycles").GetInt32());
        var groups = compare.GetProperty("groups").EnumerateArray().ToDictionary(g => g.GetProperty("group").GetString()!);
        Assert.Equal([$"{siteA}", $"{siteB}"], groups.Keys.Order(StringComparer.Ordinal).ToList());
        Assert.All(groups.Values, g => Assert.Equal(JsonValueKind.Null, g.GetProperty("cycles").GetProperty("cycles").ValueKind));
    }

    /// <summary>A patient alone at a site of their own, treated on 2025-03-03 by its practitioner, responding, with a serious side effect.</summary>
    private async Task<long> AddLonePatientAsync()
    {
        var siteId = await App.CreateSiteAsync();
        var practitionerId = await App.CreatePractitionerAsync(siteId);
        var patientId = await App.CreatePatientAsync(siteId, condition: "neckShoulderPain");
        var session = await App.Practitioner(siteId).PostAsJsonAsync($"/api/v1/patients/{patientId}/treatment-sessions", new
        {
            submissionId = Guid.NewGuid(), sessionDate = "2025-03-03", practitionerId, product = "onabotulinumtoxinA", guidance = "emg", dilutionUnitsPerMl = 50,
            injectionSites = new[] { new { muscle = "upper_trapezius", side = "left", units = 40 } },
        }, OutcomesApp.Json);
        Assert.Equal(HttpStatusCode.Created, session.StatusCode);
        var patient = App.Patient(patientId);
        foreach (var (day, score) in new[] { ("2025-03-01", 8), ("2025-03-10", 3), ("2025-05-26", 3) })
        {
            var posted = await patient.PostAsJsonAsync($"/api/v1/patients/{patientId}/pain-scores", new
            {
                submissionId = Guid.NewGuid(), answeredAt = $"{day}T18:00:00Z", score, recall = "average7Days",
            }, OutcomesApp.Json);
            Assert.Equal(HttpStatusCode.Created, posted.StatusCode);
        }
        var effect = await patient.PostAsJsonAsync($"/api/v1/patients/{patientId}/side-effects", new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-03-06T10:00:00Z", effect = "difficultySwallowing", severity = "moderate", onsetOn = "2025-03-06",
        }, OutcomesApp.Json);
        Assert.Equal(HttpStatusCode.Created, effect.StatusCode);
        return siteId;
    }

    [SkippableFact]
    public async Task Export_IsKAnonymous_GeneralisingWhatWouldSingleAPatientOut()
    {
        // The lone patient at site B (with the serious side effect) would be a row of their own; k = threshold + 1 = 3.
        var (siteA, _) = await BuildCohortAsync();
        var siteB = await AddLonePatientAsync();

        var response = await App.Auditor().GetAsync("/api/v1/cohorts/export.csv?salt=salt-one-0123456789");
        var csv = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("3", response.Headers.GetValues("Outcomes-K-Anonymity").Single());
        Assert.Equal("practitioner, site", response.Headers.GetValues("Outcomes-Generalised").Single());
        Assert.Equal("0", response.Headers.GetValues("Outcomes-Suppressed-Rows").Single());
        var rows = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(18, rows.Count);
        // Quasi-identifiers: session_quarter, site_id, practitioner_id, sex, age_band, conditions (columns 2, 7-11).
        var classes = rows.GroupBy(r => string.Join('|', r[2], r[7], r[8], r[9], r[10], r[11]));
        Assert.All(classes, c => Assert.True(c.Select(r => r[0]).Distinct().Count() >= 3, c.Key));
        Assert.All(rows, r => Assert.Equal(("*", "*"), (r[7], r[8])));
        Assert.Equal(1, rows.Count(r => r[^1] == "1"));

        // The full pseudonymous export is an admin's, and audited as such.
        var full = await App.Admin().GetStringAsync("/api/v1/cohorts/export.csv?salt=salt-one-0123456789&full=true");
        Assert.Contains($",{siteB},", full, StringComparison.Ordinal);
        Assert.Contains($",{siteA},", full, StringComparison.Ordinal);
        Assert.Equal(1, await App.CountAuditAsync("cohort_export_full", "cohort", null));
        var refused = await App.Auditor().GetAsync("/api/v1/cohorts/export.csv?salt=salt-one-0123456789&full=true");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(1, await App.CountAuditAsync("cohort_export_full", "cohort", null, outcome: "denied"));
    }

    [SkippableFact]
    public async Task FirstCycleOnly_CountsEachPatientOnce()
    {
        _threshold = 0;
        await BuildCohortAsync();
        // A second session for the first EMG responder: a second cycle of the same patient.
        var (patientId, _, _) = _built[0];
        var siteId = (await App.Admin().GetFromJsonAsync<JsonElement>($"/api/v1/patients/{patientId}", OutcomesApp.Json)).GetProperty("siteId").GetInt64();
        var again = await App.Practitioner(siteId).PostAsJsonAsync($"/api/v1/patients/{patientId}/treatment-sessions", new
        {
            submissionId = Guid.NewGuid(), sessionDate = "2025-07-01", practitionerId = _practitionerId, product = "onabotulinumtoxinA", guidance = "emg", dilutionUnitsPerMl = 50,
            injectionSites = new[] { new { muscle = "upper_trapezius", side = "left", units = 40 } },
        }, OutcomesApp.Json);
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);

        var cycles = await App.Auditor().GetFromJsonAsync<JsonElement>("/api/v1/cohorts/outcomes", OutcomesApp.Json);
        var first = await App.Auditor().GetFromJsonAsync<JsonElement>("/api/v1/cohorts/outcomes?firstCycleOnly=true", OutcomesApp.Json);

        Assert.Equal(18, cycles.GetProperty("summary").GetProperty("cycles").GetProperty("cycles").GetInt32());
        Assert.Equal(17, first.GetProperty("summary").GetProperty("cycles").GetProperty("cycles").GetInt32());
        Assert.Contains("first", first.GetProperty("unitOfAnalysis").GetString(), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Outcomes_AtTheDefaultThreshold_ShowNoCellOfTenOrFewerPatients()
    {
        _threshold = 10;
        await BuildCohortAsync();

        var body = await App.Auditor().GetFromJsonAsync<JsonElement>("/api/v1/cohorts/outcomes", OutcomesApp.Json);

        var s = body.GetProperty("summary");
        Assert.Equal(17, s.GetProperty("patients").GetProperty("patients").GetInt32());
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
        Assert.Equal(18, lines.Length); // header and 17 cycles
        Assert.StartsWith("patient_key,cycle,session_quarter", lines[0], StringComparison.Ordinal);
        Assert.Equal(first, again);
        Assert.NotEqual(lines[1].Split(',')[0], other.Split('\n')[1].Split(',')[0]);
        Assert.All(references, r => Assert.DoesNotContain(r, first, StringComparison.Ordinal));
        Assert.DoesNotContain("1970", first, StringComparison.Ordinal);      // birth year
        Assert.DoesNotContain("2025-03-03", first, StringComparison.Ordinal); // session date
        Assert.Contains(",2025-Q1,", lines[1], StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Outcomes_FollowAmendmentsAndErrorMarks_MadeAfterAnEarlierQuery()
    {
        await BuildCohortAsync();
        const string Query = "/api/v1/cohorts/outcomes?guidance=emg&week=12";
        var before = (await App.Auditor().GetFromJsonAsync<JsonElement>(Query, OutcomesApp.Json)).GetProperty("summary");
        Assert.Equal((5, 8), KOfN(before.GetProperty("responders30")));

        // One EMG responder's week-12 score is corrected from 3 to 7; another's is marked entered in error.
        var responders = _built.Where(b => b.Guidance == "emg" && b.Responder == true).Select(b => b.PatientId).ToList();
        var amended = await App.Patient(responders[0]).PostAsJsonAsync($"/api/v1/patients/{responders[0]}/pain-scores", new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-05-26T18:00:00Z", score = 7, recall = "average7Days",
            amends = await WeekTwelveScoreAsync(responders[0]), reason = "scored the wrong week",
        }, OutcomesApp.Json);
        Assert.Equal(HttpStatusCode.Created, amended.StatusCode);
        var marked = await App.Patient(responders[1]).PostAsJsonAsync(
            $"/api/v1/patients/{responders[1]}/observations/{await WeekTwelveScoreAsync(responders[1])}/entered-in-error",
            new { submissionId = Guid.NewGuid(), reason = "not mine" }, OutcomesApp.Json);
        Assert.Equal(HttpStatusCode.Created, marked.StatusCode);

        var after = (await App.Auditor().GetFromJsonAsync<JsonElement>(Query, OutcomesApp.Json)).GetProperty("summary");
        Assert.Equal((3, 7), KOfN(after.GetProperty("responders30")));
    }

    [SkippableFact]
    public async Task SideEffectRates_CountCurrentReportsWithinTheCycle()
    {
        _threshold = 0;
        await BuildCohortAsync();
        var p = _built.Select(b => b.PatientId).ToList();
        async Task<long> ReportAsync(long patientId, string day, string effect, string severity)
        {
            var response = await App.Patient(patientId).PostAsJsonAsync($"/api/v1/patients/{patientId}/side-effects", new
            {
                submissionId = Guid.NewGuid(), answeredAt = $"{day}T10:00:00Z", effect, severity, onsetOn = day,
            }, OutcomesApp.Json);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            return (await response.Content.ReadFromJsonAsync<JsonElement>(OutcomesApp.Json)).GetProperty("id").GetInt64();
        }

        // In the cycle (after the session on 2025-03-03): patients 0, 1 and 2; patient 2's is serious (dysphagia, moderate).
        await ReportAsync(p[0], "2025-03-05", "bruising", "mild");
        await ReportAsync(p[1], "2025-03-06", "headache", "mild");
        await ReportAsync(p[1], "2025-03-07", "bruising", "mild");
        await ReportAsync(p[2], "2025-03-06", "difficultySwallowing", "moderate");
        // Not counted: patient 3's report is before the session; patient 4's is marked entered in error.
        await ReportAsync(p[3], "2025-02-20", "bruising", "mild");
        var mistaken = await ReportAsync(p[4], "2025-03-05", "difficultySwallowing", "severe");
        var marked = await App.Patient(p[4]).PostAsJsonAsync($"/api/v1/patients/{p[4]}/observations/{mistaken}/entered-in-error",
            new { submissionId = Guid.NewGuid(), reason = "wrong patient" }, OutcomesApp.Json);
        Assert.Equal(HttpStatusCode.Created, marked.StatusCode);

        var s = (await App.Auditor().GetFromJsonAsync<JsonElement>("/api/v1/cohorts/outcomes", OutcomesApp.Json)).GetProperty("summary");

        Assert.Equal((3, 17), KOfN(s.GetProperty("sideEffects")));
        Assert.Equal((1, 17), KOfN(s.GetProperty("seriousSideEffects")));
    }

    [SkippableFact]
    public async Task Series_HoldExactlyTheCurrentValues_AndAWriteDuringARebuildIsNotLost()
    {
        await BuildCohortAsync();
        var refresher = App.Services.GetRequiredService<SeriesRefresher>();
        var patientId = _built[0].PatientId;
        var landed = false;
        refresher.AfterRead = async () =>
        {
            if (landed)
            {
                return;
            }
            landed = true;
            // A score written after the rebuild has read the observations, before it writes the series.
            var posted = await App.Patient(patientId).PostAsJsonAsync($"/api/v1/patients/{patientId}/pain-scores", new
            {
                submissionId = Guid.NewGuid(), answeredAt = "2025-06-02T18:00:00Z", score = 2, recall = "average7Days",
            }, OutcomesApp.Json);
            Assert.Equal(HttpStatusCode.Created, posted.StatusCode);
        };

        await refresher.RefreshAsync(default);

        await using var connection = await App.OpenDatabaseAsync();
        Assert.Equal([patientId], await connection.QueryAsync<long>("SELECT patient_id FROM series_stale"));
        Assert.Equal(3, (await StoredSeriesAsync(connection, patientId)).Count); // the rebuild's read, without the late score

        await refresher.RefreshAsync(default);

        Assert.Empty(await connection.QueryAsync<long>("SELECT patient_id FROM series_stale"));
        foreach (var built in _built)
        {
            // Independent of the rebuild's query: every row of the patient's pain scores, current ones picked here.
            var rows = (await connection.QueryAsync<ScoreRow>(
                "SELECT id, supersedes_id, entered_in_error, answered_at, value FROM observation WHERE patient_id = @Id AND kind = 'painScore' ORDER BY id",
                new { Id = built.PatientId })).ToList();
            var superseded = rows.Where(r => r.SupersedesId is not null).Select(r => r.SupersedesId!.Value).ToHashSet();
            var expected = rows.Where(r => !r.EnteredInError && !superseded.Contains(r.Id))
                .Select(r => new Outcomes.Core.Outcomes.Point(DateOnly.FromDateTime(r.AnsweredAt.UtcDateTime), r.Value))
                .OrderBy(p => p.Day)
                .ToList();
            Assert.Equal(expected, await StoredSeriesAsync(connection, built.PatientId));
        }
        Assert.Equal(4, (await StoredSeriesAsync(connection, patientId)).Count);
    }

    private sealed class ScoreRow
    {
        public long Id { get; init; }
        public long? SupersedesId { get; init; }
        public bool EnteredInError { get; init; }
        public DateTimeOffset AnsweredAt { get; init; }
        public decimal Value { get; init; }
    }

    private static async Task<List<Outcomes.Core.Outcomes.Point>> StoredSeriesAsync(System.Data.Common.DbConnection connection, long patientId)
    {
        var layout = await SeriesSteps.PainSeriesLayoutAsync(connection, patientId, new SeriesOptions().SegmentPoints);
        return layout is null ? [] : Outcomes.Core.Outcomes.PointSeries.Decode(layout.Whole);
    }

    private async Task<long> WeekTwelveScoreAsync(long patientId)
    {
        var list = await App.Patient(patientId).GetFromJsonAsync<JsonElement>($"/api/v1/patients/{patientId}/observations", OutcomesApp.Json);
        return list.GetProperty("items").EnumerateArray()
            .Single(i => i.GetProperty("answeredAt").GetString()!.StartsWith("2025-05-26", StringComparison.Ordinal))
            .GetProperty("id").GetInt64();
    }

    private static (int K, int N) KOfN(JsonElement rate) => (rate.GetProperty("k").GetInt32(), rate.GetProperty("n").GetInt32());

    [SkippableFact]
    public async Task EveryCall_IsAudited_WithItsFilters()
    {
        await App.Auditor().GetAsync("/api/v1/cohorts/outcomes?guidance=emg&week=6");

        await using var connection = await App.OpenDatabaseAsync();
        var detail = await connection.QuerySingleAsync<string>("SELECT detail FROM audit_event WHERE action = 'cohort_outcomes'");
        Assert.Contains("\"guidance\":\"emg\"", detail, StringComparison.Ordinal);
        Assert.Contains("\"week\":6", detail, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [InlineData("/api/v1/cohorts/outcomes?minAge=-5&maxAge=200", "minAge,maxAge")]
    [InlineData("/api/v1/cohorts/outcomes?product=onabotulinumtoxinA&minUnits=0", "minUnits")]
    [InlineData("/api/v1/cohorts/compare?by=guidance&a=laser&b=emg", "a")]
    [InlineData("/api/v1/cohorts/compare?by=cycle&a=first&b=third", "b")]
    [InlineData("/api/v1/cohorts/compare?by=site&a=one&b=2", "a")]
    [InlineData("/api/v1/cohorts/compare?by=doseBand&a=50-99&b=100-199", "a,b")]
    public async Task FiltersAndGroupsOutsideTheirDomain_Return400NamingEach(string path, string fields)
    {
        var response = await App.Auditor().GetAsync(path);

        await ProblemAssert.IsValidationProblem(response, fields.Split(','));
    }

    [SkippableFact]
    public async Task Compare_ByDoseBand_TakesTheShortFormWithAProduct()
    {
        await BuildCohortAsync();

        var response = await App.Auditor().GetAsync("/api/v1/cohorts/compare?by=doseBand&product=onabotulinumtoxinA&a=<50&b=50-99");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await PatientFixture.BodyAsync(response);
        Assert.Equal("onabotulinumtoxinA <50", body.GetProperty("difference").GetProperty("a").GetString());
        Assert.Equal("onabotulinumtoxinA 50-99", body.GetProperty("difference").GetProperty("b").GetString());
        // Every session of the cohort has 40 units: the <50 band holds the 14 cycles with a value.
        var groups = body.GetProperty("groups").EnumerateArray().ToList();
        Assert.Equal("onabotulinumtoxinA <50", Assert.Single(groups).GetProperty("group").GetString());
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

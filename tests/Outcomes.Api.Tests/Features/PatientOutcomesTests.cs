using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Xml.Linq;
using Microsoft.Extensions.DependencyInjection;
using Outcomes.Api.Data;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Features;

public abstract class PatientOutcomesTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : PatientOutcomesTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : PatientOutcomesTests(DatabaseProvider.SqlServer);

    protected override Action<IServiceCollection>? ConfigureServices => services =>
        services.AddSingleton<TimeProvider>(new FixedClock(new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero)));

    private static async Task<long> PainAsync(PatientFixture f, string day, int score, long? amends = null, string? reason = null)
    {
        var response = await f.PostAsync(f.Patient, "pain-scores", new
        {
            submissionId = Guid.NewGuid(), answeredAt = $"{day}T18:00:00Z", score, recall = "average7Days", amends, reason,
        });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await PatientFixture.BodyAsync(response)).GetProperty("id").GetInt64();
    }

    private static async Task SessionAsync(PatientFixture f, string date)
    {
        var response = await f.Practitioner.PostAsJsonAsync(f.PathOf("treatment-sessions"), new
        {
            submissionId = Guid.NewGuid(), sessionDate = date, practitionerId = f.PractitionerId, product = "onabotulinumtoxinA", guidance = "emg", dilutionUnitsPerMl = 50,
            injectionSites = new[] { new { muscle = "upper_trapezius", side = "left", units = 25 } },
        }, OutcomesApp.Json);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    /// <summary>
    /// Session 2025-03-01. Baseline window 02-15 .. 03-01: 02-20 = 8 and 02-27 = 6 (its first entry, 9, was
    /// amended to 6; an entered-in-error 1 on 02-28 does not count): baseline (8 + 6) / 2 = 7.
    /// After: 03-04 = 6 (14%), 03-08 = 4 (43%: onset, day 7), 03-14 = 3 and 03-16 = 3 (two in one week; week 2
    /// target 03-15: 03-14 is one day off, as is 03-16: the earlier wins).
    /// </summary>
    private async Task<PatientFixture> HistoryAsync()
    {
        var f = await PatientFixture.CreateAsync(App);
        await SessionAsync(f, "2025-03-01");
        await PainAsync(f, "2025-02-20", 8);
        var mistyped = await PainAsync(f, "2025-02-27", 9);
        await PainAsync(f, "2025-02-27", 6, amends: mistyped, reason: "meant 6");
        var wrong = await PainAsync(f, "2025-02-28", 1);
        var withdrawn = await f.Patient.PostAsJsonAsync($"{f.PathOf("observations")}/{wrong}/entered-in-error",
            new { submissionId = Guid.NewGuid(), reason = "not mine" }, OutcomesApp.Json);
        Assert.Equal(HttpStatusCode.Created, withdrawn.StatusCode);
        await PainAsync(f, "2025-03-04", 6);
        await PainAsync(f, "2025-03-08", 4);
        await PainAsync(f, "2025-03-14", 3);
        await PainAsync(f, "2025-03-16", 3);
        return f;
    }

    [SkippableFact]
    public async Task Outcomes_UseCurrentVersionsOnly_AndFollowTheDefinitions()
    {
        var f = await HistoryAsync();

        var outcomes = await f.Practitioner.GetFromJsonAsync<JsonElement>(f.PathOf("outcomes"), OutcomesApp.Json);

        var pain = outcomes.GetProperty("measures").EnumerateArray().Single(m => m.GetProperty("measure").GetString() == "pain_nrs");
        var cycle = pain.GetProperty("cycles")[0];
        Assert.Equal(7m, cycle.GetProperty("baseline").GetProperty("value").GetDecimal());
        Assert.Equal(["2025-02-20", "2025-02-27"], cycle.GetProperty("baseline").GetProperty("used").EnumerateArray().Select(u => u.GetProperty("day").GetString()));
        var week2 = cycle.GetProperty("windows")[0];
        Assert.Equal("2025-03-14", week2.GetProperty("value").GetProperty("day").GetString());
        Assert.Equal(57.14m, week2.GetProperty("change").GetProperty("improvementPercent").GetDecimal()); // (7 - 3) / 7
        Assert.True(week2.GetProperty("change").GetProperty("responder50").GetBoolean());
        Assert.Equal(7, cycle.GetProperty("onsetDays").GetInt32());
        Assert.Equal("responding", cycle.GetProperty("status").GetString());
        // Week 12 (05-21 .. 05-31) passed with nothing in it; today is 2025-06-01.
        Assert.Equal("noValueInWindow", cycle.GetProperty("windows")[2].GetProperty("status").GetString());
        Assert.Equal("notYetReached", cycle.GetProperty("windows")[3].GetProperty("status").GetString());
        Assert.Equal(14, outcomes.GetProperty("baseline").GetProperty("windowDays").GetInt32());
    }

    [SkippableFact]
    public async Task Outcomes_ForOneMeasureAndTheLatestCycles_AreThoseOfTheWholeAnswer()
    {
        var f = await HistoryAsync();
        await SessionAsync(f, "2025-04-15");
        var rom = await f.PostAsync(f.Practitioner, "range-of-motion", new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-03-10T10:00:00Z", movement = "cervical_flexion", degrees = 41.5m, method = "goniometer",
        });
        Assert.Equal(HttpStatusCode.Created, rom.StatusCode);

        var all = await f.Practitioner.GetFromJsonAsync<JsonElement>(f.PathOf("outcomes"), OutcomesApp.Json);
        var one = await f.Practitioner.GetFromJsonAsync<JsonElement>(f.PathOf("outcomes") + "?measure=pain_nrs&cycles=1", OutcomesApp.Json);

        Assert.Equal(2, all.GetProperty("measures").GetArrayLength());
        var pain = Assert.Single(one.GetProperty("measures").EnumerateArray());
        Assert.Equal("pain_nrs", pain.GetProperty("measure").GetString());
        var allPain = all.GetProperty("measures").EnumerateArray().Single(m => m.GetProperty("measure").GetString() == "pain_nrs");
        // The latest cycle is the whole answer's last one, judged the same way.
        Assert.Equal(allPain.GetProperty("cycles")[1].GetRawText(), Assert.Single(pain.GetProperty("cycles").EnumerateArray()).GetRawText());
        Assert.Equal(["2025-04-15"], one.GetProperty("sessions").EnumerateArray().Select(s => s.GetProperty("date").GetString()));
        await ProblemAssert.IsValidationProblem(await f.Practitioner.GetAsync(f.PathOf("outcomes") + "?cycles=0"), "cycles");
        await ProblemAssert.IsValidationProblem(await f.Practitioner.GetAsync(f.PathOf("outcomes") + "?measure=shoe_size"), "measure");
    }

    [SkippableFact]
    public async Task Answers_AreCompressed_ForClientsThatAskForIt()
    {
        var f = await HistoryAsync();
        using var plain = App.Practitioner(f.SiteId);
        using var request = new HttpRequestMessage(HttpMethod.Get, f.PathOf("outcomes"));
        request.Headers.AcceptEncoding.ParseAdd("br");

        var identity = await plain.GetByteArrayAsync(f.PathOf("outcomes"));
        using var compressed = await plain.SendAsync(request);
        var body = await compressed.Content.ReadAsByteArrayAsync();

        Assert.Equal("br", Assert.Single(compressed.Content.Headers.ContentEncoding));
        Assert.True(body.Length < identity.Length / 2, $"{body.Length} compressed bytes of {identity.Length}");
        using var decoded = new System.IO.Compression.BrotliStream(new MemoryStream(body), System.IO.Compression.CompressionMode.Decompress);
        using var text = new StreamReader(decoded);
        Assert.Equal(System.Text.Encoding.UTF8.GetString(identity), await text.ReadToEndAsync());
    }

    [SkippableFact]
    public async Task TrendAndOutcomes_AreTheSame_FromTheStoredSeriesAndFromTheObservations()
    {
        var f = await HistoryAsync();
        var rom = await f.PostAsync(f.Practitioner, "range-of-motion", new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-03-10T10:00:00Z", movement = "cervical_flexion", degrees = 41.5m, method = "goniometer",
        });
        Assert.Equal(HttpStatusCode.Created, rom.StatusCode);
        string[] paths = [f.PathOf("trend") + "?measure=pain_nrs", f.PathOf("trend") + "?measure=cervical_flexion", f.PathOf("trend") + "?measure=ndi", f.PathOf("outcomes"),
            "/api/v1/patients/summaries"];
        async Task<long> StaleAsync()
        {
            await using var connection = await App.OpenDatabaseAsync();
            return await Dapper.SqlMapper.ExecuteScalarAsync<long>(connection, "SELECT COUNT(*) FROM series_stale WHERE patient_id = @Id", new { Id = f.PatientId });
        }

        // Right after the writes the series are stale: the answers come from the observations.
        Assert.Equal(1, await StaleAsync());
        var fromObservations = await Task.WhenAll(paths.Select(p => f.Practitioner.GetStringAsync(p)));
        await App.Services.GetRequiredService<Outcomes.Api.Features.Cohorts.SeriesRefresher>().RefreshAsync(default);
        Assert.Equal(0, await StaleAsync());
        var fromSeries = await Task.WhenAll(paths.Select(p => f.Practitioner.GetStringAsync(p)));

        Assert.Equal(fromObservations, fromSeries);
        Assert.Contains("\"2025-03-10\"", fromSeries[1], StringComparison.Ordinal); // the flexion value is there
        Assert.Contains("\"currentCycleStatus\":\"responding\"", fromSeries[4], StringComparison.Ordinal); // the list's cycle status is read from the series
    }

    [SkippableFact]
    public async Task Trend_AggregatesWeeks_AndFitsEachCycle()
    {
        var f = await HistoryAsync();

        var trend = await f.Patient.GetFromJsonAsync<JsonElement>(f.PathOf("trend") + "?measure=pain_nrs", OutcomesApp.Json);

        Assert.True(trend.GetProperty("weekly").GetBoolean());
        var series = trend.GetProperty("series").EnumerateArray()
            .Select(p => (p.GetProperty("day").GetString(), p.GetProperty("value").GetDecimal(), p.GetProperty("count").GetInt32())).ToList();
        // ISO weeks: 02-17 (8), 02-24 (6: the 9 was amended, the 1 withdrawn), 03-03 (6 and 4: 5), 03-10 (03-14 and Sunday 03-16: 3).
        Assert.Equal([("2025-02-17", 8m, 1), ("2025-02-24", 6m, 1), ("2025-03-03", 5m, 2), ("2025-03-10", 3m, 2)], series);
        Assert.Equal("2025-03-01", trend.GetProperty("sessions")[0].GetProperty("date").GetString());
        Assert.Equal(2, trend.GetProperty("cycles")[0].GetProperty("points").GetInt32());
    }

    [SkippableFact]
    public async Task Summaries_ShowEachPatientsStateAtAGlance_ForTheOwnSiteOnly()
    {
        var f = await HistoryAsync();
        var quiet = await App.CreatePatientAsync(f.SiteId);
        var otherSite = await App.CreateSiteAsync();
        await App.CreatePatientAsync(otherSite);

        var page = await f.Practitioner.GetFromJsonAsync<JsonElement>("/api/v1/patients/summaries", OutcomesApp.Json);

        var items = page.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal([f.PatientId, quiet], items.Select(i => i.GetProperty("id").GetInt64()));
        var treated = items[0];
        Assert.Equal(3m, treated.GetProperty("latestPainScore").GetDecimal());
        Assert.Equal("2025-03-01", treated.GetProperty("lastSession").GetString());
        Assert.Equal(13, treated.GetProperty("weeksSinceLastSession").GetInt32()); // 2025-03-01 .. 2025-06-01 = 92 days
        Assert.Equal("responding", treated.GetProperty("currentCycleStatus").GetString());
        Assert.Equal(7, treated.GetProperty("currentCycleOnsetDays").GetInt32());
        Assert.Equal(["pain_nrs"], treated.GetProperty("due").EnumerateArray().Select(d => d.GetProperty("instrument").GetString()));
        var untreated = items[1];
        Assert.Equal(JsonValueKind.Null, untreated.GetProperty("latestPainScore").ValueKind);
        Assert.Equal(JsonValueKind.Null, untreated.GetProperty("currentCycleStatus").ValueKind);
    }

    [SkippableFact]
    public async Task Summaries_ReadTheLatestCyclesWholeBaselineWindow_AsTheOutcomesDo()
    {
        // The line reads the pain series from the first day of the latest session's baseline window on (02-15 for a
        // session on 03-01): a score on that day is the baseline, one before it is not.
        var f = await PatientFixture.CreateAsync(App);
        await SessionAsync(f, "2025-03-01");
        await PainAsync(f, "2025-02-01", 2);
        await PainAsync(f, "2025-02-15", 10);
        await PainAsync(f, "2025-03-10", 6);

        var line = (await f.Practitioner.GetFromJsonAsync<JsonElement>("/api/v1/patients/summaries", OutcomesApp.Json))
            .GetProperty("items").EnumerateArray().Single(i => i.GetProperty("id").GetInt64() == f.PatientId);
        var latest = (await f.Practitioner.GetFromJsonAsync<JsonElement>(f.PathOf("outcomes") + "?measure=pain_nrs&cycles=1", OutcomesApp.Json))
            .GetProperty("measures")[0].GetProperty("cycles")[0];

        Assert.Equal(10m, latest.GetProperty("baseline").GetProperty("value").GetDecimal());
        Assert.Equal(("responding", 9), (latest.GetProperty("status").GetString(), latest.GetProperty("onsetDays").GetInt32()));
        Assert.Equal(("responding", 9), (line.GetProperty("currentCycleStatus").GetString(), line.GetProperty("currentCycleOnsetDays").GetInt32()));
    }

    [SkippableFact]
    public async Task Trend_UnknownMeasure_Returns400NamingMeasure()
    {
        var f = await PatientFixture.CreateAsync(App);

        await ProblemAssert.IsValidationProblem(await f.Patient.GetAsync(f.PathOf("trend") + "?measure=shoe_size"), "measure");
    }

    [SkippableFact]
    public async Task Chart_IsAValidPngAndSvg()
    {
        var f = await HistoryAsync();

        var png = await f.Practitioner.GetAsync(f.PathOf("trend.png"));
        var svg = await f.Practitioner.GetAsync(f.PathOf("trend.svg"));

        Assert.Equal("image/png", png.Content.Headers.ContentType!.MediaType);
        var bytes = await png.Content.ReadAsByteArrayAsync();
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A], bytes[..8]);
        // IHDR: width and height, big-endian, at bytes 16..23.
        Assert.Equal(900, (bytes[16] << 24) | (bytes[17] << 16) | (bytes[18] << 8) | bytes[19]);
        Assert.Equal(420, (bytes[20] << 24) | (bytes[21] << 16) | (bytes[22] << 8) | bytes[23]);
        Assert.Equal("image/svg+xml", svg.Content.Headers.ContentType!.MediaType);
        var document = XDocument.Parse(await svg.Content.ReadAsStringAsync());
        Assert.Equal("svg", document.Root!.Name.LocalName);
        Assert.Contains("Baseline", document.ToString(), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Chart_DrawsTheMeasureAskedFor_WithImprovementAboveTheBaselineWhereHigherIsBetter()
    {
        var f = await HistoryAsync();
        foreach (var (day, degrees) in new[] { ("2025-02-25", 40m), ("2025-02-28", 44m), ("2025-03-20", 60m) })
        {
            var rom = await f.PostAsync(f.Practitioner, "range-of-motion", new
            {
                submissionId = Guid.NewGuid(), answeredAt = $"{day}T10:00:00Z", movement = "cervical_rotation_left", degrees, method = "goniometer",
            });
            Assert.Equal(HttpStatusCode.Created, rom.StatusCode);
        }

        var svg = XDocument.Parse(await f.Practitioner.GetStringAsync(f.PathOf("trend.svg") + "?measure=cervical_rotation_left")).ToString();
        var pain = XDocument.Parse(await f.Practitioner.GetStringAsync(f.PathOf("trend.svg"))).ToString();
        var unknown = await f.Practitioner.GetAsync(f.PathOf("trend.png") + "?measure=no_such_measure");

        var trend = await f.Practitioner.GetFromJsonAsync<JsonElement>(f.PathOf("trend") + "?measure=cervical_rotation_left", OutcomesApp.Json);
        Assert.Contains(trend.GetProperty("name").GetString()!, svg, StringComparison.Ordinal);
        Assert.Contains("30% improvement", svg, StringComparison.Ordinal);
        Assert.DoesNotContain("relief", svg, StringComparison.Ordinal);
        Assert.Contains("30% relief", pain, StringComparison.Ordinal);
        await ProblemAssert.IsValidationProblem(unknown, "measure");
    }

    [SkippableTheory]
    [InlineData("outcomes")]
    [InlineData("trend")]
    [InlineData("trend.png")]
    [InlineData("trend.svg")]
    public async Task OtherSitesPractitionerAndOtherPatient_Get404(string path)
    {
        var f = await PatientFixture.CreateAsync(App);
        var otherSite = await App.CreateSiteAsync();
        var otherPatient = await App.CreatePatientAsync(f.SiteId);

        await ProblemAssert.IsProblem(await App.Practitioner(otherSite).GetAsync(f.PathOf(path)), HttpStatusCode.NotFound);
        await ProblemAssert.IsProblem(await App.Patient(otherPatient).GetAsync(f.PathOf(path)), HttpStatusCode.NotFound);
        await ProblemAssert.IsProblem(await App.Auditor().GetAsync(f.PathOf(path)), HttpStatusCode.Forbidden);
    }
}

using System.Net;
using System.Net.Http.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Cohorts;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Features;

/// <summary>
/// A new value that comes after its series' last point is appended to the stored series by the database
/// (migration 0018); anything else marks the patient for a rebuild. The appended series must be exactly
/// what a rebuild from the observations writes: for every kind of observation, and after an amendment,
/// a withdrawal and an out-of-order value.
/// </summary>
public abstract class SeriesAppendTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : SeriesAppendTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : SeriesAppendTests(DatabaseProvider.SqlServer);

    private const int SegmentPoints = 2;

    // No background rebuild: it would clear the marks this test reads. Every tail folded at a refresh,
    // however short, so that the folded series can be compared with the rebuilt one; segments closed at two
    // points, so that a fold closes segments and a rebuild writes them (migration 0022).
    protected override IReadOnlyDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        ["Cohorts:Series:RefreshSeconds"] = "0", ["Cohorts:Series:FoldAtPoints"] = "1", ["Cohorts:Series:SegmentPoints"] = $"{SegmentPoints}",
    };

    private sealed record SeriesRow
    {
        public string Kind { get; init; } = "";
        public string MeasureKey { get; init; } = "";
        public long PointCount { get; init; }

        /// <summary>The whole series: closed segments and open segment (how they are split differs between a fold and a rebuild).</summary>
        public string Points { get; init; } = "";
        public long? LastObservationId { get; init; }
    }

    private sealed class StoredRow
    {
        public long Id { get; init; }
        public string Kind { get; init; } = "";
        public string MeasureKey { get; init; } = "";
        public long PointCount { get; init; }
        public long ClosedCount { get; init; }
        public string Points { get; init; } = "";
        public long? LastObservationId { get; init; }
    }

    private async Task<List<SeriesRow>> SeriesAsync(long patientId)
    {
        await using var connection = await App.OpenDatabaseAsync();
        var rows = await connection.QueryAsync<StoredRow>(
            "SELECT id, kind, measure_key, point_count, closed_count, points, last_observation_id FROM measure_series WHERE patient_id = @Id ORDER BY kind, measure_key",
            new { Id = patientId });
        var series = new List<SeriesRow>();
        foreach (var r in rows)
        {
            series.Add(new SeriesRow
            {
                Kind = r.Kind, MeasureKey = r.MeasureKey, PointCount = r.PointCount, LastObservationId = r.LastObservationId,
                Points = await SeriesSteps.WholeTextAsync(connection, r.Id, r.Kind, r.PointCount, r.ClosedCount, r.Points, SegmentPoints),
            });
        }
        return series;
    }

    private async Task<bool> StaleAsync(long patientId)
    {
        await using var connection = await App.OpenDatabaseAsync();
        return await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM series_stale WHERE patient_id = @Id", new { Id = patientId }) > 0;
    }

    /// <summary>Marks the patient and rebuilds: the reference the appended series is compared with.</summary>
    private async Task<List<SeriesRow>> RebuiltAsync(long patientId)
    {
        await using (var connection = await App.OpenDatabaseAsync())
        {
            await connection.ExecuteAsync(
                "UPDATE series_stale SET generation = generation + 1 WHERE patient_id = @Id; "
                + "INSERT INTO series_stale (patient_id, generation) SELECT @Id, 1 WHERE NOT EXISTS (SELECT 1 FROM series_stale WHERE patient_id = @Id);",
                new { Id = patientId });
        }
        await App.Services.GetRequiredService<SeriesRefresher>().RefreshAsync(default);
        Assert.False(await StaleAsync(patientId));
        return await SeriesAsync(patientId);
    }

    /// <summary>
    /// The series as the appends left them: nothing marked, the new points in tail rows, the patient's
    /// reads the same before and after the tails are folded in; then the folded series.
    /// </summary>
    private async Task<List<SeriesRow>> AppendedAsync(PatientFixture f)
    {
        Assert.False(await StaleAsync(f.PatientId));
        await using (var connection = await App.OpenDatabaseAsync())
        {
            Assert.True(await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM measure_series_tail WHERE patient_id = @Id", new { Id = f.PatientId }) > 0);
        }
        string[] paths = [f.PathOf("outcomes"), f.PathOf("trend") + "?measure=pain_nrs", f.PathOf("trend") + "?measure=ndi", "/api/v1/patients/summaries"];
        var withTails = await Task.WhenAll(paths.Select(p => f.Practitioner.GetStringAsync(p)));
        await App.Services.GetRequiredService<SeriesRefresher>().RefreshAsync(default);
        await using (var connection = await App.OpenDatabaseAsync())
        {
            Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM measure_series_tail"));
        }
        App.Services.GetRequiredService<Outcomes.Api.Features.PatientOutcomes.PatientSummaryCache>().Clear();
        Assert.Equal(withTails, await Task.WhenAll(paths.Select(p => f.Practitioner.GetStringAsync(p))));
        return await SeriesAsync(f.PatientId);
    }

    private static async Task<long> CreatedAsync(Task<HttpResponseMessage> post)
    {
        using var response = await post;
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await PatientFixture.BodyAsync(response)).GetProperty("id").GetInt64();
    }

    private static Task<long> PainAsync(PatientFixture f, string at, int score, string recall = "average7Days", long? amends = null) =>
        CreatedAsync(f.PostAsync(f.Patient, "pain-scores", new
        {
            submissionId = Guid.NewGuid(), answeredAt = at, score, recall, amends, reason = amends is null ? null : "typed the wrong number",
        }));

    /// <summary>One value of every kind the series hold, on the given day: each one appended when it comes last.</summary>
    private static async Task OneOfEachAsync(PatientFixture f, string day, int n)
    {
        await PainAsync(f, $"{day}T08:00:00Z", n % 11);
        await PainAsync(f, $"{day}T08:00:00Z", (n + 3) % 11); // the same instant: after the first by id
        await PainAsync(f, $"{day}T23:59:59.999+00:00", (n + 1) % 11, recall: "worst7Days");
        await CreatedAsync(f.PostAsync(f.Practitioner, "range-of-motion", new
        {
            submissionId = Guid.NewGuid(), answeredAt = $"{day}T09:00:00Z", movement = "cervical_flexion", degrees = 40.5m + n, method = "goniometer",
        }));
        await CreatedAsync(f.PostAsync(f.Practitioner, "pressure-pain-thresholds", new
        {
            submissionId = Guid.NewGuid(), answeredAt = $"{day}T09:30:00Z", muscle = "upper_trapezius", side = "left", kgPerCm2 = 2.45m + n / 10m,
        }));
        await CreatedAsync(f.PostAsync(f.Patient, "questionnaire-responses", new
        {
            submissionId = Guid.NewGuid(), answeredAt = $"{day}T10:00:00Z", instrument = "ndi", version = "1",
            answers = Enumerable.Range(1, 10).Select(i => new { item = $"ndi_{i:D2}", value = (i + n) % 6 }),
        }));
        // Local time late in the evening west of UTC: the next day in UTC, which is the day the series keeps.
        await CreatedAsync(f.PostAsync(f.Patient, "side-effects", new
        {
            submissionId = Guid.NewGuid(), answeredAt = $"{day}T21:00:00-05:00", effect = "bruising", severity = "mild", onsetOn = day,
        }));
        await CreatedAsync(f.PostAsync(f.Patient, "side-effects", new
        {
            submissionId = Guid.NewGuid(), answeredAt = $"{day}T22:00:00-05:00", effect = "difficultySwallowing", severity = "moderate", onsetOn = day,
        }));
    }

    [SkippableFact]
    public async Task AppendedSeries_EqualRebuiltOnes_ForEveryKind_AndAfterAmendmentsAndOutOfOrderValues()
    {
        var f = await PatientFixture.CreateAsync(App);
        // The first value of each measure creates its series: a rebuild.
        await OneOfEachAsync(f, "2025-02-03", 1);
        Assert.True(await StaleAsync(f.PatientId));
        var first = await RebuiltAsync(f.PatientId);
        Assert.Equal(6, first.Count); // pain (two recalls), flexion, threshold, NDI, side effects

        // Later values of every kind: appended, nothing marked.
        await OneOfEachAsync(f, "2025-02-10", 2);
        await OneOfEachAsync(f, "2025-02-17", 3);
        var appended = await AppendedAsync(f);
        Assert.All(appended, s => Assert.Equal(first.Single(r => r.MeasureKey == s.MeasureKey).PointCount * 3, s.PointCount));
        Assert.Equal(await RebuiltAsync(f.PatientId), appended);

        // An amendment of an earlier score marks the patient; after the rebuild, appends go on from it.
        var earlier = await PainAsync(f, "2025-02-24T08:00:00Z", 7);
        await PainAsync(f, "2025-03-03T08:00:00Z", 6);
        Assert.False(await StaleAsync(f.PatientId));
        await PainAsync(f, "2025-02-24T08:00:00Z", 2, amends: earlier); // the tail of the two above is dropped by the rebuild
        Assert.True(await StaleAsync(f.PatientId));
        await App.Services.GetRequiredService<SeriesRefresher>().RefreshAsync(default);
        await OneOfEachAsync(f, "2025-03-10", 4);
        appended = await AppendedAsync(f);
        Assert.Equal(await RebuiltAsync(f.PatientId), appended);
        Assert.Contains("2025-02-24;2|", appended.Single(s => s.MeasureKey == "pain_nrs").Points, StringComparison.Ordinal);

        // A withdrawal of the last value marks too (its series must lose the point).
        var last = await PainAsync(f, "2025-03-11T08:00:00Z", 9);
        var withdrawn = await f.Patient.PostAsJsonAsync($"{f.PathOf("observations")}/{last}/entered-in-error",
            new { submissionId = Guid.NewGuid(), reason = "not mine" }, OutcomesApp.Json);
        Assert.Equal(HttpStatusCode.Created, withdrawn.StatusCode);
        Assert.True(await StaleAsync(f.PatientId));
        await App.Services.GetRequiredService<SeriesRefresher>().RefreshAsync(default);
        Assert.DoesNotContain("2025-03-11", (await SeriesAsync(f.PatientId)).Single(s => s.MeasureKey == "pain_nrs").Points, StringComparison.Ordinal);

        // An out-of-order value (before the last point, sent late from an offline queue) marks; the next ones append again.
        await PainAsync(f, "2025-03-01T08:00:00Z", 5);
        Assert.True(await StaleAsync(f.PatientId));
        await App.Services.GetRequiredService<SeriesRefresher>().RefreshAsync(default);
        await OneOfEachAsync(f, "2025-03-17", 5);
        await PainAsync(f, "2025-03-17T08:00:00Z", 1); // the same instant as the last: after it by id
        appended = await AppendedAsync(f);
        Assert.Equal(await RebuiltAsync(f.PatientId), appended);
        Assert.Contains("2025-02-24;2|2025-03-01;5|2025-03-03;6|", appended.Single(s => s.MeasureKey == "pain_nrs").Points, StringComparison.Ordinal);

        // A session still marks (its series is not appended to), and the rebuild keeps the measures as they were.
        var before = await SeriesAsync(f.PatientId);
        var session = await f.Practitioner.PostAsJsonAsync(f.PathOf("treatment-sessions"), new
        {
            submissionId = Guid.NewGuid(), sessionDate = "2025-03-18", practitionerId = f.PractitionerId, product = "onabotulinumtoxinA", guidance = "emg",
            dilutionUnitsPerMl = 50, injectionSites = new[] { new { muscle = "upper_trapezius", side = "left", units = 25 } },
        }, OutcomesApp.Json);
        Assert.Equal(HttpStatusCode.Created, session.StatusCode);
        Assert.True(await StaleAsync(f.PatientId));
        await App.Services.GetRequiredService<SeriesRefresher>().RefreshAsync(default);
        var after = await SeriesAsync(f.PatientId);
        Assert.Equal(before, after.Where(s => s.Kind != StoredSeries.SessionKind));
    }
}

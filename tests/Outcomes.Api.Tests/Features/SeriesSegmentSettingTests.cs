using Microsoft.Extensions.DependencyInjection;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Cohorts;
using Outcomes.Api.Tests.Infrastructure;

using static Outcomes.Api.Tests.Features.CohortCycleCacheTests;

namespace Outcomes.Api.Tests.Features;

/// <summary>
/// A series stored as one long open segment, as migration 0022 leaves every series written before it (and as a
/// larger <c>Cohorts:Series:SegmentPoints</c> leaves them when the setting is lowered), is read as it is and closed
/// whole by its next fold. A service with segments of 1,000 values writes such series; a service with segments of
/// 4 then takes over the same database: every answer must be the same, before and after the fold that closes the
/// long segment, and after a rebuild that writes segments of 4.
/// </summary>
public abstract class SeriesSegmentSettingTests(DatabaseProvider provider) : IAsyncLifetime
{
    public sealed class OnSqlite() : SeriesSegmentSettingTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : SeriesSegmentSettingTests(DatabaseProvider.SqlServer);

    private TestDatabase? _database;

    public Task InitializeAsync()
    {
        _database = TestDatabase.TryCreate(provider);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }

    private OutcomesApp Start(int segmentPoints) => new(_database!, services =>
    {
        services.AddSingleton<TimeProvider>(new FixedClock(new DateTimeOffset(2025, 9, 1, 12, 0, 0, TimeSpan.Zero)));
        services.Configure<CohortOptions>(o => o.SmallCellThreshold = 0);
    }, new Dictionary<string, string?>
    {
        ["Cohorts:Series:RefreshSeconds"] = "0", ["Cohorts:Series:FoldAtPoints"] = "1", ["Cohorts:CachedCycles"] = "0",
        ["Cohorts:Series:SegmentPoints"] = $"{segmentPoints}",
    });

    private static readonly string[] _cohortQueries = ["/api/v1/cohorts/outcomes", "/api/v1/cohorts/outcomes?week=6", "/api/v1/cohorts/duration"];

    /// <summary>The cohort queries (each refreshes the series first), then each patient's outcomes and pain trend.</summary>
    private static async Task<List<string>> AnswersAsync(OutcomesApp app, IEnumerable<long> patients)
    {
        var answers = new List<string>();
        foreach (var query in _cohortQueries)
        {
            answers.Add(await app.Auditor().GetStringAsync(query));
        }
        foreach (var patientId in patients)
        {
            answers.Add(await app.Admin().GetStringAsync($"/api/v1/patients/{patientId}/outcomes"));
            answers.Add(await app.Admin().GetStringAsync($"/api/v1/patients/{patientId}/trend?measure=pain_nrs"));
        }
        return answers;
    }

    /// <summary>The pain series' layout (point count, closed count, segments' point counts) and whole text, checked by <see cref="SeriesSteps.WholeTextAsync"/>.</summary>
    private static async Task<SeriesSteps.SeriesLayout> PainSeriesAsync(OutcomesApp app, long patientId, int segmentPoints)
    {
        await using var connection = await app.OpenDatabaseAsync();
        return await SeriesSteps.PainSeriesLayoutAsync(connection, patientId, segmentPoints) ?? throw new InvalidOperationException("no pain series");
    }

    private static async Task WeeklyAsync(OutcomesApp app, IEnumerable<long> patients, DateOnly from, int weeks)
    {
        foreach (var patientId in patients)
        {
            for (var w = 0; w < weeks; w++)
            {
                await PainAsync(app, patientId, from.AddDays(7 * w).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), (w + (int)patientId) % 9);
            }
        }
    }

    [SkippableFact]
    public async Task ALongOpenSegment_IsReadAsItIs_AndClosedWholeByTheNextFold()
    {
        Skip.If(_database is null, TestDatabase.SkipReason);
        var patients = new List<long>();
        List<string> written;
        string[] wholeBefore;
        await using (var app = Start(segmentPoints: 1000))
        {
            var siteId = await app.CreateSiteAsync();
            var practitionerId = await app.CreatePractitionerAsync(siteId);
            for (var i = 0; i < 2; i++)
            {
                var patientId = await app.CreatePatientAsync(siteId, condition: "neckShoulderPain");
                patients.Add(patientId);
                await SessionAsync(app, siteId, practitionerId, patientId, "2025-03-03", i == 0 ? "emg" : "palpation");
                await PainAsync(app, patientId, "2025-03-01", 8);
            }
            await app.Services.GetRequiredService<SeriesRefresher>().RefreshAsync(default);
            // Ten more weekly scores each, appended and folded by the first query into one open segment of 11.
            await WeeklyAsync(app, patients, new DateOnly(2025, 3, 10), 10);
            written = await AnswersAsync(app, patients);
            var layouts = await Task.WhenAll(patients.Select(p => PainSeriesAsync(app, p, segmentPoints: 1000)));
            Assert.All(layouts, l => Assert.Equal((11L, 0L, 0), (l.PointCount, l.ClosedCount, l.Segments.Length)));
            wholeBefore = [.. layouts.Select(l => l.Whole)];
        }

        await using (var app = Start(segmentPoints: 4))
        {
            // The long open segment, read by a service that closes segments at 4.
            Assert.Equal(written, await AnswersAsync(app, patients));

            // One more score each: the fold makes the open segment 12 long and closes it whole.
            await WeeklyAsync(app, patients, new DateOnly(2025, 5, 19), 1);
            var folded = await AnswersAsync(app, patients);
            var layouts = await Task.WhenAll(patients.Select(p => PainSeriesAsync(app, p, segmentPoints: 4)));
            Assert.All(layouts, l => { Assert.Equal((12L, 12L), (l.PointCount, l.ClosedCount)); Assert.Equal([12], l.Segments); });
            Assert.All(patients.Select((_, i) => i), i => Assert.StartsWith(wholeBefore[i] + "|", layouts[i].Whole, StringComparison.Ordinal));
            // The new week is in every answer's trend (the ISO week of 2025-05-19, a Monday).
            Assert.All(folded.Skip(_cohortQueries.Length).Where((_, i) => i % 2 == 1), trend => Assert.Contains("\"2025-05-19\"", trend, StringComparison.Ordinal));

            // Rebuilt: three segments of 4, nothing open; the same series and the same answers.
            await SeriesSteps.RebuildAllAsync(app);
            var rebuilt = await Task.WhenAll(patients.Select(p => PainSeriesAsync(app, p, segmentPoints: 4)));
            Assert.All(rebuilt, l => { Assert.Equal((12L, 12L), (l.PointCount, l.ClosedCount)); Assert.Equal([4, 4, 4], l.Segments); });
            Assert.Equal(layouts.Select(l => l.Whole), rebuilt.Select(l => l.Whole));
            Assert.Equal(folded, await AnswersAsync(app, patients));

            // Two more each: folded into a new open segment of 2, after the three closed ones.
            await WeeklyAsync(app, patients, new DateOnly(2025, 5, 26), 2);
            var appended = await AnswersAsync(app, patients);
            var grown = await Task.WhenAll(patients.Select(p => PainSeriesAsync(app, p, segmentPoints: 4)));
            Assert.All(grown, l => { Assert.Equal((14L, 12L), (l.PointCount, l.ClosedCount)); Assert.Equal([4, 4, 4], l.Segments); });
            await SeriesSteps.RebuildAllAsync(app);
            Assert.Equal(appended, await AnswersAsync(app, patients));
            Assert.Equal(grown.Select(l => l.Whole), (await Task.WhenAll(patients.Select(p => PainSeriesAsync(app, p, segmentPoints: 4)))).Select(l => l.Whole));
        }
    }
}

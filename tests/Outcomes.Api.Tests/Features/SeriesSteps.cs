using System.Net;
using System.Net.Http.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Outcomes.Api.Features.Cohorts;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Features;

/// <summary>
/// The steps of the tests of what the service keeps per patient and advances by appended values
/// (<see cref="PainCycleStateTests"/>, <see cref="MeasureProgressCacheTests"/>): new pain scores and sessions,
/// refreshes run when the test asks, and the state of the stored pain series.
/// </summary>
internal static class SeriesSteps
{
    /// <summary>Rebuilds and folds only when the test asks; a tail of two points is folded, a segment of three closed.</summary>
    public static IReadOnlyDictionary<string, string?> RefreshOnlyWhenAsked { get; } = new Dictionary<string, string?>
    {
        ["Cohorts:Series:RefreshSeconds"] = "0", ["Cohorts:Series:FoldAtPoints"] = "2", ["Cohorts:Series:SegmentPoints"] = "3",
    };

    internal sealed class PainSeries
    {
        public long Stale { get; init; }
        public long? BuildNumber { get; init; }
        public long SeriesPoints { get; init; }
        public long Points { get; init; }
    }

    public static async Task<PainSeries> PainSeriesAsync(OutcomesApp app, long patientId)
    {
        await using var connection = await app.OpenDatabaseAsync();
        return await connection.QuerySingleAsync<PainSeries>("""
            SELECT (SELECT COUNT(*) FROM series_stale WHERE patient_id = @Id) AS stale,
                   (SELECT build_number FROM measure_series WHERE patient_id = @Id AND kind = 'painScore' AND measure_key = 'pain_nrs') AS build_number,
                   COALESCE((SELECT point_count FROM measure_series WHERE patient_id = @Id AND kind = 'painScore' AND measure_key = 'pain_nrs'), 0) AS series_points,
                   COALESCE((SELECT point_count FROM measure_series WHERE patient_id = @Id AND kind = 'painScore' AND measure_key = 'pain_nrs'), 0)
                   + COALESCE((SELECT point_count FROM measure_series_tail WHERE patient_id = @Id AND kind = 'painScore' AND measure_key = 'pain_nrs'), 0) AS points
            """, new { Id = patientId });
    }

    public static async Task<long> CreatedAsync(Task<HttpResponseMessage> post)
    {
        using var response = await post;
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await PatientFixture.BodyAsync(response)).GetProperty("id").GetInt64();
    }

    public static Task<long> PainAsync(PatientFixture f, string day, int score, long? amends = null) =>
        CreatedAsync(f.PostAsync(f.Patient, "pain-scores", new
        {
            submissionId = Guid.NewGuid(), answeredAt = $"{day}T08:00:00Z", score, recall = "average7Days", amends,
            reason = amends is null ? null : "typed the wrong number",
        }));

    public static Task<long> SessionAsync(PatientFixture f, string day) =>
        CreatedAsync(f.Practitioner.PostAsJsonAsync(f.PathOf("treatment-sessions"), new
        {
            submissionId = Guid.NewGuid(), sessionDate = day, practitionerId = f.PractitionerId, product = "onabotulinumtoxinA", guidance = "emg",
            dilutionUnitsPerMl = 50, injectionSites = new[] { new { muscle = "upper_trapezius", side = "left", units = 25 } },
        }, OutcomesApp.Json));

    public static Task<int?> RefreshAsync(OutcomesApp app) => app.Services.GetRequiredService<SeriesRefresher>().RefreshAsync(default);

    private sealed class SegmentRow
    {
        public long Seq { get; init; }
        public long PointCount { get; init; }
        public string Points { get; init; } = "";
    }

    /// <summary>
    /// The whole text of the stored series <paramref name="seriesId"/> put together here from its parts as migration
    /// 0022 lays them out (the closed segments in seq order, then the open segment), not by the service's statement;
    /// and asserts the layout: seq 0, 1, 2 …, each closed segment holding the points it counts, together
    /// <paramref name="closedCount"/>, the open segment the other points of <paramref name="pointCount"/> and, for a
    /// series that folds close (all but sessions), fewer than <paramref name="segmentPoints"/>.
    /// </summary>
    public static async Task<string> WholeTextAsync(
        System.Data.Common.DbConnection connection, long seriesId, string kind, long pointCount, long closedCount, string open, int segmentPoints) =>
        (await LayoutAsync(connection, seriesId, kind, pointCount, closedCount, open, segmentPoints)).Whole;

    /// <summary>As <see cref="WholeTextAsync"/>, with the closed segments' point counts in order.</summary>
    private static async Task<(long[] Segments, string Whole)> LayoutAsync(
        System.Data.Common.DbConnection connection, long seriesId, string kind, long pointCount, long closedCount, string open, int segmentPoints)
    {
        var segments = (await connection.QueryAsync<SegmentRow>(
            "SELECT seq, point_count, points FROM measure_series_segment WHERE series_id = @Id ORDER BY seq", new { Id = seriesId })).AsList();
        Assert.Equal(Enumerable.Range(0, segments.Count).Select(i => (long)i), segments.Select(g => g.Seq));
        Assert.All(segments, g => Assert.Equal(g.PointCount, Outcomes.Core.Outcomes.PointSeries.Decode(g.Points).Count));
        Assert.Equal(closedCount, segments.Sum(g => g.PointCount));
        if (kind == StoredSeries.SessionKind)
        {
            Assert.Empty(segments);
            return ([], open);
        }
        var openCount = Outcomes.Core.Outcomes.PointSeries.Decode(open).Count;
        Assert.Equal(pointCount - closedCount, openCount);
        Assert.True(openCount < segmentPoints, $"an open segment of {openCount} points, {segmentPoints} close one");
        return ([.. segments.Select(g => g.PointCount)], string.Join('|', segments.Select(g => g.Points).Append(open).Where(t => t.Length > 0)));
    }

    private sealed class SeriesHeadRow
    {
        public long Id { get; init; }
        public long PointCount { get; init; }
        public long ClosedCount { get; init; }
        public string Points { get; init; } = "";
    }

    /// <summary>A stored series as laid out: its point counts, its closed segments' point counts and its whole text.</summary>
    internal sealed record SeriesLayout(long PointCount, long ClosedCount, long[] Segments, string Whole);

    /// <summary>The patient's stored weekly pain series (pain_nrs) as laid out, its layout checked (<see cref="WholeTextAsync"/>); null when it has none.</summary>
    public static async Task<SeriesLayout?> PainSeriesLayoutAsync(System.Data.Common.DbConnection connection, long patientId, int segmentPoints)
    {
        var row = await connection.QuerySingleOrDefaultAsync<SeriesHeadRow>(
            "SELECT id, point_count, closed_count, points FROM measure_series WHERE patient_id = @Id AND kind = 'painScore' AND measure_key = 'pain_nrs'",
            new { Id = patientId });
        if (row is null)
        {
            return null;
        }
        var (segments, whole) = await LayoutAsync(connection, row.Id, "painScore", row.PointCount, row.ClosedCount, row.Points, segmentPoints);
        return new SeriesLayout(row.PointCount, row.ClosedCount, segments, whole);
    }

    /// <summary>Marks every patient and refreshes: each series rebuilt from the observations.</summary>
    public static async Task RebuildAllAsync(OutcomesApp app)
    {
        await using (var connection = await app.OpenDatabaseAsync())
        {
            await connection.ExecuteAsync("DELETE FROM series_stale; INSERT INTO series_stale (patient_id, generation) SELECT id, 1 FROM patient;");
        }
        await RefreshAsync(app);
    }
}

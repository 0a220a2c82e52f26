using Outcomes.Core.Clinic;

namespace Outcomes.Core.Outcomes;

/// <summary>One point of a plotted series: a day's value, or for weekly series a week's mean.</summary>
/// <param name="Day">The value's day; for weekly series the Monday of its ISO week.</param>
/// <param name="Count">How many values the point is the mean of.</param>
public sealed record SeriesPoint(DateOnly Day, decimal Value, int Count);

/// <summary>The least-squares slope of one cycle, per week, with its 95% interval.</summary>
/// <param name="Points">How many points the fit rests on (weekly means for weekly series).</param>
public sealed record CycleTrend(int Number, DateOnly Session, DateOnly? End, double? SlopePerWeek, double? SlopeLowerPerWeek, double? SlopeUpperPerWeek, int Points);

public static class Trends
{
    /// <summary>Weekly means (ISO weeks, Monday first): irregular and missing weeks stay as they are, never filled in.</summary>
    public static IReadOnlyList<SeriesPoint> Weekly(IEnumerable<Point> points) =>
        [.. points.GroupBy(p => DueSchedule.WeekStart(p.Day))
            .OrderBy(g => g.Key)
            .Select(g => new SeriesPoint(g.Key, decimal.Round(g.Average(p => p.Value), 2, MidpointRounding.AwayFromZero), g.Count()))];

    public static IReadOnlyList<SeriesPoint> Daily(IEnumerable<Point> points) =>
        [.. points.OrderBy(p => p.Day).Select(p => new SeriesPoint(p.Day, p.Value, 1))];

    /// <summary>
    /// Per cycle (a session to the next), the slope of the values after the session against weeks
    /// since it. With <paramref name="weekly"/>, each ISO week within the cycle counts once, as the
    /// mean of its values at their mean day, so two scores in one week do not weigh double.
    /// </summary>
    public static IReadOnlyList<CycleTrend> PerCycle(IReadOnlyList<DateOnly> sessions, IReadOnlyList<Point> points, bool weekly)
    {
        var sorted = sessions.Distinct().Order().ToList();
        var result = new List<CycleTrend>(sorted.Count);
        for (var i = 0; i < sorted.Count; i++)
        {
            var session = sorted[i];
            DateOnly? next = i + 1 < sorted.Count ? sorted[i + 1] : null;
            var inCycle = points.Where(p => p.Day > session && (next is null || p.Day < next)).ToList();
            var xy = weekly
                ? inCycle.GroupBy(p => DueSchedule.WeekStart(p.Day))
                    .Select(g => (X: g.Average(p => (double)(p.Day.DayNumber - session.DayNumber)) / 7, Y: g.Average(p => (double)p.Value)))
                    .ToList()
                : inCycle.Select(p => (X: (p.Day.DayNumber - session.DayNumber) / 7.0, Y: (double)p.Value)).ToList();
            var fit = LinearTrend.Fit([.. xy.Select(v => v.X)], [.. xy.Select(v => v.Y)]);
            result.Add(new CycleTrend(i + 1, session, next, fit?.Slope, fit?.SlopeLower, fit?.SlopeUpper, xy.Count));
        }
        return result;
    }
}

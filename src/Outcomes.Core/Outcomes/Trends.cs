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
    public static IReadOnlyList<SeriesPoint> Weekly(IEnumerable<Point> points)
    {
        var sorted = ByDay(points);
        var result = new List<SeriesPoint>();
        for (var i = 0; i < sorted.Count;)
        {
            var week = DueSchedule.WeekStart(sorted[i].Day);
            var next = week.AddDays(7);
            var sum = 0m;
            var count = 0;
            for (; i < sorted.Count && sorted[i].Day < next; i++)
            {
                sum += sorted[i].Value;
                count++;
            }
            result.Add(new SeriesPoint(week, decimal.Round(sum / count, 2, MidpointRounding.AwayFromZero), count));
        }
        return result;
    }

    public static IReadOnlyList<SeriesPoint> Daily(IEnumerable<Point> points)
    {
        var sorted = ByDay(points);
        var result = new SeriesPoint[sorted.Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = new SeriesPoint(sorted[i].Day, sorted[i].Value, 1);
        }
        return result;
    }

    /// <summary>
    /// Per cycle (a session to the next), the slope of the values after the session against weeks
    /// since it. With <paramref name="weekly"/>, each ISO week within the cycle counts once, as the
    /// mean of its values at their mean day, so two scores in one week do not weigh double.
    /// </summary>
    public static IReadOnlyList<CycleTrend> PerCycle(IReadOnlyList<DateOnly> sessions, IReadOnlyList<Point> points, bool weekly)
    {
        var sorted = ByDay(points);
        var starts = sessions.Distinct().Order().ToList();
        var result = new List<CycleTrend>(starts.Count);
        var x = new List<double>();
        var y = new List<double>();
        var first = 0;
        for (var c = 0; c < starts.Count; c++)
        {
            var session = starts[c];
            DateOnly? next = c + 1 < starts.Count ? starts[c + 1] : null;
            // The cycle's values: after its session day, before the next session's day.
            while (first < sorted.Count && sorted[first].Day <= session)
            {
                first++;
            }
            var end = first;
            while (end < sorted.Count && (next is null || sorted[end].Day < next))
            {
                end++;
            }
            x.Clear();
            y.Clear();
            for (var i = first; i < end;)
            {
                var weekEnd = weekly ? DueSchedule.WeekStart(sorted[i].Day).AddDays(7) : DateOnly.MinValue;
                double days = 0, values = 0;
                var count = 0;
                do
                {
                    days += sorted[i].Day.DayNumber - session.DayNumber;
                    values += (double)sorted[i].Value;
                    count++;
                    i++;
                }
                while (weekly && i < end && sorted[i].Day < weekEnd);
                x.Add(days / count / 7);
                y.Add(values / count);
            }
            var fit = LinearTrend.Fit(x, y);
            result.Add(new CycleTrend(c + 1, session, next, fit?.Slope, fit?.SlopeLower, fit?.SlopeUpper, x.Count));
        }
        return result;
    }

    /// <summary>The points in day order (stable: equal days keep their order); no copy when they are in order already.</summary>
    private static IReadOnlyList<Point> ByDay(IEnumerable<Point> points)
    {
        var list = points as IReadOnlyList<Point> ?? [.. points];
        for (var i = 1; i < list.Count; i++)
        {
            if (list[i].Day < list[i - 1].Day)
            {
                return [.. list.OrderBy(p => p.Day)];
            }
        }
        return list;
    }
}

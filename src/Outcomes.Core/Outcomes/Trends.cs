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
    public static IReadOnlyList<SeriesPoint> Weekly(IEnumerable<Point> points) => Series(points, weekly: true);

    public static IReadOnlyList<SeriesPoint> Daily(IEnumerable<Point> points) => Series(points, weekly: false);

    private static IReadOnlyList<SeriesPoint> Series(IEnumerable<Point> points, bool weekly)
    {
        var series = new SeriesBuilder(weekly);
        foreach (var p in ByDay(points))
        {
            series.Add(p);
        }
        return series.Result();
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
            var slope = new CycleSlope(session, weekly);
            for (; first < sorted.Count && (next is null || sorted[first].Day < next); first++)
            {
                slope.Add(sorted[first]);
            }
            result.Add(slope.Result(c + 1, next));
        }
        return result;
    }

    /// <summary>The points in day order (stable: equal days keep their order); no copy when they are in order already.</summary>
    private static IReadOnlyList<Point> ByDay(IEnumerable<Point> points)
    {
        var list = points as IReadOnlyList<Point> ?? [.. points];
        return PointSeries.InDayOrder(list) ? list : [.. list.OrderBy(p => p.Day)];
    }
}

/// <summary>
/// A plotted series read one value at a time in day order: the weekly means (<see cref="Trends.Weekly"/>) or the
/// single values (<see cref="Trends.Daily"/>). A value read after the others adds to the last point or makes a new one.
/// </summary>
internal sealed class SeriesBuilder(bool weekly)
{
    private struct Group
    {
        public DateOnly Day;
        public decimal Sum;
        public int Count;
    }

    private List<Group> _groups = [];

    /// <summary>Points the series has (an estimate of its size).</summary>
    public int Count => _groups.Count;

    /// <summary>Reads the next value; the caller keeps day order.</summary>
    public void Add(Point p)
    {
        var day = weekly ? DueSchedule.WeekStart(p.Day) : p.Day;
        if (weekly && _groups.Count > 0 && _groups[^1].Day == day)
        {
            var last = _groups[^1];
            last.Sum += p.Value;
            last.Count++;
            _groups[^1] = last;
            return;
        }
        _groups.Add(new Group { Day = day, Sum = p.Value, Count = 1 });
    }

    public IReadOnlyList<SeriesPoint> Result()
    {
        var result = new SeriesPoint[_groups.Count];
        for (var i = 0; i < result.Length; i++)
        {
            var g = _groups[i];
            result[i] = new SeriesPoint(g.Day, weekly ? decimal.Round(g.Sum / g.Count, 2, MidpointRounding.AwayFromZero) : g.Sum, g.Count);
        }
        return result;
    }

    public SeriesBuilder Clone()
    {
        var copy = (SeriesBuilder)MemberwiseClone();
        copy._groups = [.. _groups];
        return copy;
    }
}

/// <summary>
/// One cycle's slope (<see cref="Trends.PerCycle"/>) read one value at a time in day order: the points of the fit,
/// each an ISO week's mean (weekly) or a single value, summed as they come; the fit itself is made when asked for.
/// </summary>
internal sealed class CycleSlope(DateOnly session, bool weekly)
{
    private struct Group
    {
        public DateOnly Week;
        public double Days;
        public double Values;
        public int Count;
    }

    private List<Group> _groups = [];

    public int Count => _groups.Count;

    /// <summary>Reads the next value of the cycle (after its session day, before the next session's day); the caller keeps day order.</summary>
    public void Add(Point p)
    {
        var week = weekly ? DueSchedule.WeekStart(p.Day) : DateOnly.MinValue;
        var days = p.Day.DayNumber - session.DayNumber;
        if (weekly && _groups.Count > 0 && _groups[^1].Week == week)
        {
            var last = _groups[^1];
            last.Days += days;
            last.Values += (double)p.Value;
            last.Count++;
            _groups[^1] = last;
            return;
        }
        _groups.Add(new Group { Week = week, Days = days, Values = (double)p.Value, Count = 1 });
    }

    public CycleTrend Result(int number, DateOnly? next)
    {
        var x = new double[_groups.Count];
        var y = new double[_groups.Count];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = _groups[i].Days / _groups[i].Count / 7;
            y[i] = _groups[i].Values / _groups[i].Count;
        }
        var fit = LinearTrend.Fit(x, y);
        return new CycleTrend(number, session, next, fit?.Slope, fit?.SlopeLower, fit?.SlopeUpper, x.Length);
    }

    public CycleSlope Clone()
    {
        var copy = (CycleSlope)MemberwiseClone();
        copy._groups = [.. _groups];
        return copy;
    }
}

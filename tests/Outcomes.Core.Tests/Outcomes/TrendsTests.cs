using Outcomes.Core.Outcomes;

namespace Outcomes.Core.Tests.Outcomes;

public class TrendsTests
{
    private static DateOnly D(int month, int day) => new(2025, month, day);

    // Session Monday 2025-03-03. Two scores in its first week, none in the week of 03-17.
    private static readonly Point[] _points =
    [
        new(D(2, 27), 8),   // before the session: not in the cycle's slope
        new(D(3, 5), 7),    // day 2 } week of 03-03: mean 6.5 at day 2.5
        new(D(3, 6), 6),    // day 3 }
        new(D(3, 12), 5),   // day 9, week of 03-10
        new(D(3, 26), 4),   // day 23, week of 03-24 (the week of 03-17 is missing)
        new(D(4, 2), 4),    // day 30, week of 03-31
    ];

    [Fact]
    public void Weekly_MeansEachIsoWeek_AndLeavesMissingWeeksOut()
    {
        var series = Trends.Weekly(_points);

        Assert.Equal(
            [(D(2, 24), 8m, 1), (D(3, 3), 6.5m, 2), (D(3, 10), 5m, 1), (D(3, 24), 4m, 1), (D(3, 31), 4m, 1)],
            series.Select(p => (p.Day, p.Value, p.Count)));
    }

    [Fact]
    public void PerCycle_WeeklySlope_MatchesR()
    {
        // R 4.2: x <- c(2.5,9,23,30)/7; y <- c(6.5,5,4,4); confint(lm(y ~ x))
        //   x -0.605460034125213, 2.5 % -1.37703130897785, 97.5 % 0.166111240727424
        var trend = Trends.PerCycle([D(3, 3)], _points, weekly: true).Single();

        Assert.Equal(4, trend.Points);
        Assert.Equal(-0.605460034125213, trend.SlopePerWeek!.Value, 10);
        Assert.Equal(-1.37703130897785, trend.SlopeLowerPerWeek!.Value, 9);
        Assert.Equal(0.166111240727424, trend.SlopeUpperPerWeek!.Value, 9);
    }

    [Fact]
    public void PerCycle_StopsAtTheNextSession_AndASessionWithoutScoresHasNoSlope()
    {
        var trends = Trends.PerCycle([D(3, 3), D(3, 20)], _points, weekly: false);

        // First cycle: days 2, 3 and 9 only (03-26 and 04-02 belong to the second).
        Assert.Equal(3, trends[0].Points);
        Assert.Equal(D(3, 20), trends[0].End);
        Assert.Equal(2, trends[1].Points);
        Assert.Null(trends[1].SlopeLowerPerWeek);
        Assert.Null(Trends.PerCycle([D(5, 1)], _points, weekly: true).Single().SlopePerWeek);
    }

    [Fact]
    public void Weekly_AndPerCycle_GiveTheSameAnswers_ForValuesOutOfDayOrder()
    {
        Point[] reversed = [.. _points.Reverse()];

        Assert.Equal(
            [(D(2, 24), 8m, 1), (D(3, 3), 6.5m, 2), (D(3, 10), 5m, 1), (D(3, 24), 4m, 1), (D(3, 31), 4m, 1)],
            Trends.Weekly(reversed).Select(p => (p.Day, p.Value, p.Count)));
        Assert.Equal([D(2, 27), D(3, 5), D(3, 6), D(3, 12), D(3, 26), D(4, 2)], Trends.Daily(reversed).Select(p => p.Day));
        var trend = Trends.PerCycle([D(3, 3)], reversed, weekly: true).Single();
        Assert.Equal(-0.605460034125213, trend.SlopePerWeek!.Value, 10);
        Assert.Equal(0.166111240727424, trend.SlopeUpperPerWeek!.Value, 9);
    }
}

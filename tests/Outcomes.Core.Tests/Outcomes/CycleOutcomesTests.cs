using Outcomes.Core.Instruments;
using Outcomes.Core.Outcomes;

namespace Outcomes.Core.Tests.Outcomes;

public class CycleOutcomesTests
{
    private static readonly MeasureDefinition _pain = new("pain_nrs", "Pain", Direction.HigherIsWorse, "score", 2m, 30m);
    private static readonly MeasureDefinition _rotation = new("cervical_rotation_left", "Rotation", Direction.HigherIsBetter, "deg", 14m);
    private static readonly MeasureDefinition _pgic = new("pgic", "PGIC", Direction.HigherIsWorse, "score", ResponderMaxScore: 2m);

    private static DateOnly D(int month, int day) => new(2025, month, day);

    private static Point P(int month, int day, decimal value) => new(D(month, day), value);

    // Patient A: session 2025-03-01, a response from day 7, lost in May, re-treated 2025-06-01.
    private static readonly Point[] _historyA =
    [
        P(2, 14, 9),  // 15 days before the session: outside the 14-day baseline window
        P(2, 20, 8),
        P(2, 27, 6),  // baseline = mean of the last two in the window = (8 + 6) / 2 = 7
        P(3, 4, 6),   // day 3: relief 1/7 = 14.3%: not yet
        P(3, 8, 4),   // day 7: relief 3/7 = 42.9%: onset
        P(3, 15, 3),  // day 14 (week 2 target): relief 4/7 = 57.1%
        P(4, 12, 4),  // day 42 (week 6 target): relief 3/7 = 42.9%
        P(5, 10, 5),  // relief 2/7 = 28.6%: fails
        P(5, 17, 6),  // fails again: response lost on 05-10, the first of the two
    ];

    [Fact]
    public void HistoryA_BaselineUsesTheLastTwoValuesWithin14Days()
    {
        var cycle = CycleOutcomes.Compute(_pain, [D(3, 1), D(6, 1)], _historyA, D(11, 1))[0];

        Assert.Equal(7m, cycle.Baseline!.Value);
        Assert.Equal([D(2, 20), D(2, 27)], cycle.Baseline.Used.Select(p => p.Day));
        Assert.Equal((D(2, 15), D(3, 1)), (cycle.Baseline.From, cycle.Baseline.Until));
    }

    [Fact]
    public void HistoryA_FollowUpWindows()
    {
        var windows = CycleOutcomes.Compute(_pain, [D(3, 1), D(6, 1)], _historyA, D(11, 1))[0].Windows;

        // Week 2: value 3; change 3 - 7 = -4 = -57.14%; improvement 4 (57.14%): responder at 30% and 50%, and >= 2 points.
        var week2 = windows[0];
        Assert.Equal((2, WindowStatus.Value, 3m), (week2.Week, week2.Status, week2.Value!.Value));
        Assert.Equal((D(3, 12), D(3, 22)), (week2.From, week2.Until));
        Assert.Equal(-4m, week2.Change!.Absolute);
        Assert.Equal(-57.14m, week2.Change.Percent);
        Assert.Equal(57.14m, week2.Change.ImprovementPercent);
        Assert.Equal((true, true, true), (week2.Change.Responder30, week2.Change.Responder50, week2.Change.ImportantChange));

        // Week 6: value 4; improvement 3 = 42.86%: responder at 30% not 50%, >= 2 points.
        var week6 = windows[1];
        Assert.Equal(4m, week6.Value!.Value);
        Assert.Equal(42.86m, week6.Change!.ImprovementPercent);
        Assert.Equal((true, false, true), (week6.Change.Responder30, week6.Change.Responder50, week6.Change.ImportantChange));

        // Week 12: target 05-24, window 05-21 .. 05-31, passed with nothing in it (05-17 is not carried forward).
        Assert.Equal(WindowStatus.NoValueInWindow, windows[2].Status);
        Assert.Null(windows[2].Value);

        // Week 24: window opens 08-13, after the next session on 06-01.
        Assert.Equal(WindowStatus.CycleEndedBefore, windows[3].Status);
    }

    [Fact]
    public void HistoryA_OnsetLossAndDuration()
    {
        var cycle = CycleOutcomes.Compute(_pain, [D(3, 1), D(6, 1)], _historyA, D(11, 1))[0];

        // Onset 03-08 = day 7; loss 05-10; duration 05-10 - 03-08 = 63 days, not censored.
        Assert.Equal((D(3, 8), 7), (cycle.OnsetOn!.Value, cycle.OnsetDays!.Value));
        Assert.Equal(D(5, 10), cycle.LossOn);
        Assert.Equal(63, cycle.DurationDays);
        Assert.False(cycle.DurationCensored);
        Assert.Equal(ResponseStatus.Lost, cycle.Status);
        Assert.Equal(D(6, 1), cycle.End);
    }

    [Fact]
    public void HistoryA_SecondCycleHasNoBaseline_AndSaysSo()
    {
        // Baseline window of 06-01 is 05-18 .. 06-01: the last value (05-17) lies one day outside it.
        var second = CycleOutcomes.Compute(_pain, [D(3, 1), D(6, 1)], _historyA, D(11, 1))[1];

        Assert.Null(second.Baseline!.Value);
        Assert.Empty(second.Baseline.Used);
        Assert.Equal(ResponseStatus.NoBaseline, second.Status);
        Assert.Null(second.End);
        Assert.All(second.Windows, w => Assert.Null(w.Change));
    }

    // Patient B: baseline 8 on 01-05; session 01-10; relief 50%, 50%, 32.5%, 32.5%; re-treated 02-20.
    private static readonly Point[] _historyB = [P(1, 5, 8), P(1, 17, 4), P(1, 24, 4), P(1, 31, 5.4m), P(2, 7, 5.4m)];

    [Fact]
    public void HistoryB_EndsInRetreatment_SoTheDurationIsCensored_AndTheEffectIsWearingOff()
    {
        var cycle = CycleOutcomes.Compute(_pain, [D(1, 10), D(2, 20)], _historyB, D(11, 1))[0];

        // Onset 01-17 (day 7). No two failing reports; censored at the last report before the re-treatment
        // (02-07), not at the re-treatment (02-20), which came 13 days after the last contact: 02-07 - 01-17 = 21 days.
        Assert.Equal(7, cycle.OnsetDays);
        Assert.Null(cycle.LossOn);
        Assert.Equal(21, cycle.DurationDays);
        Assert.True(cycle.DurationCensored);
        // Relief 50, 50, 32.5, 32.5 -> two-report means 50, 41.25, 32.5. The latest (32.5) still responds (>= 30)
        // but is below two thirds of the best (33.3): wearing off.
        Assert.Equal(ResponseStatus.WearingOff, cycle.Status);
    }

    [Fact]
    public void OpenCycle_IsCensoredAtTheLastReport()
    {
        // Baseline 8; reports 4 on 01-17 and 01-24; no next session: censored at 01-24, 7 days after onset.
        var cycle = CycleOutcomes.Compute(_pain, [D(1, 10)], [P(1, 5, 8), P(1, 17, 4), P(1, 24, 4)], D(2, 1))[0];

        Assert.Equal((7, true, ResponseStatus.Responding), (cycle.DurationDays!.Value, cycle.DurationCensored, cycle.Status));
        // Week 6 (window 02-18 .. 02-28) has not opened by 02-01.
        Assert.Equal(WindowStatus.NotYetReached, cycle.Windows[1].Status);
    }

    [Fact]
    public void SessionWithNoScoreAfterIt_HasNoDataYet()
    {
        var cycle = CycleOutcomes.Compute(_pain, [D(1, 10)], [P(1, 5, 8)], D(1, 12))[0];

        Assert.Equal(ResponseStatus.NoDataYet, cycle.Status);
        Assert.Null(cycle.OnsetDays);
    }

    [Fact]
    public void NeverReachingThirtyPercent_IsNotResponding()
    {
        // Baseline 6; reports 5 and 5: relief 16.7%.
        var cycle = CycleOutcomes.Compute(_pain, [D(1, 10)], [P(1, 5, 6), P(1, 17, 5), P(1, 24, 5)], D(2, 1))[0];

        Assert.Equal(ResponseStatus.NotResponding, cycle.Status);
    }

    [Fact]
    public void BaselineOfZero_LeavesPercentChangeUndefined_NeverDividingByZero()
    {
        // Baseline 0; week 2 value 1: change +1, percent undefined; still 1 point worse (improvement -1 < 2).
        var cycle = CycleOutcomes.Compute(_pain, [D(1, 10)], [P(1, 8, 0), P(1, 9, 0), P(1, 24, 1)], D(3, 1))[0];

        var week2 = cycle.Windows[0].Change!;
        Assert.Equal(0m, cycle.Baseline!.Value);
        Assert.Equal(1m, week2.Absolute);
        Assert.Null(week2.Percent);
        Assert.Null(week2.Responder30);
        Assert.False(week2.ImportantChange);
        Assert.Contains("undefined", week2.Note, StringComparison.Ordinal);
        Assert.Equal(ResponseStatus.Undefined, cycle.Status);
    }

    [Theory]
    // ODI, "10 points or 30%" (Ostelo et al. 2008): baseline 20 -> 14 is 6 points but 30%: important;
    // baseline 60 -> 50 is 10 points but 16.7%: important; baseline 60 -> 52 is 8 points and 13.3%: not.
    [InlineData(20, 14, true)]
    [InlineData(60, 50, true)]
    [InlineData(60, 52, false)]
    public void Odi_ImportantChange_IsTenPointsOrThirtyPercent(int baseline, int value, bool important)
    {
        var odi = new MeasureDefinition("odi", "ODI", Direction.HigherIsWorse, "score", 10m, 30m);

        var change = CycleOutcomes.ChangeFrom(odi, baseline, value);

        Assert.Equal(important, change.ImportantChange);
    }

    [Fact]
    public void ImportantChange_OnABaselineOfZero_UsesThePointsOnly()
    {
        var odi = new MeasureDefinition("odi", "ODI", Direction.HigherIsWorse, "score", 10m, 30m);
        var percentOnly = new MeasureDefinition("days", "Days", Direction.HigherIsWorse, "days", null, 50m);

        Assert.False(CycleOutcomes.ChangeFrom(odi, 0, 4).ImportantChange);
        Assert.Null(CycleOutcomes.ChangeFrom(percentOnly, 0, 4).ImportantChange);
    }

    [Fact]
    public void RangeOfMotion_ARiseIsImprovement()
    {
        // Baseline 50 degrees; week 2 value 65: +15 = +30%, improvement 15 >= 14 (detectable change).
        var cycle = CycleOutcomes.Compute(_rotation, [D(1, 10)], [P(1, 10, 50), P(1, 24, 65)], D(3, 1))[0];

        var change = cycle.Windows[0].Change!;
        Assert.Equal((15m, 30m, 15m), (change.Absolute, change.Percent!.Value, change.Improvement));
        Assert.Equal((true, false, true), (change.Responder30, change.Responder50, change.ImportantChange));
        Assert.Equal(14, cycle.OnsetDays);
    }

    [Fact]
    public void Pgic_RespondsAtMuchImprovedWithoutABaseline()
    {
        // 4 = no change on 01-17; 2 = much improved on 01-24 (day 14): onset.
        var cycle = CycleOutcomes.Compute(_pgic, [D(1, 10)], [P(1, 17, 4), P(1, 24, 2)], D(3, 1))[0];

        Assert.Null(cycle.Baseline);
        Assert.Equal(14, cycle.OnsetDays);
        Assert.True(cycle.Windows[0].Responder);
        Assert.Equal(ResponseStatus.Responding, cycle.Status);
    }

    [Fact]
    public void WindowValue_IsTheOneClosestToTheTarget_TheEarlierOnATie()
    {
        // Week 2 target 01-24: 01-22 and 01-26 are both two days off; 01-22 wins.
        var cycle = CycleOutcomes.Compute(_pain, [D(1, 10)], [P(1, 9, 8), P(1, 22, 5), P(1, 26, 3)], D(3, 1))[0];

        Assert.Equal(D(1, 22), cycle.Windows[0].Value!.Day);
    }

    [Theory]
    // Exactly 30% and 50% relief count; a hundredth less does not.
    [InlineData(10, 7, true, false)]
    [InlineData(10, 7.01, false, false)]
    [InlineData(10, 5, true, true)]
    [InlineData(10, 5.01, true, false)]
    [InlineData(7.5, 5.25, true, false)]
    [InlineData(7.5, 3.75, true, true)]
    public void ResponderTests_AtTheBoundaries(double baseline, double value, bool responder30, bool responder50)
    {
        var change = CycleOutcomes.ChangeFrom(_pain, (decimal)baseline, (decimal)value);

        Assert.Equal((responder30, responder50), (change.Responder30, change.Responder50));
    }

    [Fact]
    public void Onset_WithAThreeValueMeanBaseline_AtExactlyThirtyPercent()
    {
        // Baseline: mean of 6, 7 and 7 = 20/3. Exactly 30% relief is 14/3 = 4.666..., which no
        // stored value equals: 4.66 is a response (30.1%), 4.67 is not (29.95%).
        Point[] history = [P(2, 25, 6), P(2, 26, 7), P(2, 27, 7), P(3, 8, 4.67m), P(3, 15, 4.66m)];

        var cycle = CycleOutcomes.Compute(_pain, [D(3, 1)], history, D(11, 1), new BaselineRule(14, 3))[0];

        Assert.Equal(D(3, 15), cycle.OnsetOn);
    }

    public static TheoryData<string> DayScenarios => ["historyA", "noValuesAfter", "nextSessionInsideWeek12", "valuesLate"];

    private static (DateOnly[] Sessions, Point[] Points) Scenario(string name) => name switch
    {
        "historyA" => ([D(3, 1), D(6, 1)], _historyA),
        "noValuesAfter" => ([D(3, 1)], [P(2, 27, 7)]),
        // The next session comes inside the first cycle's week-12 window, which the first cycle has no value in.
        "nextSessionInsideWeek12" => ([D(3, 1), D(5, 27)], [P(2, 27, 7), P(3, 15, 3), P(6, 20, 4)]),
        _ => ([D(3, 1)], [P(2, 27, 7), P(3, 20, 3), P(9, 1, 4)]),
    };

    /// <summary>
    /// For every day from the session to well past the last window: the cycles computed on any day inside the span
    /// DaysAlike gives are the cycles computed on that day, and on the day just outside either end of the span they
    /// differ (so the span is exact, not merely safe).
    /// </summary>
    [Theory]
    [MemberData(nameof(DayScenarios))]
    public void DaysAlike_IsExactlyTheSpanOfDaysThatComputeTheSameCycle(string scenario)
    {
        var (sessions, points) = Scenario(scenario);
        var first = D(3, 1);
        var days = Enumerable.Range(0, 260).Select(first.AddDays).ToList();
        var computed = days.ToDictionary(d => d, d => CycleOutcomes.Compute(_pain, sessions, points, d));
        string Json(CycleOutcome c) => System.Text.Json.JsonSerializer.Serialize(c);
        foreach (var today in days)
        {
            for (var i = 0; i < computed[today].Count; i++)
            {
                var cycle = computed[today][i];
                var (from, to) = CycleOutcomes.DaysAlike(cycle, today);
                Assert.True(from <= today && today <= to, $"{scenario} cycle {i + 1} on {today}: the span {from}..{to} leaves out the day itself");
                foreach (var other in days)
                {
                    var same = Json(computed[other][i]) == Json(cycle);
                    if (other >= from && other <= to)
                    {
                        Assert.True(same, $"{scenario} cycle {i + 1}: computed on {today} and on {other} differ, inside {from}..{to}");
                    }
                    else if (other.AddDays(1) == from || other.AddDays(-1) == to)
                    {
                        Assert.False(same, $"{scenario} cycle {i + 1}: computed on {today} and on {other} are the same, just outside {from}..{to}");
                    }
                }
            }
        }
    }
}

public class LinearTrendTests
{
    [Fact]
    public void Fit_MatchesR()
    {
        // R 4.2: x <- c(3,10,17,24,31,38,45,52); y <- c(7,6,5,5,4,4.5,3,3.5); confint(lm(y ~ x))
        //   (Intercept) 6.7142857142857126; x -0.0714285714285714
        //   x 2.5 % -0.0983976211209722, 97.5 % -0.0444595217361705
        var fit = LinearTrend.Fit([3, 10, 17, 24, 31, 38, 45, 52], [7, 6, 5, 5, 4, 4.5, 3, 3.5])!;

        Assert.Equal(6.7142857142857126, fit.Intercept, 10);
        Assert.Equal(-0.0714285714285714, fit.Slope, 12);
        Assert.Equal(-0.0983976211209722, fit.SlopeLower!.Value, 10);
        Assert.Equal(-0.0444595217361705, fit.SlopeUpper!.Value, 10);
        Assert.Equal(8, fit.Points);
    }

    [Fact]
    public void Fit_ThreePoints_MatchesR()
    {
        // R 4.2: confint(lm(c(2,3,7) ~ c(1,2,4))): slope 1.71428571428571, x -1.42968459634670 .. 4.85825602491812
        var fit = LinearTrend.Fit([1, 2, 4], [2, 3, 7])!;

        Assert.Equal(1.71428571428571, fit.Slope, 10);
        Assert.Equal(-1.42968459634670, fit.SlopeLower!.Value, 9);
        Assert.Equal(4.85825602491812, fit.SlopeUpper!.Value, 9);
    }

    [Fact]
    public void Fit_TwoPoints_HasASlopeButNoInterval_AndOnePointHasNone()
    {
        var two = LinearTrend.Fit([0, 7], [6, 4])!;

        Assert.Equal(-2.0 / 7, two.Slope, 12);
        Assert.Null(two.SlopeLower);
        Assert.Null(LinearTrend.Fit([1], [5]));
        Assert.Null(LinearTrend.Fit([3, 3, 3], [1, 2, 3]));
    }

}

using Outcomes.Core.Clinic;

namespace Outcomes.Core.Tests.Clinic;

public class DueScheduleTests
{
    private static readonly DateOnly _enrolled = new(2025, 1, 6);
    private static readonly Dictionary<string, IReadOnlyCollection<DateOnly>> _none = [];

    private static DateOnly D(int month, int day) => new(2025, month, day);

    private static string[] Describe(IEnumerable<DueItem> items) =>
        [.. items.Select(i => $"{i.Instrument}@{i.Timepoint}").Order(StringComparer.Ordinal)];

    [Fact]
    public void WeekStart_IsTheMonday()
    {
        // 2025-03-05 is a Wednesday; 2025-03-09 a Sunday; 2025-03-03 a Monday.
        Assert.Equal(D(3, 3), DueSchedule.WeekStart(D(3, 5)));
        Assert.Equal(D(3, 3), DueSchedule.WeekStart(D(3, 9)));
        Assert.Equal(D(3, 3), DueSchedule.WeekStart(D(3, 3)));
    }

    [Theory]
    // Enrolled long ago, not treated: from enrolment.
    [InlineData("2025-01-06", null, "2025-03-05", "2025-01-06")]
    // Treated: the 14-day baseline window before the latest session.
    [InlineData("2025-01-06", "2025-03-04", "2025-03-05", "2025-02-18")]
    // Enrolled this Wednesday: this week's pain scores from Monday count too.
    [InlineData("2025-03-05", null, "2025-03-05", "2025-03-03")]
    public void LookBackFrom_IsTheEarlierOfTheBaselineWindowAndThisWeek(string enrolled, string? session, string today, string expected)
    {
        var from = DueSchedule.LookBackFrom(DateOnly.Parse(enrolled, System.Globalization.CultureInfo.InvariantCulture),
            session is null ? null : DateOnly.Parse(session, System.Globalization.CultureInfo.InvariantCulture),
            DateOnly.Parse(today, System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(DateOnly.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), from);
    }

    [Fact]
    public void InputFrom_SplitsPainScoresFromQuestionnairesByCode()
    {
        var input = DueSchedule.InputFrom(D(3, 5), _enrolled, [Condition.NeckShoulderPain], D(3, 1),
            [(true, "pain_nrs", D(3, 3)), (false, "ndi", D(2, 27)), (true, "pain_nrs", D(3, 4)), (false, "ndi", D(3, 2)), (false, "pgic", D(3, 4))]);

        Assert.Equal([D(3, 3), D(3, 4)], input.PainScoreDates);
        Assert.Equal(["ndi", "pgic"], input.QuestionnaireDates.Keys.Order(StringComparer.Ordinal));
        Assert.Equal([D(2, 27), D(3, 2)], input.QuestionnaireDates["ndi"]);
    }

    [Fact]
    public void NotTreatedYet_WeeklyPainAndTheConditionsBaselineAreDue()
    {
        var due = DueSchedule.Due(new DueInput(D(3, 5), _enrolled, [Condition.NeckShoulderPain], null, [], _none));

        Assert.Equal(["ndi@baseline", "pain_nrs@weekly"], Describe(due));
        var weekly = due.Single(d => d.Timepoint == "weekly");
        Assert.Equal((D(3, 3), (DateOnly?)D(3, 9)), (weekly.From, weekly.Until));
        Assert.Null(due.Single(d => d.Timepoint == "baseline").Until);
    }

    [Fact]
    public void PainScoreThisWeek_IsNotDueAgain_ButLastSundayDoesNotCount()
    {
        // Session 2025-02-01: its week 6 window (03-12 .. 03-22) has not opened yet.
        var thisMonday = DueSchedule.Due(new DueInput(D(3, 5), _enrolled, [Condition.MyofascialPainSyndrome], D(2, 1), [D(3, 3)], _none));
        var lastSunday = DueSchedule.Due(new DueInput(D(3, 5), _enrolled, [Condition.MyofascialPainSyndrome], D(2, 1), [D(3, 2)], _none));

        Assert.Empty(thisMonday);
        Assert.Equal(["pain_nrs@weekly"], Describe(lastSunday));
    }

    [Fact]
    public void InWeek6Window_TheMissingQuestionnairesAndPgicAreDue()
    {
        // Session 2025-01-15; week 6 = 2025-02-26, window 2025-02-23 .. 2025-03-05 (3 days early, 7 late).
        // ODI already answered on 02-24 inside the window; HIT-6 answered on 02-20, before it.
        var answered = new Dictionary<string, IReadOnlyCollection<DateOnly>>
        {
            ["odi"] = [D(2, 24)],
            ["hit6"] = [D(2, 20)],
        };

        var due = DueSchedule.Due(new DueInput(
            D(3, 5), _enrolled, [Condition.LowBackPain, Condition.ChronicMigraine], D(1, 15), [D(3, 4)], answered));

        Assert.Equal(["headache_days@week6", "hit6@week6", "pgic@week6"], Describe(due));
        Assert.All(due, d => Assert.Equal((D(2, 23), (DateOnly?)D(3, 5)), (d.From, d.Until)));
    }

    [Fact]
    public void BetweenWindows_OnlyTheWeeklyPainScoreIsDue()
    {
        // 2025-03-06 is after the week 6 window (ends 03-05) and before week 12 (starts 04-06).
        var due = DueSchedule.Due(new DueInput(D(3, 6), _enrolled, [Condition.LowBackPain], D(1, 15), [], _none));

        Assert.Equal(["pain_nrs@weekly"], Describe(due));
    }

    [Fact]
    public void OnTheSessionDay_TheBaselineIsDueUnlessAnsweredInTheLast14Days()
    {
        // Session 2025-03-05: baseline window 2025-02-19 .. 2025-03-05.
        var missing = DueSchedule.Due(new DueInput(D(3, 5), _enrolled, [Condition.NeckShoulderPain], D(3, 5), [D(3, 5)],
            new Dictionary<string, IReadOnlyCollection<DateOnly>> { ["ndi"] = [D(2, 18)] }));
        var answered = DueSchedule.Due(new DueInput(D(3, 5), _enrolled, [Condition.NeckShoulderPain], D(3, 5), [D(3, 5)],
            new Dictionary<string, IReadOnlyCollection<DateOnly>> { ["ndi"] = [D(2, 19)] }));

        Assert.Equal(["ndi@baseline"], Describe(missing));
        Assert.Empty(answered);
    }

    [Fact]
    public void Instruments_FollowTheConditions() =>
        Assert.Equal(["headache_days", "hit6", "ndi"],
            DueSchedule.InstrumentsFor([Condition.ChronicTensionTypeHeadache, Condition.NeckShoulderPain, Condition.ChronicMigraine]));
}

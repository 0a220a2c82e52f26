using System.Net;
using Outcomes.Core.Alerts;
using Outcomes.Core.Clinic;
using Outcomes.Core.Instruments;
using Outcomes.Core.Outcomes;

namespace Outcomes.Core.Tests.Alerts;

public class AlertRulesTests
{
    private static readonly DateOnly _today = new(2025, 12, 1);
    // Session 14 weeks ago: the week-12 window (day 81 to 91) closed on 2025-11-24, within the 14-day look-back;
    // weeks 2 and 6 closed long before it.
    private static readonly DateOnly _session = _today.AddDays(-98);
    private static readonly MeasureDefinition _pain = new("pain_nrs", "Pain", Direction.HigherIsWorse, "score", 2m, 30m);

    private static DueInput Input(IEnumerable<int> painDays, IEnumerable<(string Code, int Day)> answers, Condition condition = Condition.NeckShoulderPain) =>
        new(_today, new DateOnly(2025, 1, 15), [condition], _session,
            [.. painDays.Select(d => _session.AddDays(d))],
            answers.GroupBy(a => a.Code).ToDictionary(g => g.Key, g => (IReadOnlyCollection<DateOnly>)[.. g.Select(a => _session.AddDays(a.Day))]));

    private static IReadOnlyList<AlertCause> Causes(DueInput input, CycleState? cycle = null, int weeks = 2) =>
        AlertRules.TimeBased(7, input, cycle, weeks, lookbackDays: 14);

    [Fact]
    public void AFollowUpWindowThatClosedWithoutItsQuestionnaires_IsOverdue_OnceAndOnlyWithinTheLookBack()
    {
        // Weekly scores throughout; the NDI answered at week 12 but not the global impression of change.
        var input = Input(Enumerable.Range(1, 13).Select(w => w * 7), [("ndi", 84)]);

        var cause = Assert.Single(Causes(input));

        Assert.Equal((AlertKind.FollowUpOverdue, 12, _session.AddDays(92)), (cause.Kind, cause.Week!.Value, cause.OccurredOn));
        Assert.Equal($"followUpOverdue:7:{_session:yyyy-MM-dd}:week12", cause.Key);
    }

    [Fact]
    public void AllThatWasDue_MeansNoFollowUpAlert()
    {
        var input = Input(Enumerable.Range(1, 13).Select(w => w * 7), [("ndi", 84), ("pgic", 85)]);

        Assert.Empty(Causes(input));
    }

    [Fact]
    public void NoWeeklyScore_CountsFromTheLastScore_ByTheSitesWeeks()
    {
        // Last score on day 70 (2025-11-03): two weeks later (11-17) lies in the look-back; five weeks later does not yet.
        var input = Input(Enumerable.Range(1, 10).Select(w => w * 7), [("ndi", 84), ("pgic", 84)]);

        var cause = Assert.Single(Causes(input), c => c.Kind == AlertKind.NoWeeklyScore);
        Assert.Equal((_session.AddDays(84), $"noWeeklyScore:7:{_session.AddDays(70):yyyy-MM-dd}"), (cause.OccurredOn, cause.Key));
        Assert.DoesNotContain(Causes(input, weeks: 5), c => c.Kind == AlertKind.NoWeeklyScore);
    }

    [Fact]
    public void ALossOfResponseInTheCurrentCycle_IsAnAlert()
    {
        // Baseline 8; relief from day 7; 7 on days 84 and 91: two reports in a row failing the 30% test, lost on day 84.
        List<Point> points = [new(_session.AddDays(-1), 8), .. Enumerable.Range(1, 11).Select(w => new Point(_session.AddDays(w * 7), 3)),
            new(_session.AddDays(84), 7), new(_session.AddDays(91), 7)];
        var cycle = new CycleState(_pain, _session, new BaselineRule());
        cycle.AddRange(points);
        var input = Input(points.Select(p => p.Day.DayNumber - _session.DayNumber), [("ndi", 84), ("pgic", 84)]);

        var cause = Assert.Single(Causes(input, cycle));

        Assert.Equal((AlertKind.ResponseLost, _session.AddDays(84)), (cause.Kind, cause.OccurredOn));
    }

    [Fact]
    public void AFollowUpWindowThatClosedBeforeTheLookBack_RaisesNothing()
    {
        // Week 2 (no score in it) closed months ago: switching alerts on does not raise the past.
        var input = Input([], [("ndi", 84), ("pgic", 84)]) with { PainScoreDates = [.. Enumerable.Range(7, 13).Select(w => _session.AddDays(w * 7))] };

        Assert.DoesNotContain(Causes(input), c => c.Kind == AlertKind.FollowUpOverdue);
    }

    [Fact]
    public void ThePainDaysLookedAt_AndTheLatestScore_GiveTheCausesOfEveryScore()
    {
        // The reference is the rules over every pain score since the look-back began. Sessions from 400 days ago to
        // today, scores on random days around them (none, a few, many; some on the week-2 window's edges), look-backs
        // of 1 to 40 days and 1 to 4 weeks without a score: the latest score and those of the days looked at give the same causes.
        var random = new Random(29);
        var looked = 0;
        for (var n = 0; n < 3000; n++)
        {
            var session = _today.AddDays(-random.Next(0, 400));
            var lookback = random.Next(1, 41);
            var weeks = random.Next(1, 5);
            var onset = FollowUpWindow.Standard.Single(w => w.Week == 2);
            int[] edges = [onset.Start(session).DayNumber, onset.End(session).DayNumber];
            var days = Enumerable.Range(0, random.Next(0, 12))
                .Select(_ => random.Next(3) == 0 ? DateOnly.FromDayNumber(edges[random.Next(2)] + random.Next(-1, 2)) : session.AddDays(random.Next(-35, 120)))
                .Where(d => d <= _today).Order().ToList();
            var input = new DueInput(_today, session.AddDays(-60), [Condition.NeckShoulderPain], session, days,
                new Dictionary<string, IReadOnlyCollection<DateOnly>> { ["ndi"] = [session.AddDays(84)] });

            var window = AlertRules.PainDaysLookedAt(session, _today, lookback);
            looked += window is null ? 0 : 1;
            List<DateOnly> given = [.. days.Where(d => window is { } w && d >= w.From && d <= w.Until), .. days.TakeLast(1)];

            Assert.Equal(AlertRules.TimeBased(7, input, null, weeks, lookback), AlertRules.TimeBased(7, input with { PainScoreDates = given }, null, weeks, lookback));
        }
        // The window was looked at in some cases and not in others.
        Assert.InRange(looked, 30, 2970);
    }

    [Fact]
    public void Signatures_ReproduceTheStandardWebhooksTestVector()
    {
        // The specification's published example (standard-webhooks, spec and reference libraries).
        var signature = StandardWebhooks.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, """{"test": 2432232314}""");

        Assert.Equal("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", signature);
        Assert.Matches("^whsec_[A-Za-z0-9+/]{43}=$", StandardWebhooks.NewSecret());
    }

    [Fact]
    public void Backoff_RetriesWithinFiveSeconds_ThenLonger_AndGivesUpAfter24Hours()
    {
        Assert.InRange(DeliveryBackoff.Delay(1, 0.999).TotalSeconds, 1.5, 5);
        Assert.True(DeliveryBackoff.Delay(4, 0).TotalSeconds > DeliveryBackoff.Delay(3, 0.999).TotalSeconds);
        Assert.InRange(DeliveryBackoff.Delay(30, 0.5).TotalHours, 3.99, 4.01);
        var created = new DateTimeOffset(2025, 3, 1, 0, 0, 0, TimeSpan.Zero);
        var (at, failures) = (created, 0);
        while (DeliveryBackoff.Next(created, at, ++failures, 0.5) is { } next)
        {
            at = next;
        }
        Assert.InRange(failures, 10, 20);
        Assert.True(at - created <= TimeSpan.FromHours(24));
        Assert.True(at - created > TimeSpan.FromHours(16));
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("10.1.2.3", true)]
    [InlineData("172.20.0.5", true)]
    [InlineData("192.168.1.1", true)]
    [InlineData("169.254.169.254", true)]
    [InlineData("100.64.0.1", true)]
    [InlineData("0.0.0.0", true)]
    [InlineData("::1", true)]
    [InlineData("fd00::1", true)]
    [InlineData("fe80::1", true)]
    [InlineData("::ffff:10.0.0.1", true)]
    [InlineData("93.184.216.34", false)]
    [InlineData("172.32.0.1", false)]
    [InlineData("2606:2800:220:1::1", false)]
    public void PrivateAddresses_AreKnown(string address, bool isPrivate) =>
        Assert.Equal(isPrivate, NetworkAddresses.IsPrivate(IPAddress.Parse(address)));
}

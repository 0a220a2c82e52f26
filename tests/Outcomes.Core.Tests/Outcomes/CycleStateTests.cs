using Outcomes.Core.Instruments;
using Outcomes.Core.Outcomes;

namespace Outcomes.Core.Tests.Outcomes;

public class CycleStateTests
{
    private static readonly MeasureDefinition _pain = new("pain_nrs", "Pain", Direction.HigherIsWorse, "score", 2m, 30m);
    private static readonly MeasureDefinition _rotation = new("cervical_rotation_left", "Rotation", Direction.HigherIsBetter, "deg", 14m);
    private static readonly MeasureDefinition _pgic = new("pgic", "PGIC", Direction.HigherIsWorse, "score", ResponderMaxScore: 2m);
    private static readonly DateOnly _session = new(2025, 3, 1);

    public static TheoryData<string> Measures => ["pain", "rotation", "pgic"];

    private static MeasureDefinition Measure(string name) => name switch { "pain" => _pain, "rotation" => _rotation, _ => _pgic };

    /// <summary>
    /// A random cycle: a few values before the window, some in it (none, sometimes), then reports whose values
    /// wander so that onset, loss, wearing off and no response all occur; days repeat, and a baseline of 0 occurs.
    /// </summary>
    private static List<Point> History(Random random, string measure)
    {
        var points = new List<Point>();
        var day = _session.AddDays(-random.Next(14, 30));
        decimal Value() => measure switch
        {
            "pgic" => random.Next(1, 8),
            "rotation" => random.Next(0, 4) == 0 ? 0 : random.Next(20, 90),
            _ => random.Next(0, 6) == 0 ? 0 : random.Next(0, 21) / 2m,
        };
        while (day <= _session.AddDays(random.Next(0, 150)))
        {
            if (day > _session || random.Next(0, 3) > 0)
            {
                points.Add(new Point(day, Value()));
            }
            day = day.AddDays(random.Next(0, 3) == 0 ? 0 : random.Next(1, 9));
        }
        return points;
    }

    [Theory]
    [MemberData(nameof(Measures))]
    public void ReadOneValueAtATime_GivesWhatTheDefinitionsGiveOfTheWholeCycle(string name)
    {
        var measure = Measure(name);
        var random = new Random(name.Length * 97);
        var statuses = new HashSet<ResponseStatus>();
        for (var run = 0; run < 2000; run++)
        {
            var points = History(random, name);
            var rule = new BaselineRule(14, random.Next(1, 4));
            var state = new CycleState(measure, _session, rule);
            foreach (var p in points)
            {
                state.Add(p);
            }
            var expected = Reference.Cycle(measure, _session, points, rule);
            Assert.True(expected == (state.Baseline?.Value, state.Status, state.OnsetOn, state.LossOn, state.DurationDays, state.DurationCensored),
                $"run {run}: expected {expected}, read one at a time {(state.Baseline?.Value, state.Status, state.OnsetOn, state.LossOn, state.DurationDays, state.DurationCensored)}");
            statuses.Add(state.Status);
        }
        // The histories reach every status the measure can have, so the comparison covers each.
        var reachable = name switch
        {
            "pgic" => new[] { ResponseStatus.NoDataYet, ResponseStatus.NotResponding, ResponseStatus.Responding, ResponseStatus.Lost },
            _ => Enum.GetValues<ResponseStatus>(),
        };
        Assert.Equal(reachable.Order(), statuses.Order());
    }

    [Fact]
    public void AClone_AdvancedByTheRest_EqualsTheStateThatReadEverything_AndTheOriginalStaysAsItWas()
    {
        var random = new Random(5);
        for (var run = 0; run < 500; run++)
        {
            var points = History(random, "pain");
            var split = random.Next(0, points.Count + 1);
            var early = new CycleState(_pain, _session, new BaselineRule());
            foreach (var p in points.Take(split))
            {
                early.Add(p);
            }
            var before = Summary(early);
            var advanced = early.Clone();
            foreach (var p in points.Skip(split))
            {
                advanced.Add(p);
            }
            var whole = new CycleState(_pain, _session, new BaselineRule());
            points.ForEach(whole.Add);

            Assert.Equal(Summary(whole), Summary(advanced));
            Assert.Equal(before, Summary(early));
        }
    }

    [Fact]
    public void AValueDatedBeforeTheLastOneRead_IsRefused()
    {
        var state = new CycleState(_pain, _session, new BaselineRule());
        state.Add(new Point(_session.AddDays(3), 5));
        state.Add(new Point(_session.AddDays(3), 4));

        Assert.Throws<ArgumentException>(() => state.Add(new Point(_session.AddDays(2), 4)));
    }

    private static string Summary(CycleState s) =>
        $"{s.Baseline?.Value} [{string.Join(",", s.Baseline?.Used.Select(p => p.Day) ?? [])}] {s.Status} {s.OnsetOn} {s.OnsetDays} {s.LossOn} {s.DurationDays} {s.DurationCensored} {s.Reports} {s.LastDay}";

    /// <summary>
    /// The definitions applied to the whole cycle at once, written out as they read (docs/clinical-definitions.md):
    /// the baseline is the mean of the last values within the window up to the session day; onset is the first
    /// report with at least 30% relief; loss the first of two consecutive reports after onset without it; wearing
    /// off when the latest two-report mean relief is still a response but under two thirds of the best such mean.
    /// </summary>
    internal static class Reference
    {
        public static (decimal? Baseline, ResponseStatus, DateOnly?, DateOnly?, int?, bool) Cycle(
            MeasureDefinition measure, DateOnly session, List<Point> points, BaselineRule rule)
        {
            var impression = measure.ResponderMaxScore is not null;
            var window = points.Where(p => p.Day >= session.AddDays(-rule.WindowDays) && p.Day <= session).TakeLast(rule.MaxValues).ToList();
            decimal? baseline = impression || window.Count == 0 ? null : window.Average(p => p.Value);
            var reports = points.Where(p => p.Day > session).ToList();
            if (!impression && baseline is null)
            {
                return (null, ResponseStatus.NoBaseline, null, null, null, false);
            }
            if (reports.Count == 0)
            {
                return (baseline, ResponseStatus.NoDataYet, null, null, null, false);
            }
            decimal? Relief(Point p) => baseline is { } b && b != 0
                ? Math.Round((measure.Direction == Direction.HigherIsWorse ? b - p.Value : p.Value - b) / Math.Abs(b) * 100m, 2, MidpointRounding.AwayFromZero)
                : null;
            bool? Responds(Point p) => impression ? p.Value <= measure.ResponderMaxScore : Relief(p) is null ? null
                : (measure.Direction == Direction.HigherIsWorse ? baseline!.Value - p.Value : p.Value - baseline!.Value) * 100m >= 30m * Math.Abs(baseline!.Value);
            var responses = reports.Select(Responds).ToList();
            if (responses.All(r => r is null))
            {
                return (baseline, ResponseStatus.Undefined, null, null, null, false);
            }
            var onset = responses.IndexOf(true);
            if (onset < 0)
            {
                return (baseline, ResponseStatus.NotResponding, null, null, null, false);
            }
            var onsetDay = reports[onset].Day;
            for (var i = onset + 1; i + 1 < reports.Count; i++)
            {
                if (responses[i] == false && responses[i + 1] == false)
                {
                    return (baseline, ResponseStatus.Lost, onsetDay, reports[i].Day, reports[i].Day.DayNumber - onsetDay.DayNumber, false);
                }
            }
            var means = impression ? [] : reports.Skip(onset).Zip(reports.Skip(onset + 1), (a, b) => (Relief(a)!.Value + Relief(b)!.Value) / 2).ToList();
            var wearingOff = means.Count >= 2 && means[^1] >= 30m && means[^1] < means.Max() * 2 / 3;
            return (baseline, wearingOff ? ResponseStatus.WearingOff : ResponseStatus.Responding, onsetDay, null,
                reports[^1].Day.DayNumber - onsetDay.DayNumber, true);
        }
    }
}

using System.Text.Json;
using Outcomes.Core.Clinic;
using Outcomes.Core.Instruments;
using Outcomes.Core.Outcomes;

namespace Outcomes.Core.Tests.Outcomes;

public class MeasureProgressTests
{
    private static readonly MeasureDefinition _pain = new("pain_nrs", "Pain", Direction.HigherIsWorse, "score", 2m, 30m);
    private static readonly MeasureDefinition _rotation = new("cervical_rotation_left", "Rotation", Direction.HigherIsBetter, "deg", 14m);
    private static readonly MeasureDefinition _pgic = new("pgic", "PGIC", Direction.HigherIsWorse, "score", ResponderMaxScore: 2m);
    private static readonly DateOnly _start = new(2025, 1, 6);

    public static TheoryData<string> Measures => ["pain", "rotation", "pgic"];

    private static MeasureDefinition Measure(string name) => name switch { "pain" => _pain, "rotation" => _rotation, _ => _pgic };

    /// <summary>
    /// A random history of several cycles: sessions 0 to 5 (some on one day, some close enough for the next to end a
    /// cycle before its windows), values on most days around them, several on one day at times, a value on a session day.
    /// </summary>
    private static (List<DateOnly> Sessions, List<Point> Points) History(Random random, string measure)
    {
        var sessions = new List<DateOnly>();
        var day = _start.AddDays(random.Next(0, 30));
        for (var i = random.Next(0, 6); i > 0; i--)
        {
            sessions.Add(day);
            day = day.AddDays(random.Next(0, 4) == 0 ? random.Next(0, 20) : random.Next(40, 200));
        }
        decimal Value() => measure switch
        {
            "pgic" => random.Next(1, 8),
            "rotation" => random.Next(0, 5) == 0 ? 0 : random.Next(20, 90),
            _ => random.Next(0, 8) == 0 ? 0 : random.Next(0, 41) / 4m,
        };
        var points = new List<Point>();
        var end = day.AddDays(random.Next(0, 60));
        for (var d = _start; d <= end; d = d.AddDays(random.Next(0, 3) == 0 ? 0 : random.Next(1, 10)))
        {
            points.Add(new Point(d, Value()));
        }
        return (sessions, points);
    }

    [Theory]
    [MemberData(nameof(Measures))]
    public void ReadInPiecesThroughCopies_GivesWhatTheDefinitionsGiveOfTheWholeHistory_AndEachCopyStaysAsItWas(string name)
    {
        var measure = Measure(name);
        var random = new Random(name.Length * 31);
        var rule = new BaselineRule();
        var statuses = new HashSet<WindowStatus>();
        for (var run = 0; run < 1500; run++)
        {
            var (sessions, points) = History(random, name);
            var weekly = random.Next(0, 2) == 0;
            var today = points[^1].Day.AddDays(random.Next(-30, 60));

            // Read in random pieces, each through a copy of the one before, as a kept state is advanced (the series so
            // far, read from where the one before stopped).
            var progress = new MeasureProgress(measure, sessions, rule, trend: weekly);
            var copies = new List<(MeasureProgress Copy, string Then)>();
            for (var read = 0; read < points.Count;)
            {
                var piece = random.Next(1, Math.Max(2, points.Count / 3));
                copies.Add((progress, Answers(progress, today)));
                progress = progress.Advanced([.. points.Take(read + piece)], read);
                read += piece;
            }

            Assert.Equal(points.Count, progress.Count);
            var expected = Reference(measure, sessions, points, today, rule, weekly);
            var actual = Answers(progress, today);
            Assert.True(expected == actual, $"run {run}:\nexpected {expected}\nactual   {actual}");
            Assert.Equal(Json(CycleOutcomes.Compute(measure, sessions, points, today, rule)), Json(progress.Outcomes(today)));
            Assert.All(copies, c => Assert.Equal(c.Then, Answers(c.Copy, today)));
            statuses.UnionWith(progress.Outcomes(today).SelectMany(c => c.Windows).Select(w => w.Status));
        }
        // The histories reach every window status, so the comparison covers each.
        Assert.Equal(Enum.GetValues<WindowStatus>().Order(), statuses.Order());
    }

    [Fact]
    public void AValueDatedBeforeTheLastOneRead_IsRefused()
    {
        var progress = new MeasureProgress(_pain, [_start], new BaselineRule(), trend: true);
        progress.Add(new Point(_start.AddDays(3), 5));

        Assert.Throws<ArgumentException>(() => progress.Add(new Point(_start.AddDays(2), 4)));
        Assert.Equal(1, progress.Count);
    }

    [Fact]
    public void WithoutATrend_OnlyOutcomesAreKept()
    {
        var progress = new MeasureProgress(_pain, [_start], new BaselineRule());

        Assert.Throws<InvalidOperationException>(() => progress.Series());
        Assert.Throws<InvalidOperationException>(() => progress.CycleTrends());
    }

    private static string Json<T>(T value) => JsonSerializer.Serialize(value);

    /// <summary>Everything a kept progress answers, as text: outcomes, series and slopes (to 9 significant digits).</summary>
    private static string Answers(MeasureProgress progress, DateOnly today) =>
        Json(progress.Outcomes(today)) + "\n" + Json(progress.Series()) + "\n" + Slopes(progress.CycleTrends());

    private static string Slopes(IEnumerable<CycleTrend> trends) =>
        string.Join(";", trends.Select(t => $"{t.Number} {t.Session} {t.End} {G(t.SlopePerWeek)} {G(t.SlopeLowerPerWeek)} {G(t.SlopeUpperPerWeek)} {t.Points}"));

    private static string G(double? value) => value?.ToString("G9", System.Globalization.CultureInfo.InvariantCulture) ?? "-";

    /// <summary>
    /// The definitions applied to the whole history at once, written out as they read: per cycle the state of
    /// <see cref="CycleStateTests.Reference"/> over the values before the next session; per window the report closest
    /// to its target day within it (the earlier on a tie), its status by the rules of docs/clinical-definitions.md;
    /// the weekly series as each ISO week's mean; each cycle's slope fitted to its reports (weekly: one point per
    /// week of the cycle, the mean day against the mean value).
    /// </summary>
    private static string Reference(MeasureDefinition measure, List<DateOnly> sessionDays, List<Point> points, DateOnly today, BaselineRule rule, bool weekly)
    {
        var sessions = sessionDays.Distinct().Order().ToList();
        var outcomes = new List<CycleOutcome>();
        var trends = new List<CycleTrend>();
        for (var c = 0; c < sessions.Count; c++)
        {
            var session = sessions[c];
            DateOnly? next = c + 1 < sessions.Count ? sessions[c + 1] : null;
            var cycle = points.Where(p => next is null || p.Day < next).ToList();
            var reports = cycle.Where(p => p.Day > session).ToList();
            var (baseline, status, onset, loss, duration, censored) = CycleStateTests.Reference.Cycle(measure, session, cycle, rule);
            var used = measure.ResponderMaxScore is not null ? null
                : points.Where(p => p.Day >= rule.WindowStart(session) && p.Day <= session && (next is null || p.Day < next)).TakeLast(rule.MaxValues).ToList();
            var windows = FollowUpWindow.Standard.Select(w =>
            {
                var (from, until) = (session.AddDays(w.Week * 7 - w.EarlyDays), session.AddDays(w.Week * 7 + w.LateDays));
                var target = session.AddDays(w.Week * 7).DayNumber;
                var value = reports.Where(p => p.Day >= from && p.Day <= until).OrderBy(p => Math.Abs(p.Day.DayNumber - target)).FirstOrDefault();
                var status = next is { } n && n <= from ? WindowStatus.CycleEndedBefore
                    : value is not null ? WindowStatus.Value
                    : today > until || (next is { } n2 && n2 <= until) ? WindowStatus.NoValueInWindow
                    : WindowStatus.NotYetReached;
                var shown = status == WindowStatus.Value ? value : null;
                return new WindowOutcome(w.Week, from, until, status, shown,
                    shown is not null && baseline is { } b ? CycleOutcomes.ChangeFrom(measure, b, shown.Value) : null,
                    shown is not null && measure.ResponderMaxScore is { } max ? shown.Value <= max : null);
            }).ToList();
            outcomes.Add(new CycleOutcome(c + 1, session, next,
                used is null ? null : new Baseline(baseline, used, rule.WindowStart(session), session),
                windows, onset, onset is { } o ? o.DayNumber - session.DayNumber : null, loss, duration, censored, status));

            var groups = reports.GroupBy(p => weekly ? DueSchedule.WeekStart(p.Day) : p.Day).SelectMany(g => weekly ? [g.ToList()] : g.Select(p => new List<Point> { p }));
            var fitted = groups.Select(g => (X: (double)g.Sum(p => p.Day.DayNumber - session.DayNumber) / g.Count / 7, Y: g.Sum(p => (double)p.Value) / g.Count)).ToList();
            var fit = LinearTrend.Fit([.. fitted.Select(f => f.X)], [.. fitted.Select(f => f.Y)]);
            trends.Add(new CycleTrend(c + 1, session, next, fit?.Slope, fit?.SlopeLower, fit?.SlopeUpper, fitted.Count));
        }
        var series = weekly
            ? points.GroupBy(p => DueSchedule.WeekStart(p.Day)).Select(g => new SeriesPoint(g.Key, Math.Round(g.Average(p => p.Value), 2, MidpointRounding.AwayFromZero), g.Count()))
            : points.Select(p => new SeriesPoint(p.Day, p.Value, 1));
        return Json(outcomes) + "\n" + Json(series.ToList()) + "\n" + Slopes(trends);
    }
}

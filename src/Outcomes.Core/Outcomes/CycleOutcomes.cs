using Outcomes.Core.Clinic;
using Outcomes.Core.Instruments;

namespace Outcomes.Core.Outcomes;

/// <summary>One current value of a measure on a day (UTC).</summary>
public sealed record Point(DateOnly Day, decimal Value);

/// <summary>What a measure is and how its change is judged.</summary>
/// <param name="Key">Measure key, e.g. <c>pain_nrs</c>, <c>ndi</c>, <c>cervical_rotation_left</c>.</param>
/// <param name="ImportantChange">Smallest improvement in points that matters (MCID, or for range of motion
/// and pressure thresholds the minimal detectable change); null when none is established.</param>
/// <param name="ImportantChangePercent">The same as a percentage of baseline; a measure with both is met by either (its sources say "X points or 30%").</param>
/// <param name="ResponderMaxScore">For a global impression of change (PGIC): a score at or below this is a
/// response, and no baseline applies.</param>
public sealed record MeasureDefinition(
    string Key,
    string Name,
    Direction Direction,
    string? Unit,
    decimal? ImportantChange = null,
    decimal? ImportantChangePercent = null,
    decimal? ResponderMaxScore = null);

/// <summary>
/// The baseline of a cycle: the mean of the last values (at most maxValues of them) within windowDays
/// days up to and including the session day. Our choice, configurable; by default the mean of the
/// last two within 14 days (docs/clinical-definitions.md).
/// </summary>
public sealed record BaselineRule(int WindowDays = 14, int MaxValues = 2)
{
    /// <summary>The first day of the baseline window of a session on <paramref name="session"/>.</summary>
    public DateOnly WindowStart(DateOnly session) => session.AddDays(-WindowDays);
}

/// <param name="Value">The baseline; null when no value lies in the window.</param>
/// <param name="Used">The values it is the mean of.</param>
public sealed record Baseline(decimal? Value, IReadOnlyList<Point> Used, DateOnly From, DateOnly Until);

/// <summary>Change from baseline, direction-aware: <see cref="Improvement"/> is positive when the patient is better.</summary>
/// <param name="Percent">Change as a percentage of baseline; null when the baseline is 0 (undefined, see <see cref="Note"/>).</param>
/// <param name="Responder30">Improvement of at least 30% of baseline; null when undefined.</param>
/// <param name="Responder50">Improvement of at least 50% of baseline; null when undefined.</param>
/// <param name="ImportantChange">Improvement of at least the measure's important change, in points or in percent
/// (either suffices); null when it has none.</param>
public sealed record Change(
    decimal Absolute,
    decimal? Percent,
    decimal Improvement,
    decimal? ImprovementPercent,
    bool? Responder30,
    bool? Responder50,
    bool? ImportantChange,
    string? Note);

public enum WindowStatus
{
    /// <summary>A value lies in the window.</summary>
    Value,

    /// <summary>The window has passed within the cycle with no value in it (never carried forward).</summary>
    NoValueInWindow,

    /// <summary>The window has not closed yet and holds no value so far.</summary>
    NotYetReached,

    /// <summary>The next session came before the window opened.</summary>
    CycleEndedBefore,
}

/// <param name="Value">The value closest to the target day (the earlier one on a tie).</param>
/// <param name="Responder">For PGIC-like measures: whether the value is a response.</param>
public sealed record WindowOutcome(int Week, DateOnly From, DateOnly Until, WindowStatus Status, Point? Value, Change? Change, bool? Responder);

public enum ResponseStatus
{
    /// <summary>No value in the baseline window: nothing is invented.</summary>
    NoBaseline,

    /// <summary>Baseline 0 and lower is better: no percentage improvement is defined.</summary>
    Undefined,

    /// <summary>No value after the session yet.</summary>
    NoDataYet,

    /// <summary>No report after the session has met the 30% test.</summary>
    NotResponding,

    Responding,

    /// <summary>Still responding, but relief has fallen by more than a third from the cycle's best.</summary>
    WearingOff,

    /// <summary>Two consecutive reports have failed the 30% test after onset.</summary>
    Lost,
}

/// <summary>Outcome of one treatment cycle for one measure.</summary>
/// <param name="End">The next session's date; null for the current cycle.</param>
/// <param name="OnsetDays">Days from the session to the first report meeting the 30% test.</param>
/// <param name="LossOn">Day of the first of two consecutive reports failing it after onset.</param>
/// <param name="DurationDays">Onset to loss; when censored, onset to the cycle's last report (last contact), which
/// comes before any re-treatment.</param>
/// <param name="DurationCensored">True when the cycle ended (re-treatment or last contact) before any loss.</param>
public sealed record CycleOutcome(
    int Number,
    DateOnly Session,
    DateOnly? End,
    Baseline? Baseline,
    IReadOnlyList<WindowOutcome> Windows,
    DateOnly? OnsetOn,
    int? OnsetDays,
    DateOnly? LossOn,
    int? DurationDays,
    bool DurationCensored,
    ResponseStatus Status);

/// <summary>
/// Per-cycle outcomes of one measure: baseline, follow-up windows, change, responder status,
/// onset, loss and duration of response. Pure: the caller passes the current values only.
/// </summary>
public static class CycleOutcomes
{
    /// <summary>Relief that counts as a response (≥30% is moderately important: Farrar 2001; IMMPACT).</summary>
    public const decimal ResponsePercent = 30m;

    public static IReadOnlyList<CycleOutcome> Compute(
        MeasureDefinition measure,
        IReadOnlyList<DateOnly> sessions,
        IReadOnlyList<Point> points,
        DateOnly today,
        BaselineRule? baselineRule = null,
        IReadOnlyList<FollowUpWindow>? windows = null)
    {
        var rule = baselineRule ?? new BaselineRule();
        var followUps = windows ?? FollowUpWindow.Standard;
        var ordered = IsOrdered(points) ? [.. points] : points.OrderBy(p => p.Day).ToList();
        var sorted = sessions.Distinct().Order().ToList();
        var outcomes = new List<CycleOutcome>(sorted.Count);
        for (var i = 0; i < sorted.Count; i++)
        {
            DateOnly? next = i + 1 < sorted.Count ? sorted[i + 1] : null;
            outcomes.Add(Cycle(measure, i + 1, sorted[i], next, ordered, today, rule, followUps));
        }
        return outcomes;
    }

    private static bool IsOrdered(IReadOnlyList<Point> points)
    {
        for (var i = 1; i < points.Count; i++)
        {
            if (points[i].Day < points[i - 1].Day)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Index of the first point on or after <paramref name="day"/> in points ordered by day (binary search).</summary>
    private static int FirstOnOrAfter(List<Point> ordered, DateOnly day)
    {
        int lo = 0, hi = ordered.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (ordered[mid].Day < day)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        return lo;
    }

    public static Change ChangeFrom(MeasureDefinition measure, decimal baseline, decimal value)
    {
        var absolute = value - baseline;
        var improvement = measure.Direction == Direction.HigherIsWorse ? -absolute : absolute;
        if (baseline == 0)
        {
            return new Change(absolute, null, improvement, null, null, null, ImportantChangeMet(measure, improvement, null),
                "Baseline is 0: percent change is undefined.");
        }
        var percent = absolute / Math.Abs(baseline) * 100m;
        var improvementPercent = ImprovementPercent(measure, baseline, value);
        return new Change(absolute, Round(percent), improvement, Round(improvementPercent),
            improvement * 100m >= ResponsePercent * Math.Abs(baseline), improvement * 100m >= 50m * Math.Abs(baseline),
            ImportantChangeMet(measure, improvement, improvementPercent), null);
    }

    /// <summary>Improvement as a percentage of a non-zero baseline, unrounded (reported rounded; the percent important-change test reads it).</summary>
    private static decimal ImprovementPercent(MeasureDefinition measure, decimal baseline, decimal value)
    {
        var absolute = value - baseline;
        var improvement = measure.Direction == Direction.HigherIsWorse ? -absolute : absolute;
        return improvement / Math.Abs(baseline) * 100m;
    }

    /// <summary>The 30% test of <see cref="ChangeFrom"/> without building the change: null when the baseline is 0.</summary>
    /// <remarks>
    /// Compared as improvement × 100 ≥ 30 × |baseline|: the same inequality as the percentage, but
    /// exact in decimal (products of these values never round) and without a division per report.
    /// </remarks>
    internal static bool? Responds30(MeasureDefinition measure, decimal baseline, decimal value)
    {
        if (baseline == 0)
        {
            return null;
        }
        var absolute = value - baseline;
        var improvement = measure.Direction == Direction.HigherIsWorse ? -absolute : absolute;
        return improvement * 100m >= ResponsePercent * Math.Abs(baseline);
    }

    /// <summary>For a global impression of change (PGIC): a score at or below the measure's responder ceiling is a response.</summary>
    internal static bool RespondsByImpression(MeasureDefinition measure, decimal value) => value <= measure.ResponderMaxScore;

    /// <summary>Relief as the rounded percentage of a non-zero baseline that a change reports (<see cref="Change.ImprovementPercent"/>).</summary>
    internal static decimal ReliefPercent(MeasureDefinition measure, decimal baseline, decimal value) =>
        Round(ImprovementPercent(measure, baseline, value));

    /// <summary>
    /// The important change is met by either threshold the measure defines: "10 points or 30%" (ODI), "15 mm
    /// or 30%" (VAS, both Ostelo et al. 2008), "about 2 points or about 30%" (pain NRS, Farrar et al. 2001).
    /// A percentage is undefined for a baseline of 0, so there only the points apply; null when the measure has neither.
    /// </summary>
    private static bool? ImportantChangeMet(MeasureDefinition measure, decimal improvement, decimal? improvementPercent)
    {
        bool? byPoints = measure.ImportantChange is { } points ? improvement >= points : null;
        bool? byPercent = measure.ImportantChangePercent is { } percent && improvementPercent is { } p ? p >= percent : null;
        return byPoints == true || byPercent == true ? true
            : byPoints is null && byPercent is null ? null
            : false;
    }

    private static CycleOutcome Cycle(
        MeasureDefinition measure, int number, DateOnly session, DateOnly? next, List<Point> ordered, DateOnly today,
        BaselineRule rule, IReadOnlyList<FollowUpWindow> followUps)
    {
        var isImpression = measure.ResponderMaxScore is not null;
        // Reports that belong to this cycle: after the session day, before the next session.
        var first = FirstOnOrAfter(ordered, session.AddDays(1));
        var end = next is { } n ? FirstOnOrAfter(ordered, n) : ordered.Count;
        var after = ordered.GetRange(first, end - first);

        // The baseline window's values and the reports, read in day order.
        var state = new CycleState(measure, session, rule);
        for (var i = isImpression ? first : FirstOnOrAfter(ordered, rule.WindowStart(session)); i < end; i++)
        {
            state.Add(ordered[i]);
        }
        var baseline = state.Baseline;

        Func<Point, bool?>? impressionResponds = isImpression ? p => RespondsByImpression(measure, p.Value) : null;
        var windows = followUps.Select(w => Window(measure, w, session, next, after, today, baseline?.Value, impressionResponds)).ToList();
        return new CycleOutcome(number, session, next, baseline, windows, state.OnsetOn, state.OnsetDays, state.LossOn,
            state.DurationDays, state.DurationCensored, state.Status);
    }

    private static WindowOutcome Window(
        MeasureDefinition measure, FollowUpWindow w, DateOnly session, DateOnly? next, List<Point> after, DateOnly today,
        decimal? baseline, Func<Point, bool?>? impressionResponds)
    {
        var from = w.Start(session);
        var until = w.End(session);
        if (next is { } n && n <= from)
        {
            return new WindowOutcome(w.Week, from, until, WindowStatus.CycleEndedBefore, null, null, null);
        }
        var target = session.AddDays(w.Week * 7);
        // The closest to the target day; on a tie the earlier (after is ordered by day, so the first found).
        Point? value = null;
        var best = int.MaxValue;
        foreach (var p in after)
        {
            var distance = Math.Abs(p.Day.DayNumber - target.DayNumber);
            if (p.Day >= from && p.Day <= until && distance < best)
            {
                value = p;
                best = distance;
            }
        }
        if (value is null)
        {
            var closed = today > until || (next is { } n2 && n2 <= until);
            return new WindowOutcome(w.Week, from, until, closed ? WindowStatus.NoValueInWindow : WindowStatus.NotYetReached, null, null, null);
        }
        return new WindowOutcome(w.Week, from, until, WindowStatus.Value, value,
            baseline is { } b ? ChangeFrom(measure, b, value.Value) : null,
            impressionResponds?.Invoke(value));
    }

    private static decimal Round(decimal value) => decimal.Round(value, 2, MidpointRounding.AwayFromZero);

    /// <summary>
    /// The days on which <see cref="Compute"/>, given the same sessions and values, gives <paramref name="cycle"/>
    /// again, <paramref name="today"/> among them. The day enters a cycle's outcome in one place only: a window with
    /// no value that the next session has not closed is "not yet reached" up to its last day and "no value in the
    /// window" after it. Every other outcome is the same on any day.
    /// </summary>
    public static (DateOnly From, DateOnly To) DaysAlike(CycleOutcome cycle, DateOnly today)
    {
        var (from, to) = (DateOnly.MinValue, DateOnly.MaxValue);
        foreach (var w in cycle.Windows)
        {
            var openToTheDay = w.Status is WindowStatus.NotYetReached or WindowStatus.NoValueInWindow
                && !(cycle.End is { } next && next <= w.Until);
            if (!openToTheDay)
            {
                continue;
            }
            if (today > w.Until)
            {
                from = from > w.Until.AddDays(1) ? from : w.Until.AddDays(1);
            }
            else
            {
                to = to < w.Until ? to : w.Until;
            }
        }
        return (from, to);
    }
}

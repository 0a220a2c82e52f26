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
        var progress = new MeasureProgress(measure, sessions, baselineRule ?? new BaselineRule(), windows ?? FollowUpWindow.Standard);
        progress.AddRange(PointSeries.InDayOrder(points) ? points : points.OrderBy(p => p.Day));
        return progress.Outcomes(today);
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

/// <summary>
/// One cycle of one measure read one value at a time in day order: its <see cref="CycleState"/> and, per follow-up
/// window, the report closest to the window's target day so far (the earlier on a tie, as the first found).
/// </summary>
internal sealed class CycleReader
{
    private readonly DateOnly _session;
    private readonly IReadOnlyList<FollowUpWindow> _windows;
    private CycleState _state;
    private Point?[] _closest;
    private int[] _distance;

    public CycleReader(MeasureDefinition measure, DateOnly session, BaselineRule rule, IReadOnlyList<FollowUpWindow> windows)
    {
        _session = session;
        _windows = windows;
        _state = new CycleState(measure, session, rule);
        _closest = new Point?[windows.Count];
        _distance = new int[windows.Count];
        Array.Fill(_distance, int.MaxValue);
    }

    /// <summary>Reads the next value: from the cycle's first day read (<see cref="CycleState"/>) to the day before the next session.</summary>
    public void Add(Point p)
    {
        _state.Add(p);
        if (p.Day <= _session)
        {
            return;
        }
        for (var i = 0; i < _windows.Count; i++)
        {
            var w = _windows[i];
            var target = _session.DayNumber + w.Week * 7;
            var distance = Math.Abs(p.Day.DayNumber - target);
            if (distance < _distance[i] && p.Day.DayNumber >= target - w.EarlyDays && p.Day.DayNumber <= target + w.LateDays)
            {
                _closest[i] = p;
                _distance[i] = distance;
            }
        }
    }

    public CycleOutcome Result(MeasureDefinition measure, int number, DateOnly? next, DateOnly today)
    {
        var baseline = _state.Baseline;
        var windows = new List<WindowOutcome>(_windows.Count);
        for (var i = 0; i < _windows.Count; i++)
        {
            windows.Add(Window(measure, _windows[i], next, today, baseline?.Value, _closest[i]));
        }
        return new CycleOutcome(number, _session, next, baseline, windows, _state.OnsetOn, _state.OnsetDays, _state.LossOn,
            _state.DurationDays, _state.DurationCensored, _state.Status);
    }

    private WindowOutcome Window(MeasureDefinition measure, FollowUpWindow w, DateOnly? next, DateOnly today, decimal? baseline, Point? value)
    {
        var from = w.Start(_session);
        var until = w.End(_session);
        if (next is { } n && n <= from)
        {
            return new WindowOutcome(w.Week, from, until, WindowStatus.CycleEndedBefore, null, null, null);
        }
        if (value is null)
        {
            var closed = today > until || (next is { } n2 && n2 <= until);
            return new WindowOutcome(w.Week, from, until, closed ? WindowStatus.NoValueInWindow : WindowStatus.NotYetReached, null, null, null);
        }
        return new WindowOutcome(w.Week, from, until, WindowStatus.Value, value,
            baseline is { } b ? CycleOutcomes.ChangeFrom(measure, b, value.Value) : null,
            measure.ResponderMaxScore is not null ? CycleOutcomes.RespondsByImpression(measure, value.Value) : null);
    }

    public CycleReader Clone()
    {
        var copy = (CycleReader)MemberwiseClone();
        copy._state = _state.Clone();
        copy._closest = (Point?[])_closest.Clone();
        copy._distance = (int[])_distance.Clone();
        return copy;
    }
}

/// <summary>
/// One patient's values of one measure read one at a time in day order, kept as what their outcomes per cycle
/// (<see cref="CycleOutcomes.Compute"/>) and, when asked for, their trend (<see cref="Trends"/>: the plotted series
/// and each cycle's slope) are made of. A value read after the others costs the same whatever was read before, so a
/// caller that keeps one can advance it by the values appended since instead of reading the whole history again;
/// the answers are the same either way (the Compute and Trends functions read every value through the same pieces).
/// </summary>
/// <remarks>
/// Sessions, baseline rule and windows are fixed at construction: another session needs another instance. Each
/// cycle reads the values from its baseline window's first day (for an impression measure, the day after its
/// session) up to the day before the next session, so a value is read by at most the cycles whose windows overlap.
/// </remarks>
public sealed class MeasureProgress
{
    private readonly MeasureDefinition _measure;
    private readonly DateOnly[] _sessions;
    private readonly BaselineRule _rule;
    private CycleReader[] _cycles;
    private SeriesBuilder? _series;
    private CycleSlope[]? _slopes;
    private int _first;

    /// <param name="trend">
    /// Null for outcomes only; true or false to keep the trend too, as weekly means (<see cref="Trends.Weekly"/>)
    /// or single values (<see cref="Trends.Daily"/>).
    /// </param>
    public MeasureProgress(MeasureDefinition measure, IEnumerable<DateOnly> sessions, BaselineRule rule,
        IReadOnlyList<FollowUpWindow>? windows = null, bool? trend = null)
    {
        _measure = measure;
        _rule = rule;
        _sessions = [.. sessions.Distinct().Order()];
        var followUps = windows ?? FollowUpWindow.Standard;
        _cycles = [.. _sessions.Select(s => new CycleReader(measure, s, rule, followUps))];
        if (trend is { } weekly)
        {
            Weekly = weekly;
            _series = new SeriesBuilder(weekly);
            _slopes = [.. _sessions.Select(s => new CycleSlope(s, weekly))];
        }
    }

    public MeasureDefinition Measure => _measure;

    public BaselineRule Rule => _rule;

    /// <summary>The sessions' distinct days in order: the cycles' starts.</summary>
    public IReadOnlyList<DateOnly> Sessions => _sessions;

    /// <summary>Whether the trend kept is weekly means (false: single values, or no trend kept).</summary>
    public bool Weekly { get; }

    /// <summary>Values read.</summary>
    public long Count { get; private set; }

    public DateOnly? LastDay { get; private set; }

    /// <summary>What is kept, in points of series, slopes and cycles: a measure of the memory it takes.</summary>
    public int Size => (_series?.Count ?? 0) + (_slopes?.Sum(s => s.Count) ?? 0) + _cycles.Length * 8;

    /// <summary>Reads the next value.</summary>
    /// <exception cref="ArgumentException">The value is dated before the last one read.</exception>
    public void Add(Point p)
    {
        if (LastDay is { } last && p.Day < last)
        {
            throw new ArgumentException($"Values are read in day order: {p.Day:yyyy-MM-dd} came after {last:yyyy-MM-dd}.", nameof(p));
        }
        LastDay = p.Day;
        Count++;
        _series?.Add(p);
        // Cycles before _first ended before this day (their next session is on or before it).
        while (_first + 1 < _sessions.Length && _sessions[_first + 1] <= p.Day)
        {
            _first++;
        }
        var impression = _measure.ResponderMaxScore is not null;
        for (var c = _first; c < _sessions.Length; c++)
        {
            var session = _sessions[c];
            if (p.Day < (impression ? session.AddDays(1) : _rule.WindowStart(session)))
            {
                break;
            }
            _cycles[c].Add(p);
            if (p.Day > session)
            {
                _slopes?[c].Add(p);
            }
        }
    }

    /// <summary>Reads the next values, in the order given.</summary>
    /// <exception cref="ArgumentException">A value is dated before the last one read.</exception>
    public void AddRange(IEnumerable<Point> points)
    {
        foreach (var p in points)
        {
            Add(p);
        }
    }

    /// <summary>Per cycle, its outcome on <paramref name="today"/>: what <see cref="CycleOutcomes.Compute"/> gives of the values read.</summary>
    public IReadOnlyList<CycleOutcome> Outcomes(DateOnly today)
    {
        var outcomes = new List<CycleOutcome>(_cycles.Length);
        for (var c = 0; c < _cycles.Length; c++)
        {
            outcomes.Add(_cycles[c].Result(_measure, c + 1, Next(c), today));
        }
        return outcomes;
    }

    /// <summary>The plotted series: what <see cref="Trends.Weekly"/> or <see cref="Trends.Daily"/> gives of the values read.</summary>
    /// <exception cref="InvalidOperationException">No trend is kept.</exception>
    public IReadOnlyList<SeriesPoint> Series() => (_series ?? throw new InvalidOperationException("No trend is kept.")).Result();

    /// <summary>Each cycle's slope: what <see cref="Trends.PerCycle"/> gives of the values read.</summary>
    /// <exception cref="InvalidOperationException">No trend is kept.</exception>
    public IReadOnlyList<CycleTrend> CycleTrends()
    {
        var slopes = _slopes ?? throw new InvalidOperationException("No trend is kept.");
        var result = new List<CycleTrend>(slopes.Length);
        for (var c = 0; c < slopes.Length; c++)
        {
            result.Add(slopes[c].Result(c + 1, Next(c)));
        }
        return result;
    }

    private DateOnly? Next(int cycle) => cycle + 1 < _sessions.Length ? _sessions[cycle + 1] : null;

    /// <summary>
    /// A copy advanced by the values from index <paramref name="from"/> on, while this one stays as it is; this progress
    /// itself when there are none.
    /// </summary>
    /// <exception cref="ArgumentException">A value is dated before the last one read.</exception>
    public MeasureProgress Advanced(IReadOnlyList<Point> points, int from = 0)
    {
        if (from >= points.Count)
        {
            return this;
        }
        var copy = Clone();
        for (var i = from; i < points.Count; i++)
        {
            copy.Add(points[i]);
        }
        return copy;
    }

    /// <summary>An independent copy, to advance while this one stays as it is.</summary>
    public MeasureProgress Clone()
    {
        var copy = (MeasureProgress)MemberwiseClone();
        // Cycles before _first take no more values; they are shared, as they stay as they are.
        copy._cycles = (CycleReader[])_cycles.Clone();
        for (var c = _first; c < _cycles.Length; c++)
        {
            copy._cycles[c] = _cycles[c].Clone();
        }
        copy._series = _series?.Clone();
        if (_slopes is not null)
        {
            copy._slopes = (CycleSlope[])_slopes.Clone();
            for (var c = _first; c < _slopes.Length; c++)
            {
                copy._slopes[c] = _slopes[c].Clone();
            }
        }
        return copy;
    }
}

namespace Outcomes.Core.Outcomes;

/// <summary>
/// One treatment cycle of one measure read one value at a time, in day order: its baseline, and its response
/// as <see cref="CycleOutcomes"/> defines it (onset, loss as two consecutive failures, wearing off from the best
/// two-report mean relief, duration), held in a few fields. A value read after the others costs the same
/// whatever the cycle already holds, so a caller that keeps the state can advance it by the values appended
/// since, instead of reading the cycle again. <see cref="CycleOutcomes.Compute"/> reads every cycle through it.
/// </summary>
/// <remarks>
/// The values read are those from the baseline window's first day (<see cref="BaselineRule.WindowStart"/>) up to
/// the day before the next session; earlier ones are passed over. Values on or before the session day are the
/// baseline's candidates, later ones the cycle's reports.
/// </remarks>
public sealed class CycleState
{
    private readonly MeasureDefinition _measure;
    private readonly BaselineRule _rule;
    private readonly bool _isImpression;
    private List<Point> _baseline;

    // Fixed at the first report: the baseline every report is judged against (none for an impression measure).
    private decimal? _baselineValue;
    private bool _anyDefined;
    private DateOnly? _previousFailedOn;
    private decimal? _lastRelief;
    private int _pairs;
    private decimal _latestPair;
    private decimal _bestPair;

    public CycleState(MeasureDefinition measure, DateOnly session, BaselineRule rule)
    {
        _measure = measure;
        _rule = rule;
        _isImpression = measure.ResponderMaxScore is not null;
        _baseline = new List<Point>(rule.MaxValues);
        Session = session;
    }

    public DateOnly Session { get; }

    /// <summary>The day of the last value read, if any.</summary>
    public DateOnly? LastDay { get; private set; }

    /// <summary>Reports read: values after the session day.</summary>
    public int Reports { get; private set; }

    public DateOnly? LastReportOn { get; private set; }

    public DateOnly? OnsetOn { get; private set; }

    public DateOnly? LossOn { get; private set; }

    public int? OnsetDays => OnsetOn is { } onset ? onset.DayNumber - Session.DayNumber : null;

    /// <summary>Onset to loss; without a loss, onset to the last report (censored).</summary>
    public int? DurationDays => OnsetOn is not { } onset ? null
        : LossOn is { } loss ? loss.DayNumber - onset.DayNumber
        : LastReportOn!.Value.DayNumber - onset.DayNumber;

    public bool DurationCensored => OnsetOn is not null && LossOn is null;

    /// <summary>The mean of the last <see cref="BaselineRule.MaxValues"/> values in the window; null for an impression measure.</summary>
    public Baseline? Baseline => _isImpression ? null
        : new Baseline(_baseline.Count == 0 ? null : _baseline.Average(p => p.Value), [.. _baseline], _rule.WindowStart(Session), Session);

    public ResponseStatus Status =>
        !_isImpression && _baseline.Count == 0 ? ResponseStatus.NoBaseline
        : Reports == 0 ? ResponseStatus.NoDataYet
        : !_anyDefined ? ResponseStatus.Undefined
        : OnsetOn is null ? ResponseStatus.NotResponding
        : LossOn is not null ? ResponseStatus.Lost
        : IsWearingOff ? ResponseStatus.WearingOff
        : ResponseStatus.Responding;

    /// <summary>
    /// Our definition: the mean relief of the latest two reports is still a response but has fallen below
    /// two thirds of the best mean relief of two consecutive reports since onset (relief as the rounded
    /// percentage a change reports); it needs two such means.
    /// </summary>
    private bool IsWearingOff => _pairs >= 2 && _latestPair >= CycleOutcomes.ResponsePercent && _latestPair < _bestPair * 2 / 3;

    /// <summary>Reads the next value of the cycle.</summary>
    /// <exception cref="ArgumentException">The value is dated before the last one read.</exception>
    public void Add(Point point)
    {
        if (LastDay is { } last && point.Day < last)
        {
            throw new ArgumentException($"Values are read in day order: {point.Day:yyyy-MM-dd} came after {last:yyyy-MM-dd}.", nameof(point));
        }
        LastDay = point.Day;
        if (point.Day <= Session)
        {
            if (!_isImpression && point.Day >= _rule.WindowStart(Session) && _rule.MaxValues > 0)
            {
                if (_baseline.Count == _rule.MaxValues)
                {
                    _baseline.RemoveAt(0);
                }
                _baseline.Add(point);
            }
            return;
        }
        AddReport(point);
    }

    /// <summary>Reads the next values of the cycle, in the order given.</summary>
    /// <exception cref="ArgumentException">A value is dated before the last one read.</exception>
    public void AddRange(IEnumerable<Point> points)
    {
        foreach (var point in points)
        {
            Add(point);
        }
    }

    private void AddReport(Point point)
    {
        if (Reports++ == 0)
        {
            _baselineValue = _isImpression || _baseline.Count == 0 ? null : _baseline.Average(p => p.Value);
        }
        LastReportOn = point.Day;
        if (!_isImpression && _baselineValue is null)
        {
            return;
        }
        var responds = _isImpression ? CycleOutcomes.RespondsByImpression(_measure, point.Value) : CycleOutcomes.Responds30(_measure, _baselineValue!.Value, point.Value);
        _anyDefined |= responds is not null;
        if (LossOn is not null)
        {
            return;
        }
        if (OnsetOn is null)
        {
            if (responds == true)
            {
                OnsetOn = point.Day;
                AddRelief(point);
            }
            return;
        }
        // After onset: the first of two consecutive failures is the day the response was lost.
        if (responds == false && _previousFailedOn is { } failed)
        {
            LossOn = failed;
            return;
        }
        _previousFailedOn = responds == false ? point.Day : null;
        AddRelief(point);
    }

    private void AddRelief(Point point)
    {
        if (_isImpression || _baselineValue is not { } baseline || baseline == 0)
        {
            return;
        }
        var relief = CycleOutcomes.ReliefPercent(_measure, baseline, point.Value);
        if (_lastRelief is { } previous)
        {
            var pair = (previous + relief) / 2;
            _bestPair = ++_pairs == 1 || pair > _bestPair ? pair : _bestPair;
            _latestPair = pair;
        }
        _lastRelief = relief;
    }

    /// <summary>An independent copy, to advance while this one stays as it is.</summary>
    public CycleState Clone()
    {
        var copy = (CycleState)MemberwiseClone();
        copy._baseline = [.. _baseline];
        return copy;
    }
}

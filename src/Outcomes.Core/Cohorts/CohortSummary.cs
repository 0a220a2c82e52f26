using Outcomes.Core.Outcomes;
using Outcomes.Core.Statistics;

namespace Outcomes.Core.Cohorts;

/// <summary>A count of cycles and of the distinct patients behind them; both null when suppressed.</summary>
public sealed record CountCell(int? Cycles, int? Patients, bool Suppressed);

/// <summary>A response rate, k of n cycles, with its 95% Wilson interval; all figures null when suppressed.</summary>
public sealed record RateCell(int? K, int? N, double? Rate, double? Lower, double? Upper, bool Suppressed);

public sealed record MeanCell(int? N, double? Mean, double? Lower, double? Upper, bool Suppressed);

public sealed record MedianCell(int? N, double? Median, double? Q1, double? Q3, bool Suppressed);

/// <summary>Survival of response at a whole week after onset; figures null when the risk set or the losses so far describe too few patients.</summary>
public sealed record CurvePoint(int Week, int? AtRisk, double? Survival, double? Lower, double? Upper, bool Suppressed);

/// <summary>Kaplan–Meier duration of response, in days from onset.</summary>
public sealed record DurationSummary(CountCell Cycles, CountCell Losses, double? MedianDays, double? MedianLowerDays, double? MedianUpperDays, bool Suppressed, IReadOnlyList<CurvePoint> Curve);

/// <summary>What a cohort's outcome reports, safe to publish: every small cell is suppressed.</summary>
/// <param name="Cycles">Cycles in the cohort (the unit of analysis; a patient may contribute several).</param>
/// <param name="WithValue">Cycles with a value in the window and a baseline to compare it to.</param>
/// <param name="NoValueInWindow">Cycles whose window passed without a value (never carried forward).</param>
/// <param name="NoBaseline">Cycles without a baseline.</param>
/// <param name="NotYetReached">Cycles whose window is still open or ended by the next session first.</param>
public sealed record CohortSummary(
    CountCell Patients,
    CountCell Cycles,
    CountCell WithValue,
    CountCell NoValueInWindow,
    CountCell NoBaseline,
    CountCell NotYetReached,
    RateCell Responders30,
    RateCell Responders50,
    RateCell RespondersImportantChange,
    MeanCell MeanChange,
    MedianCell MedianChange,
    RateCell SideEffects,
    RateCell SeriousSideEffects);

public enum ResponderRule
{
    Relief30,
    Relief50,
    ImportantChange,
}

/// <summary>
/// Accumulates cohort cycles one at a time (never a whole cohort's observations) and reports them
/// with small-cell suppression: a figure describing 1 to <c>threshold</c> patients is withheld,
/// with everything it could be recomputed from (a rate's k, n and interval together, the
/// complement of a suppressed part of a total).
/// </summary>
public sealed class CohortAggregate
{
    private readonly HashSet<long> _patients = [];
    private readonly Tally _cycles = new();
    private readonly Tally _withValue = new();
    private readonly Tally _noValue = new();
    private readonly Tally _noBaseline = new();
    private readonly Tally _notYet = new();
    private readonly Dictionary<ResponderRule, Tally> _responders = new()
    {
        [ResponderRule.Relief30] = new(), [ResponderRule.Relief50] = new(), [ResponderRule.ImportantChange] = new(),
    };
    private readonly Dictionary<ResponderRule, Tally> _judged = new()
    {
        [ResponderRule.Relief30] = new(), [ResponderRule.Relief50] = new(), [ResponderRule.ImportantChange] = new(),
    };
    private readonly Tally _sideEffects = new();
    private readonly Tally _serious = new();
    private readonly List<double> _changes = [];
    private readonly HashSet<long> _changePatients = [];
    private readonly List<(long Patient, SurvivalObservation Observation)> _durations = [];

    public void Add(CohortCycle cycle)
    {
        var patient = cycle.Patient.Id;
        _patients.Add(patient);
        _cycles.Add(patient);
        if (cycle.SideEffect)
        {
            _sideEffects.Add(patient);
        }
        if (cycle.SeriousSideEffect)
        {
            _serious.Add(patient);
        }
        var window = cycle.Window;
        var noBaseline = cycle.Outcome.Status == ResponseStatus.NoBaseline;
        switch (window.Status)
        {
            case WindowStatus.Value when window.Change is not null:
                _withValue.Add(patient);
                _changes.Add((double)window.Change.Absolute);
                _changePatients.Add(patient);
                Judge(ResponderRule.Relief30, window.Change.Responder30, patient);
                Judge(ResponderRule.Relief50, window.Change.Responder50, patient);
                Judge(ResponderRule.ImportantChange, window.Change.ImportantChange, patient);
                break;
            case WindowStatus.Value when window.Responder is { } responds:
                // A global impression of change: the answer itself is the response, no baseline needed.
                _withValue.Add(patient);
                Judge(ResponderRule.Relief30, responds, patient);
                Judge(ResponderRule.Relief50, responds, patient);
                Judge(ResponderRule.ImportantChange, responds, patient);
                break;
            case WindowStatus.Value or WindowStatus.NoValueInWindow when noBaseline:
                _noBaseline.Add(patient);
                break;
            case WindowStatus.NoValueInWindow:
                _noValue.Add(patient);
                break;
            default:
                _notYet.Add(patient);
                break;
        }
        if (cycle.Outcome.OnsetDays is not null && cycle.Outcome.DurationDays is { } days)
        {
            _durations.Add((patient, new SurvivalObservation(days, !cycle.Outcome.DurationCensored)));
        }
    }

    private void Judge(ResponderRule rule, bool? responds, long patient)
    {
        if (responds is null)
        {
            return;
        }
        _judged[rule].Add(patient);
        if (responds.Value)
        {
            _responders[rule].Add(patient);
        }
    }

    public int CycleCount => _cycles.Cycles;

    public CohortSummary Summarise(int threshold)
    {
        var tooSmall = Small(_patients.Count, threshold);
        var total = Count(_cycles, threshold, tooSmall);
        var parts = new List<(Tally Tally, CountCell Cell)>
        {
            (_withValue, Count(_withValue, threshold, tooSmall)),
            (_noValue, Count(_noValue, threshold, tooSmall)),
            (_noBaseline, Count(_noBaseline, threshold, tooSmall)),
            (_notYet, Count(_notYet, threshold, tooSmall)),
        };
        // A single withheld part of a total could be recomputed from the others: withhold one more.
        if (!total.Suppressed && parts.Count(p => p.Cell.Suppressed) == 1)
        {
            var next = parts.Where(p => !p.Cell.Suppressed && p.Tally.Cycles > 0).OrderBy(p => p.Tally.Cycles).FirstOrDefault();
            if (next.Tally is not null)
            {
                parts[parts.IndexOf(next)] = (next.Tally, _withheld);
            }
            else
            {
                total = _withheld;
            }
        }
        var changesSmall = tooSmall || Small(_changePatients.Count, threshold);
        var mean = Intervals.Mean(_changes);
        var median = Intervals.Median(_changes);
        return new CohortSummary(
            tooSmall ? _withheld : new CountCell(null, _patients.Count, false),
            total,
            parts[0].Cell, parts[1].Cell, parts[2].Cell, parts[3].Cell,
            RateOf(_responders[ResponderRule.Relief30], _judged[ResponderRule.Relief30], threshold, tooSmall),
            RateOf(_responders[ResponderRule.Relief50], _judged[ResponderRule.Relief50], threshold, tooSmall),
            RateOf(_responders[ResponderRule.ImportantChange], _judged[ResponderRule.ImportantChange], threshold, tooSmall),
            changesSmall || mean is null ? new MeanCell(null, null, null, null, changesSmall)
                : new MeanCell(mean.N, mean.Mean, mean.Lower, mean.Upper, false),
            changesSmall || median is null ? new MedianCell(null, null, null, null, changesSmall)
                : new MedianCell(median.N, median.Median, median.Q1, median.Q3, false),
            RateOf(_sideEffects, _cycles, threshold, tooSmall),
            RateOf(_serious, _cycles, threshold, tooSmall));
    }

    /// <summary>Kaplan–Meier duration of response over the cycles that reached onset.</summary>
    public DurationSummary Duration(int threshold, IReadOnlyList<int> weeks)
    {
        var patients = _durations.Select(d => d.Patient).Distinct().Count();
        var lossPatients = _durations.Where(d => d.Observation.Event).Select(d => d.Patient).Distinct().Count();
        var tooSmall = Small(patients, threshold);
        var curve = KaplanMeier.Estimate([.. _durations.Select(d => d.Observation)]);
        var points = weeks.Select(week =>
        {
            var day = week * 7.0;
            var atRisk = _durations.Where(d => d.Observation.Time >= day).ToList();
            var atRiskPatients = atRisk.Select(d => d.Patient).Distinct().Count();
            var lostPatients = _durations.Where(d => d.Observation.Event && d.Observation.Time <= day).Select(d => d.Patient).Distinct().Count();
            var step = curve.Steps.LastOrDefault(s => s.Time <= day);
            var hide = tooSmall || Small(atRiskPatients, threshold) || Small(lostPatients, threshold);
            return hide
                ? new CurvePoint(week, null, null, null, null, true)
                : new CurvePoint(week, atRisk.Count, step?.Survival ?? 1.0, step?.Lower ?? 1.0, step?.Upper ?? 1.0, false);
        }).ToList();
        return new DurationSummary(
            tooSmall ? _withheld : new CountCell(_durations.Count, patients, false),
            tooSmall || Small(lossPatients, threshold) ? _withheld : new CountCell(curve.Events, lossPatients, false),
            tooSmall ? null : curve.Median, tooSmall ? null : curve.MedianLower, tooSmall ? null : curve.MedianUpper,
            tooSmall, points);
    }

    private static readonly CountCell _withheld = new(null, null, true);

    /// <summary>The CMS cell-size rule: 1 to <paramref name="threshold"/> individuals is too few to show; 0 may be shown.</summary>
    public static bool Small(int patients, int threshold) => patients >= 1 && patients <= threshold;

    private static CountCell Count(Tally t, int threshold, bool all) =>
        all || Small(t.Patients.Count, threshold) ? _withheld : new CountCell(t.Cycles, t.Patients.Count, false);

    private static RateCell RateOf(Tally k, Tally n, int threshold, bool all)
    {
        var notK = n.Patients.Count(p => !k.PatientsWithAll(p, n));
        if (all || Small(k.Patients.Count, threshold) || Small(n.Patients.Count, threshold) || Small(notK, threshold))
        {
            return new RateCell(null, null, null, null, null, true);
        }
        var p = Intervals.Wilson(k.Cycles, n.Cycles);
        return new RateCell(p.K, p.N, p.Rate, p.Lower, p.Upper, false);
    }

    /// <summary>Cycles counted and the distinct patients behind them.</summary>
    private sealed class Tally
    {
        private readonly Dictionary<long, int> _perPatient = [];

        public int Cycles { get; private set; }

        public Dictionary<long, int>.KeyCollection Patients => _perPatient.Keys;

        public void Add(long patient)
        {
            Cycles++;
            _perPatient[patient] = _perPatient.GetValueOrDefault(patient) + 1;
        }

        /// <summary>True when every one of <paramref name="patient"/>'s cycles in <paramref name="of"/> is also counted here.</summary>
        public bool PatientsWithAll(long patient, Tally of) =>
            _perPatient.GetValueOrDefault(patient) >= of._perPatient.GetValueOrDefault(patient);
    }
}

using Outcomes.Core.Outcomes;
using Outcomes.Core.Statistics;

namespace Outcomes.Core.Cohorts;

/// <summary>A count of cycles and of the distinct patients behind them; both null when suppressed.</summary>
public sealed record CountCell(int? Cycles, int? Patients, bool Suppressed);

/// <summary>A response rate, k of n cycles, with two 95% intervals; all figures null when suppressed.</summary>
/// <param name="Lower">Wilson score interval, treating every cycle as independent.</param>
/// <param name="ClusteredLower">Interval with the patient as the cluster (a patient's cycles are not independent):
/// the logit interval of R's <c>survey::svyciprop</c>; null when the rate is 0 or 1 or fewer than two patients.</param>
public sealed record RateCell(int? K, int? N, double? Rate, double? Lower, double? Upper, double? ClusteredLower, double? ClusteredUpper, bool Suppressed);

/// <param name="Lower">t interval treating every cycle as independent.</param>
/// <param name="ClusteredLower">Interval with the patient as the cluster (R's <c>survey::svymean</c>, t with patients − 1 degrees of freedom).</param>
public sealed record MeanCell(int? N, double? Mean, double? Lower, double? Upper, double? ClusteredLower, double? ClusteredUpper, bool Suppressed);

/// <summary>Median and quartiles (R's quantile type 7).</summary>
public sealed record MedianCell(int? N, double? Median, double? Q1, double? Q3, bool Suppressed);

/// <summary>
/// Survival of response at a whole week after onset. Suppressed (figures null) when the risk set or the
/// losses so far describe too few patients, and from the first point whose risk set is too small to the
/// end of the curve; past the last follow-up (nobody at risk) the survival is null and not suppressed.
/// </summary>
public sealed record CurvePoint(int Week, int? AtRisk, double? Survival, double? Lower, double? Upper, bool Suppressed);

/// <summary>Kaplan–Meier duration of response, in days from onset; the median and the curve are withheld with the losses.</summary>
public sealed record DurationSummary(CountCell Cycles, CountCell Losses, double? MedianDays, double? MedianLowerDays, double? MedianUpperDays, bool Suppressed, IReadOnlyList<CurvePoint> Curve);

/// <summary>What a cohort's outcome reports, safe to publish: every small cell is suppressed.</summary>
/// <param name="Cycles">Cycles in the cohort: the cycles of patients with at least one value of the measure.</param>
/// <param name="WithValue">Cycles with a value in the window and a baseline to compare it to: the complete cases every rate, mean and median is of.</param>
/// <param name="NoValueInWindow">Cycles whose window passed without a value (never carried forward): missing data, always counted.</param>
/// <param name="NoBaseline">Cycles whose window passed, without a baseline value before the session.</param>
/// <param name="NotYetReached">Cycles whose window is still open.</param>
/// <param name="CycleEndedBefore">Cycles re-treated before the window opened.</param>
public sealed record CohortSummary(
    CountCell Patients,
    CountCell Cycles,
    CountCell WithValue,
    CountCell NoValueInWindow,
    CountCell NoBaseline,
    CountCell NotYetReached,
    CountCell CycleEndedBefore,
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

/// <summary>Where a cycle stands in the follow-up window: the parts add up to the cohort's cycles.</summary>
public enum CyclePart
{
    WithValue,
    NoValueInWindow,
    NoBaseline,
    NotYetReached,
    CycleEndedBefore,
}

/// <summary>
/// What a cohort aggregate counts of one cycle: the part of the cohort it falls in, its change and responses in the
/// window, its side effects and its duration of response. Worked out once per cycle (<see cref="CohortCycle.Figures"/>):
/// kept cycles are counted again by every cohort query.
/// </summary>
public readonly record struct CycleFigures(
    CyclePart Part, double? Change, bool? R30, bool? R50, bool? Important, bool SideEffect, bool Serious, double? DurationDays, bool ResponseLost)
{
    public static CycleFigures Of(CycleOutcome outcome, WindowOutcome window, bool sideEffect, bool serious)
    {
        var noBaseline = outcome.Status == ResponseStatus.NoBaseline;
        var (part, change, r30, r50, important) = window.Status switch
        {
            WindowStatus.Value when window.Change is { } c =>
                (CyclePart.WithValue, (double?)(double)c.Absolute, c.Responder30, c.Responder50, c.ImportantChange),
            // A global impression of change: the answer itself is the response, no baseline needed.
            WindowStatus.Value when window.Responder is { } responds => (CyclePart.WithValue, null, responds, responds, responds),
            WindowStatus.Value or WindowStatus.NoValueInWindow when noBaseline => (CyclePart.NoBaseline, null, null, null, null),
            WindowStatus.NoValueInWindow => (CyclePart.NoValueInWindow, null, null, null, null),
            WindowStatus.CycleEndedBefore => (CyclePart.CycleEndedBefore, null, null, null, null),
            _ => (CyclePart.NotYetReached, (double?)null, (bool?)null, (bool?)null, (bool?)null),
        };
        // Held by value (not as a SurvivalObservation): a duration query reads every kept cycle's several times.
        var followed = outcome.OnsetDays is not null && outcome.DurationDays is not null;
        return new CycleFigures(part, change, r30, r50, important, sideEffect, serious,
            followed ? outcome.DurationDays : null, followed && !outcome.DurationCensored);
    }

    public bool? Responds(ResponderRule rule) => rule switch
    {
        ResponderRule.Relief50 => R50,
        ResponderRule.ImportantChange => Important,
        _ => R30,
    };
}

/// <summary>
/// Accumulates cohort cycles one small row at a time (never a whole cohort's observations) and reports them
/// with small-cell suppression: a figure describing 1 to <c>threshold</c> patients is withheld with
/// everything it could be recomputed from. Every figure is a set of cycles, so "recomputed from" is checked
/// on the sets: a rate's k, n and n − k; the cycles of a part and the other parts of the total; the
/// complete cases and every figure whose n they are (rates, mean, median); the difference of two nested rates.
/// </summary>
public sealed class CohortAggregate
{
    private readonly List<Row> _rows = [];

    // Patients by a dense index of their own, so that counting the distinct patients of a set of cycles is one
    // pass over an array (a stamp per patient), not a hash set per figure.
    private readonly Dictionary<long, int> _index = [];
    private int[] _stamps = [];
    private int _stamp;

    /// <summary>One cycle, as the summary needs it; <see cref="Patient"/> is the patient's dense index.</summary>
    private readonly record struct Row(int Patient, CycleFigures Figures)
    {
        public CyclePart Part => Figures.Part;

        public double? Change => Figures.Change;

        public bool SideEffect => Figures.SideEffect;

        public bool Serious => Figures.Serious;

        /// <summary>Days from onset to loss of response or to the last report (censored), for a cycle that reached onset.</summary>
        public double? DurationDays => Figures.DurationDays;

        public bool ResponseLost => Figures.ResponseLost;

        public bool? Responds(ResponderRule rule) => Figures.Responds(rule);
    }

    public void Add(CohortCycle cycle)
    {
        if (!_index.TryGetValue(cycle.Patient.Id, out var patient))
        {
            _index[cycle.Patient.Id] = patient = _index.Count;
        }
        _rows.Add(new Row(patient, cycle.Figures));
    }

    public int CycleCount => _rows.Count;

    /// <summary>The CMS cell-size rule: 1 to <paramref name="threshold"/> individuals is too few to show; 0 may be shown.</summary>
    public static bool Small(int patients, int threshold) => patients >= 1 && patients <= threshold;

    /// <summary>The distinct patients behind <paramref name="rows"/>.</summary>
    private int PatientsOf(IEnumerable<Row> rows)
    {
        var stamp = NextStamp();
        var patients = 0;
        foreach (var row in rows)
        {
            if (_stamps[row.Patient] != stamp)
            {
                _stamps[row.Patient] = stamp;
                patients++;
            }
        }
        return patients;
    }

    private int NextStamp()
    {
        if (_stamps.Length < _index.Count)
        {
            _stamps = new int[Math.Max(_index.Count, _stamps.Length * 2)];
            _stamp = 0;
        }
        return ++_stamp;
    }

    private bool SmallSet(IEnumerable<Row> rows, int threshold) => Small(PatientsOf(rows), threshold);

    private static readonly CountCell _withheld = new(null, null, true);
    private static readonly RateCell _withheldRate = new(null, null, null, null, null, null, null, true);

    // The sets of cycles every figure of a summary is about, one bit each: a cycle's mask says which it belongs to.
    private const int PartBits = 0;                          // + CyclePart: 5 bits
    private static int Judged(ResponderRule r) => 5 + 4 * (int)r;
    private static int Responders(ResponderRule r) => 6 + 4 * (int)r;
    private static int NonResponders(ResponderRule r) => 7 + 4 * (int)r;
    private static int Unjudged(ResponderRule r) => 8 + 4 * (int)r;
    private const int WithChange = 17;
    private const int WithoutChange = 18;
    private const int SideEffectBit = 19;
    private const int NoSideEffectBit = 20;
    private const int SeriousBit = 21;
    private const int NotSeriousBit = 22;
    private static int OnlyFirst(ResponderRule a, ResponderRule b) => 23 + 2 * (int)a + ((int)b > (int)a ? (int)b - 1 : (int)b);
    private const int Bits = 29;

    private static ulong MaskOf(in Row r)
    {
        var mask = 1UL << (PartBits + (int)r.Part);
        if (r.Part == CyclePart.WithValue)
        {
            foreach (var rule in _rules)
            {
                mask |= r.Responds(rule) switch
                {
                    true => (1UL << Judged(rule)) | (1UL << Responders(rule)),
                    false => (1UL << Judged(rule)) | (1UL << NonResponders(rule)),
                    null => 1UL << Unjudged(rule),
                };
                foreach (var other in _rules)
                {
                    if (other != rule && r.Responds(rule) == true && r.Responds(other) != true)
                    {
                        mask |= 1UL << OnlyFirst(rule, other);
                    }
                }
            }
            mask |= 1UL << (r.Change is null ? WithoutChange : WithChange);
        }
        mask |= (1UL << (r.SideEffect ? SideEffectBit : NoSideEffectBit)) | (1UL << (r.Serious ? SeriousBit : NotSeriousBit));
        return mask;
    }

    private static readonly ResponderRule[] _rules = Enum.GetValues<ResponderRule>();

    /// <summary>Cycles and distinct patients of every set a summary reports, in one pass over the cycles and one over the patients.</summary>
    private (int Cycles, int Patients)[] Count()
    {
        var cycles = new int[Bits];
        var masks = new ulong[_index.Count];
        foreach (ref readonly var row in System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_rows))
        {
            var mask = MaskOf(row);
            masks[row.Patient] |= mask;
            for (var m = mask; m != 0; m &= m - 1)
            {
                cycles[System.Numerics.BitOperations.TrailingZeroCount(m)]++;
            }
        }
        var patients = new int[Bits];
        foreach (var mask in masks)
        {
            for (var m = mask; m != 0; m &= m - 1)
            {
                patients[System.Numerics.BitOperations.TrailingZeroCount(m)]++;
            }
        }
        return [.. Enumerable.Range(0, Bits).Select(b => (cycles[b], patients[b]))];
    }

    public CohortSummary Summarise(int threshold) => Summarise(threshold, Count());

    /// <summary>
    /// What a summary and a breakdown's group both show: whether the cohort and its total are shown, the parts withheld
    /// (with every part's counts) and the three rates. The change and side-effect figures are the summary's alone.
    /// </summary>
    private (bool TooSmall, bool TotalShown, HashSet<CyclePart> Hidden, Dictionary<CyclePart, (int Cycles, int Patients)> Parts,
        Dictionary<ResponderRule, RateCell> Rates) Shown(int threshold, (int Cycles, int Patients)[] sets)
    {
        var tooSmall = Small(_index.Count, threshold);
        var parts = Enum.GetValues<CyclePart>().ToDictionary(p => p, p => sets[PartBits + (int)p]);
        var hidden = parts.Keys.Where(p => tooSmall || Small(parts[p].Patients, threshold)).ToHashSet();
        var totalShown = !tooSmall;
        // A single withheld part of a total could be recomputed from the others: withhold one more, choosing
        // first among the parts nothing else is computed from, the smallest first; then the complete cases
        // (which take every rate with them); the missing values last, since they are a result in their own
        // right and are withheld only as a small cell whenever anything else can go instead.
        if (totalShown && hidden.Count == 1)
        {
            var next = parts.Where(p => !hidden.Contains(p.Key) && p.Value.Cycles > 0)
                .OrderBy(p => p.Key switch { CyclePart.NoValueInWindow => 2, CyclePart.WithValue => 1, _ => 0 })
                .ThenBy(p => p.Value.Cycles)
                .Select(p => (CyclePart?)p.Key)
                .FirstOrDefault();
            if (next is { } n)
            {
                hidden.Add(n);
            }
            else
            {
                totalShown = false;
            }
        }
        // Everything whose n is the complete cases goes with them.
        var completeShown = !hidden.Contains(CyclePart.WithValue);
        var rates = new Dictionary<ResponderRule, RateCell>();
        foreach (var rule in _rules)
        {
            rates[rule] = completeShown && !Small(sets[Unjudged(rule)].Patients, threshold)
                ? RateOf(sets[Judged(rule)], sets[Responders(rule)], sets[NonResponders(rule)], threshold,
                    () => ClusteredOf(r => r.Part == CyclePart.WithValue && r.Responds(rule) is not null, r => r.Responds(rule) == true ? 1.0 : 0.0))
                : _withheldRate;
        }
        // Two rates whose responders are nested (every 50% responder is a 30% responder) give the cycles between
        // them by subtraction; when those describe too few patients, the rarer rate is withheld.
        foreach (var a in _rules)
        {
            foreach (var b in _rules)
            {
                if (a != b && !rates[a].Suppressed && !rates[b].Suppressed
                    && sets[OnlyFirst(a, b)].Cycles == 0 && Small(sets[OnlyFirst(b, a)].Patients, threshold))
                {
                    rates[a] = _withheldRate;
                }
            }
        }
        return (tooSmall, totalShown, hidden, parts, rates);
    }

    /// <summary>The cohort's cycles and patients, or withheld.</summary>
    private CountCell TotalCell(bool shown) => shown ? new CountCell(_rows.Count, _index.Count, false) : _withheld;

    private CohortSummary Summarise(int threshold, (int Cycles, int Patients)[] sets)
    {
        var (tooSmall, totalShown, hidden, parts, rates) = Shown(threshold, sets);
        CountCell Cell(CyclePart part) => hidden.Contains(part) ? _withheld : new CountCell(parts[part].Cycles, parts[part].Patients, false);
        var completeShown = !hidden.Contains(CyclePart.WithValue);

        var changesShown = completeShown && !Small(sets[WithChange].Patients, threshold) && !Small(sets[WithoutChange].Patients, threshold);
        var values = new List<double>(sets[WithChange].Cycles);
        foreach (var row in _rows)
        {
            if (row.Part == CyclePart.WithValue && row.Change is { } change)
            {
                values.Add(change);
            }
        }
        var mean = changesShown ? Intervals.Mean(values) : null;
        var median = changesShown ? Intervals.Median(values) : null;
        var clustered = changesShown ? ClusteredOf(r => r.Part == CyclePart.WithValue && r.Change is not null, r => r.Change!.Value)?.MeanInterval() : null;
        var all = (_rows.Count, _index.Count);

        return new CohortSummary(
            tooSmall ? _withheld : new CountCell(null, _index.Count, false),
            TotalCell(totalShown),
            Cell(CyclePart.WithValue), Cell(CyclePart.NoValueInWindow), Cell(CyclePart.NoBaseline),
            Cell(CyclePart.NotYetReached), Cell(CyclePart.CycleEndedBefore),
            rates[ResponderRule.Relief30], rates[ResponderRule.Relief50], rates[ResponderRule.ImportantChange],
            !changesShown || mean is null ? new MeanCell(null, null, null, null, null, null, !changesShown)
                : new MeanCell(mean.N, mean.Mean, mean.Lower, mean.Upper, clustered?.Lower, clustered?.Upper, false),
            !changesShown || median is null ? new MedianCell(null, null, null, null, !changesShown)
                : new MedianCell(median.N, median.Median, median.Q1, median.Q3, false),
            totalShown ? RateOf(all, sets[SideEffectBit], sets[NoSideEffectBit], threshold, () => ClusteredOf(_ => true, r => r.SideEffect ? 1.0 : 0.0)) : _withheldRate,
            totalShown ? RateOf(all, sets[SeriousBit], sets[NotSeriousBit], threshold, () => ClusteredOf(_ => true, r => r.Serious ? 1.0 : 0.0)) : _withheldRate);
    }

    /// <summary>The clustered mean of <paramref name="value"/> over the cycles meeting <paramref name="include"/>, the patient as the cluster.</summary>
    private ClusteredMean? ClusteredOf(Func<Row, bool> include, Func<Row, double> value)
    {
        var (n, sum) = (0, 0.0);
        foreach (var row in System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_rows))
        {
            if (include(row))
            {
                n++;
                sum += value(row);
            }
        }
        if (n == 0)
        {
            return null;
        }
        var mean = sum / n;
        var totals = new double[_index.Count];
        var stamp = NextStamp();
        var clusters = 0;
        foreach (var row in System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_rows))
        {
            if (include(row))
            {
                totals[row.Patient] += value(row) - mean;
                if (_stamps[row.Patient] != stamp)
                {
                    _stamps[row.Patient] = stamp;
                    clusters++;
                }
            }
        }
        return new ClusteredMean(n, clusters, mean, totals.Sum(t => t * t));
    }

    /// <summary>
    /// The figures of one group of a breakdown under each rule: its cycles (withheld when the group describes too
    /// few patients) and the rate, as the group's own summary shows them, so that a breakdown never shows what the
    /// group's own cohort would hide; and the true counts, for the breakdown's complementary suppression only.
    /// </summary>
    public IReadOnlyDictionary<ResponderRule, GroupFigures> Group(int threshold)
    {
        var sets = Count();
        var (_, totalShown, _, _, rates) = Shown(threshold, sets);
        return _rules.ToDictionary(rule => rule, rule => new GroupFigures(
            TotalCell(totalShown), rates[rule], _rows.Count, sets[Responders(rule)].Cycles, sets[Judged(rule)].Cycles));
    }

    /// <summary>Kaplan–Meier duration of response over the cycles that reached onset.</summary>
    public DurationSummary Duration(int threshold, IReadOnlyList<int> weeks)
    {
        var followed = _rows.Where(r => r.DurationDays is not null).ToList();
        var losses = followed.Where(r => r.ResponseLost).ToList();
        var tooSmall = SmallSet(followed, threshold);
        // The losses, and the censored cycles that are the cycles less the losses, go together; the curve's
        // steps would give the losses back, so it goes with them.
        var lossesShown = !tooSmall && !SmallSet(losses, threshold) && !SmallSet(followed.Where(r => !r.ResponseLost), threshold);
        var curve = KaplanMeier.Estimate([.. followed.Select(r => new SurvivalObservation(r.DurationDays!.Value, r.ResponseLost))]);
        var points = new List<CurvePoint>(weeks.Count);
        var tail = false;
        foreach (var week in weeks)
        {
            var day = week * 7.0;
            var atRisk = followed.Where(r => r.DurationDays >= day).ToList();
            tail |= SmallSet(atRisk, threshold);
            var lostSoFar = followed.Where(r => r.ResponseLost && r.DurationDays <= day);
            if (!lossesShown || tail || SmallSet(lostSoFar, threshold))
            {
                points.Add(new CurvePoint(week, null, null, null, null, true));
            }
            else if (atRisk.Count == 0)
            {
                // Past the last follow-up the curve is not estimated.
                points.Add(new CurvePoint(week, 0, null, null, null, false));
            }
            else
            {
                var step = curve.Steps.LastOrDefault(s => s.Time <= day);
                points.Add(new CurvePoint(week, atRisk.Count, step?.Survival ?? 1.0, step?.Lower ?? 1.0, step?.Upper ?? 1.0, false));
            }
        }
        return new DurationSummary(
            tooSmall ? _withheld : CountOf(followed),
            lossesShown ? CountOf(losses) : _withheld,
            lossesShown ? curve.Median : null, lossesShown ? curve.MedianLower : null, lossesShown ? curve.MedianUpper : null,
            tooSmall, points);
    }

    private CountCell CountOf(List<Row> rows) => new(rows.Count, PatientsOf(rows), false);

    /// <summary>k of n cycles; withheld when k, n or n − k is a small cell (in patients).</summary>
    private static RateCell RateOf(
        (int Cycles, int Patients) n, (int Cycles, int Patients) k, (int Cycles, int Patients) notK, int threshold, Func<ClusteredMean?> clustered)
    {
        if (Small(k.Patients, threshold) || Small(n.Patients, threshold) || Small(notK.Patients, threshold))
        {
            return _withheldRate;
        }
        var p = Intervals.Wilson(k.Cycles, n.Cycles);
        var interval = clustered()?.ProportionInterval();
        return new RateCell(p.K, p.N, p.Rate, p.Lower, p.Upper, interval?.Lower, interval?.Upper, false);
    }
}

/// <summary>One group of a breakdown: what is shown, and (never shown) its true counts for the complementary suppression.</summary>
public sealed record GroupFigures(CountCell Cycles, RateCell Rate, int TrueCycles, int TrueK, int TrueN);

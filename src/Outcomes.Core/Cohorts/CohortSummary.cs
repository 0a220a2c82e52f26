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
/// Accumulates cohort cycles one small row at a time (never a whole cohort's observations) and reports them
/// with small-cell suppression: a figure describing 1 to <c>threshold</c> patients is withheld with
/// everything it could be recomputed from. Every figure is a set of cycles, so "recomputed from" is checked
/// on the sets: a rate's k, n and n − k; the cycles of a part and the other parts of the total; the
/// complete cases and every figure whose n they are (rates, mean, median); the difference of two nested rates.
/// </summary>
public sealed class CohortAggregate
{
    private readonly List<Row> _rows = [];

    /// <summary>One cycle, as the summary needs it.</summary>
    private readonly record struct Row(
        long Patient, CyclePart Part, double? Change, bool? R30, bool? R50, bool? Important, bool SideEffect, bool Serious,
        SurvivalObservation? Duration)
    {
        public bool? Responds(ResponderRule rule) => rule switch
        {
            ResponderRule.Relief50 => R50,
            ResponderRule.ImportantChange => Important,
            _ => R30,
        };
    }

    public void Add(CohortCycle cycle)
    {
        var window = cycle.Window;
        var noBaseline = cycle.Outcome.Status == ResponseStatus.NoBaseline;
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
        var duration = cycle.Outcome.OnsetDays is not null && cycle.Outcome.DurationDays is { } days
            ? new SurvivalObservation(days, !cycle.Outcome.DurationCensored)
            : null;
        _rows.Add(new Row(cycle.Patient.Id, part, change, r30, r50, important, cycle.SideEffect, cycle.SeriousSideEffect, duration));
    }

    public int CycleCount => _rows.Count;

    /// <summary>The CMS cell-size rule: 1 to <paramref name="threshold"/> individuals is too few to show; 0 may be shown.</summary>
    public static bool Small(int patients, int threshold) => patients >= 1 && patients <= threshold;

    private static int PatientsOf(IEnumerable<Row> rows) => rows.Select(r => r.Patient).Distinct().Count();

    private static bool SmallSet(IEnumerable<Row> rows, int threshold) => Small(PatientsOf(rows), threshold);

    private static readonly CountCell _withheld = new(null, null, true);
    private static readonly RateCell _withheldRate = new(null, null, null, null, null, null, null, true);

    public CohortSummary Summarise(int threshold)
    {
        var all = _rows;
        var tooSmall = SmallSet(all, threshold);
        var byPart = Enum.GetValues<CyclePart>().ToDictionary(p => p, p => all.Where(r => r.Part == p).ToList());
        var hidden = byPart.Keys.Where(p => tooSmall || SmallSet(byPart[p], threshold)).ToHashSet();
        var totalShown = !tooSmall;
        // A single withheld part of a total could be recomputed from the others: withhold one more, choosing
        // first among the parts nothing else is computed from, the smallest first; then the complete cases
        // (which take every rate with them); the missing values last, since they are a result in their own
        // right and are withheld only as a small cell whenever anything else can go instead.
        if (totalShown && hidden.Count == 1)
        {
            var next = byPart.Where(p => !hidden.Contains(p.Key) && p.Value.Count > 0)
                .OrderBy(p => p.Key switch { CyclePart.NoValueInWindow => 2, CyclePart.WithValue => 1, _ => 0 })
                .ThenBy(p => p.Value.Count)
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
        CountCell Cell(CyclePart part) => hidden.Contains(part) ? _withheld : CountOf(byPart[part]);

        // Everything whose n is the complete cases goes with them.
        var complete = byPart[CyclePart.WithValue];
        var completeShown = !hidden.Contains(CyclePart.WithValue);
        var rates = new Dictionary<ResponderRule, RateCell>();
        var judgedSets = new Dictionary<ResponderRule, List<Row>>();
        foreach (var rule in Enum.GetValues<ResponderRule>())
        {
            var judged = complete.Where(r => r.Responds(rule) is not null).ToList();
            judgedSets[rule] = judged;
            var unjudged = complete.Where(r => r.Responds(rule) is null);
            rates[rule] = completeShown && !SmallSet(unjudged, threshold)
                ? RateOf(judged, r => r.Responds(rule) == true, threshold)
                : _withheldRate;
        }
        WithholdNestedDifferences(rates, judgedSets, threshold);

        var changes = complete.Where(r => r.Change is not null).ToList();
        var changesShown = completeShown && !SmallSet(changes, threshold) && !SmallSet(complete.Where(r => r.Change is null), threshold);
        var values = changes.Select(r => r.Change!.Value).ToList();
        var mean = Intervals.Mean(values);
        var median = Intervals.Median(values);
        var clustered = Intervals.ClusteredMean([.. changes.Select(r => (r.Patient, r.Change!.Value))]);

        return new CohortSummary(
            tooSmall ? _withheld : new CountCell(null, PatientsOf(all), false),
            totalShown ? CountOf(all) : _withheld,
            Cell(CyclePart.WithValue), Cell(CyclePart.NoValueInWindow), Cell(CyclePart.NoBaseline),
            Cell(CyclePart.NotYetReached), Cell(CyclePart.CycleEndedBefore),
            rates[ResponderRule.Relief30], rates[ResponderRule.Relief50], rates[ResponderRule.ImportantChange],
            !changesShown || mean is null ? new MeanCell(null, null, null, null, null, null, !changesShown)
                : new MeanCell(mean.N, mean.Mean, mean.Lower, mean.Upper, clustered?.Lower, clustered?.Upper, false),
            !changesShown || median is null ? new MedianCell(null, null, null, null, !changesShown)
                : new MedianCell(median.N, median.Median, median.Q1, median.Q3, false),
            totalShown ? RateOf(all, r => r.SideEffect, threshold) : _withheldRate,
            totalShown ? RateOf(all, r => r.Serious, threshold) : _withheldRate);
    }

    /// <summary>
    /// The figures of one group of a breakdown: its cycles (withheld when the group describes too few patients)
    /// and one rate, as the group's own summary shows them, so that a breakdown never shows what the group's own
    /// cohort would hide; and the true counts, for the breakdown's complementary suppression only.
    /// </summary>
    public GroupFigures Group(ResponderRule rule, int threshold)
    {
        var summary = Summarise(threshold);
        var rate = rule switch
        {
            ResponderRule.Relief50 => summary.Responders50,
            ResponderRule.ImportantChange => summary.RespondersImportantChange,
            _ => summary.Responders30,
        };
        var judged = _rows.Where(r => r.Part == CyclePart.WithValue && r.Responds(rule) is not null).ToList();
        var k = judged.Count(r => r.Responds(rule) == true);
        return new GroupFigures(summary.Cycles, rate, _rows.Count, k, judged.Count);
    }

    /// <summary>
    /// Two rates whose responders are nested (every 50% responder is a 30% responder) give the cycles
    /// between them by subtraction; when those describe too few patients, the rarer rate is withheld.
    /// </summary>
    private static void WithholdNestedDifferences(Dictionary<ResponderRule, RateCell> rates, Dictionary<ResponderRule, List<Row>> judged, int threshold)
    {
        var rules = Enum.GetValues<ResponderRule>();
        foreach (var a in rules)
        {
            foreach (var b in rules)
            {
                if (a == b || rates[a].Suppressed || rates[b].Suppressed)
                {
                    continue;
                }
                var inA = judged[a].Where(r => r.Responds(a) == true).ToList();
                var inB = judged[b].Where(r => r.Responds(b) == true).ToList();
                // a's responders within b's: a ⊆ b as sets of cycles.
                var nested = inA.Count <= inB.Count && inA.All(r => r.Responds(b) == true);
                if (nested && SmallSet(inB.Where(r => r.Responds(a) != true), threshold))
                {
                    rates[a] = _withheldRate;
                }
            }
        }
    }

    /// <summary>Kaplan–Meier duration of response over the cycles that reached onset.</summary>
    public DurationSummary Duration(int threshold, IReadOnlyList<int> weeks)
    {
        var followed = _rows.Where(r => r.Duration is not null).ToList();
        var losses = followed.Where(r => r.Duration!.Event).ToList();
        var tooSmall = SmallSet(followed, threshold);
        // The losses, and the censored cycles that are the cycles less the losses, go together; the curve's
        // steps would give the losses back, so it goes with them.
        var lossesShown = !tooSmall && !SmallSet(losses, threshold) && !SmallSet(followed.Where(r => !r.Duration!.Event), threshold);
        var curve = KaplanMeier.Estimate([.. followed.Select(r => r.Duration!)]);
        var points = new List<CurvePoint>(weeks.Count);
        var tail = false;
        foreach (var week in weeks)
        {
            var day = week * 7.0;
            var atRisk = followed.Where(r => r.Duration!.Time >= day).ToList();
            tail |= SmallSet(atRisk, threshold);
            var lostSoFar = followed.Where(r => r.Duration!.Event && r.Duration.Time <= day);
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

    private static CountCell CountOf(List<Row> rows) => new(rows.Count, PatientsOf(rows), false);

    /// <summary>k of the <paramref name="n"/> cycles meeting <paramref name="responds"/>; withheld when k, n or n − k is a small cell.</summary>
    private static RateCell RateOf(List<Row> n, Func<Row, bool> responds, int threshold)
    {
        var k = n.Where(responds).ToList();
        if (SmallSet(k, threshold) || SmallSet(n, threshold) || SmallSet(n.Where(r => !responds(r)), threshold))
        {
            return _withheldRate;
        }
        var p = Intervals.Wilson(k.Count, n.Count);
        var clustered = Intervals.ClusteredProportion([.. n.Select(r => (r.Patient, responds(r)))]);
        return new RateCell(p.K, p.N, p.Rate, p.Lower, p.Upper, clustered?.Lower, clustered?.Upper, false);
    }
}

/// <summary>One group of a breakdown: what is shown, and (never shown) its true counts for the complementary suppression.</summary>
public sealed record GroupFigures(CountCell Cycles, RateCell Rate, int TrueCycles, int TrueK, int TrueN);

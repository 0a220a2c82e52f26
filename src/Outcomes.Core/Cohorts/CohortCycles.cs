using Outcomes.Core.Clinic;
using Outcomes.Core.Outcomes;

namespace Outcomes.Core.Cohorts;

public sealed record CohortPatient(long Id, long SiteId, Sex Sex, int BirthYear, IReadOnlyList<Condition> Conditions);

public sealed record CohortSession(DateOnly Date, long PractitionerId, Product Product, Guidance Guidance, decimal TotalUnits);

public sealed record SideEffectReport(DateOnly Day, bool Serious);

/// <summary>Everything the cohort needs about one patient: current values of one measure only.</summary>
public sealed record PatientHistory(
    CohortPatient Patient,
    IReadOnlyList<CohortSession> Sessions,
    IReadOnlyList<Point> Points,
    IReadOnlyList<SideEffectReport> SideEffects)
{
    /// <summary>
    /// The build number of the stored series <see cref="Points"/> were read from (see the service's migration 0021):
    /// under one build a series only grows at its end. Null when they were not read from a stored series.
    /// </summary>
    public long? SeriesBuild { get; init; }

    /// <summary>
    /// When <see cref="Points"/> are only the stored series' last points: the progress of the points before them, read
    /// earlier for the measure, baseline rule and follow-up window the history is computed for (and never changed).
    /// The history's values are then the ones it read followed by Points. Null when Points are all of them.
    /// </summary>
    public MeasureProgress? Before { get; init; }

    /// <summary>How many values the history has of its measure: those <see cref="Before"/> read and <see cref="Points"/>.</summary>
    public long PointCount => (Before?.Count ?? 0) + Points.Count;

    /// <summary>The outcome per cycle on <paramref name="today"/>: of <see cref="Before"/> advanced by <see cref="Points"/>, or of Points.</summary>
    public IReadOnlyList<CycleOutcome> Outcomes(MeasureDefinition measure, FollowUpWindow window, DateOnly today, BaselineRule rule) =>
        Before is { } before ? before.Advanced(Points).Outcomes(today)
        : CycleOutcomes.Compute(measure, [.. Sessions.Select(s => s.Date)], Points, today, rule, [window]);
}

public enum CycleKind
{
    First,
    Repeat,
}

/// <summary>Which cycles belong to a cohort. Every filter is optional; units are compared within one product only.</summary>
public sealed record CohortFilter(
    Condition? Condition = null,
    long? SiteId = null,
    long? PractitionerId = null,
    Product? Product = null,
    Guidance? Guidance = null,
    decimal? MinUnits = null,
    decimal? MaxUnits = null,
    CycleKind? Cycle = null,
    DateOnly? SessionFrom = null,
    DateOnly? SessionTo = null,
    int? MinAge = null,
    int? MaxAge = null,
    Sex? Sex = null);

/// <summary>One treatment cycle of a cohort, with its outcome in the chosen follow-up window.</summary>
/// <param name="Age">Age at the session, from the birth year (a whole-year approximation).</param>
/// <param name="SideEffect">Any side effect reported during the cycle.</param>
public sealed record CohortCycle(
    CohortPatient Patient,
    int Number,
    CohortSession Session,
    DateOnly? End,
    int Age,
    string DoseBand,
    CycleOutcome Outcome,
    WindowOutcome Window,
    bool SideEffect,
    bool SeriousSideEffect)
{
    /// <summary>What a cohort aggregate counts of the cycle, worked out with it.</summary>
    public CycleFigures Figures { get; } = CycleFigures.Of(Outcome, Window, SideEffect, SeriousSideEffect);
}

public static class CohortCycles
{
    /// <summary>The cycles of one patient that match <paramref name="filter"/>, each with its outcome.</summary>
    public static IEnumerable<CohortCycle> Of(
        PatientHistory history, MeasureDefinition measure, CohortFilter filter, FollowUpWindow window, DateOnly today, BaselineRule rule) =>
        PatientMatches(filter, history.Patient) ? Matching(All(history, measure, window, today, rule), filter) : [];

    /// <summary>
    /// The cycles of one patient (as <see cref="All"/> gives them) that belong to the cohort <paramref name="filter"/>
    /// describes; with <paramref name="firstOnly"/>, only the first of them.
    /// </summary>
    public static IEnumerable<CohortCycle> Matching(IEnumerable<CohortCycle> patientCycles, CohortFilter filter, bool firstOnly = false)
    {
        foreach (var cycle in patientCycles)
        {
            if (Matches(filter, cycle))
            {
                yield return cycle;
                if (firstOnly)
                {
                    yield break;
                }
            }
        }
    }

    /// <summary>
    /// Every cycle of one patient, each with its outcome, whatever the filter: what a cohort computes for the
    /// patient, before <see cref="Matches(CohortFilter, CohortCycle)"/> picks the cohort's cycles.
    /// </summary>
    /// <param name="outcomes">The measure's outcomes per cycle for this window, when the caller has them already (from a kept
    /// <see cref="MeasureProgress"/>): what <see cref="CycleOutcomes.Compute"/> gives of the history. Computed when null.</param>
    public static IEnumerable<CohortCycle> All(
        PatientHistory history, MeasureDefinition measure, FollowUpWindow window, DateOnly today, BaselineRule rule, IReadOnlyList<CycleOutcome>? outcomes = null)
    {
        var patient = history.Patient;
        // A patient never given the measure is not part of its cohort (rather than a cycle "without a baseline").
        if (history.PointCount == 0)
        {
            yield break;
        }
        var sessions = history.Sessions.OrderBy(s => s.Date).ToList();
        outcomes ??= history.Outcomes(measure, window, today, rule);
        for (var i = 0; i < sessions.Count && i < outcomes.Count; i++)
        {
            var session = sessions[i];
            var outcome = outcomes[i];
            var end = outcome.End;
            var (any, serious) = SideEffectsIn(history.SideEffects, session.Date, end);
            yield return new CohortCycle(patient, i + 1, session, end, session.Date.Year - patient.BirthYear,
                DoseBands.Of(session.Product, session.TotalUnits), outcome, outcome.Windows[0], any, serious);
        }
    }

    /// <summary>Whether a cycle belongs to the cohort <paramref name="filter"/> describes (its patient and its session).</summary>
    public static bool Matches(CohortFilter filter, CohortCycle cycle) =>
        PatientMatches(filter, cycle.Patient) && Matches(filter, cycle.Session, cycle.Number, cycle.Age);

    private static bool PatientMatches(CohortFilter f, CohortPatient patient) =>
        (f.Condition is not { } c || patient.Conditions.Contains(c))
        && (f.SiteId is not { } site || patient.SiteId == site)
        && (f.Sex is not { } sex || patient.Sex == sex);

    /// <summary>Whether any side effect, and any serious one, was reported from the session day until the cycle's end.</summary>
    private static (bool Any, bool Serious) SideEffectsIn(IReadOnlyList<SideEffectReport> reports, DateOnly from, DateOnly? end)
    {
        var (any, serious) = (false, false);
        foreach (var e in reports)
        {
            if (e.Day >= from && (end is null || e.Day < end))
            {
                any = true;
                serious |= e.Serious;
            }
        }
        return (any, serious);
    }

    private static bool Matches(CohortFilter f, CohortSession s, int number, int age) =>
        (f.PractitionerId is null || s.PractitionerId == f.PractitionerId)
        && (f.Product is null || s.Product == f.Product)
        && (f.Guidance is null || s.Guidance == f.Guidance)
        && (f.MinUnits is null || s.TotalUnits >= f.MinUnits)
        && (f.MaxUnits is null || s.TotalUnits <= f.MaxUnits)
        && (f.Cycle is null || (f.Cycle == CycleKind.First) == (number == 1))
        && (f.SessionFrom is null || s.Date >= f.SessionFrom)
        && (f.SessionTo is null || s.Date <= f.SessionTo)
        && (f.MinAge is null || age >= f.MinAge)
        && (f.MaxAge is null || age <= f.MaxAge);
}

/// <summary>
/// Dose bands of total units per session, within one product (units are never compared across
/// products). Our bands: abobotulinumtoxinA is dosed about 2.5–3 times higher per unit.
/// </summary>
public static class DoseBands
{
    private static readonly decimal[] _onaInco = [50, 100, 200];
    private static readonly decimal[] _abo = [150, 300, 600];

    // Every product's four labels, made once: a cohort asks for one per cycle.
    private static readonly Dictionary<Product, string[]> _labels = Enum.GetValues<Product>().ToDictionary(p => p, p =>
    {
        var cuts = Cuts(p);
        var code = EnumCode<Product>.Of(p);
        return new[]
        {
            $"{code} <{cuts[0]}", $"{code} {cuts[0]}-{cuts[1] - 1}", $"{code} {cuts[1]}-{cuts[2] - 1}", $"{code} >={cuts[2]}",
        };
    });

    public static string Of(Product product, decimal totalUnits)
    {
        var cuts = Cuts(product);
        var band = totalUnits < cuts[0] ? 0 : totalUnits < cuts[1] ? 1 : totalUnits < cuts[2] ? 2 : 3;
        return _labels[product][band];
    }

    /// <summary>The four labels of <paramref name="product"/>, lowest band first.</summary>
    public static IReadOnlyList<string> LabelsOf(Product product) => _labels[product];

    /// <summary>
    /// The band label for <paramref name="label"/>: a full label (<c>onabotulinumtoxinA 50-99</c>), or,
    /// with a <paramref name="product"/>, its short form (<c>50-99</c>, <c>&lt;50</c>, <c>&gt;=200</c>).
    /// </summary>
    public static bool TryResolve(string label, Product? product, out string resolved)
    {
        var candidates = product is { } p ? _labels[p] : _labels.Values.SelectMany(l => l);
        foreach (var candidate in candidates)
        {
            if (candidate == label || (product is not null && candidate.EndsWith(" " + label, StringComparison.Ordinal)))
            {
                resolved = candidate;
                return true;
            }
        }
        resolved = "";
        return false;
    }

    private static decimal[] Cuts(Product product) => product == Product.AbobotulinumtoxinA ? _abo : _onaInco;
}

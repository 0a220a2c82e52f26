namespace Outcomes.Core.Clinic;

/// <summary>One injection site of a treatment session.</summary>
public sealed record InjectionSite(string Muscle, BodySide Side, decimal Units);

/// <summary>Rules for recording a treatment session.</summary>
public static class SessionRules
{
    /// <summary>
    /// Upper bound on the units at one site. Not a dosing rule: a guard against a typed extra digit.
    /// The largest single-site doses of abobotulinumtoxinA stay well below it.
    /// </summary>
    public const decimal MaxUnitsPerSite = 1000m;

    /// <summary>Upper bound on a dilution, in units per millilitre (a typo guard, as above).</summary>
    public const decimal MaxDilutionUnitsPerMl = 1000m;

    /// <summary>Injection sites a session may list.</summary>
    public const int MaxSites = 60;

    /// <summary>
    /// The total units of one session. A session uses one product, so the total is always
    /// in that product's units; totals of different products are never added together.
    /// </summary>
    public static decimal TotalUnits(IEnumerable<InjectionSite> sites) => sites.Sum(s => s.Units);

    /// <summary>Units are recorded to at most two decimal places.</summary>
    public static bool HasValidPrecision(decimal units) => decimal.Round(units, 2) == units;

    /// <summary>The window over which a product's units add up against its ceiling: 12 weeks (the labels say 3 months).</summary>
    public const int CumulativeWindowDays = 84;

    /// <summary>
    /// Doses a clinician would question, per product: above them a session is refused unless the
    /// request confirms the dose with a reason. Sources, the US prescribing information of each product:
    /// onabotulinumtoxinA (BOTOX): in adults treated for one or more indications the cumulative dose
    /// should generally not exceed 400 Units in a 3-month interval; incobotulinumtoxinA (XEOMIN): a
    /// maximum cumulative dose of 400 Units in adults; abobotulinumtoxinA (DYSPORT): up to 1,500 Units
    /// for adult upper and lower limb spasticity treated together. The per-site ceilings are our choice:
    /// the BOTOX label's limit for one muscle (100 Units in the sternocleidomastoid for cervical
    /// dystonia) for onabotulinumtoxinA and incobotulinumtoxinA, and 500 Units for abobotulinumtoxinA,
    /// roughly the same dose in its units. Trigger-point doses are far below all of them.
    /// </summary>
    public static DoseCeiling CeilingOf(Product product) => product switch
    {
        Product.AbobotulinumtoxinA => new DoseCeiling(PerSite: 500m, Cumulative: 1500m),
        _ => new DoseCeiling(PerSite: 100m, Cumulative: 400m),
    };
}

/// <summary>Plausibility ceilings of one product: units at one injection site, and units within <see cref="SessionRules.CumulativeWindowDays"/>.</summary>
public sealed record DoseCeiling(decimal PerSite, decimal Cumulative);

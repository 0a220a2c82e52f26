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
}

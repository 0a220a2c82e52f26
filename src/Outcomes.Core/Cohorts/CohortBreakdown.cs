using System.Globalization;
using Outcomes.Core.Clinic;

namespace Outcomes.Core.Cohorts;

/// <summary>One group of a breakdown: its cycles and its response rate, both shown or both withheld.</summary>
public sealed record GroupRate(string Group, CountCell Cycles, RateCell Rate);

/// <summary>
/// A cohort broken down into groups (by guidance, site, quarter, ...), each group's cycles and rate
/// suppressed so that nothing withheld follows from the other groups and the cohort's own totals, which
/// are public (<see cref="Rates"/>).
/// </summary>
public sealed class CohortBreakdown(Func<CohortCycle, IEnumerable<string>> keys)
{
    /// <summary>What a breakdown may group by.</summary>
    public static readonly string[] Groupings = ["guidance", "product", "doseBand", "condition", "site", "practitioner", "cycle"];

    private readonly SortedDictionary<string, CohortAggregate> _groups = new(StringComparer.Ordinal);

    public static IEnumerable<string> KeysOf(string by, CohortCycle cycle) => by switch
    {
        "product" => [EnumCode<Product>.Of(cycle.Session.Product)],
        "doseBand" => [cycle.DoseBand],
        "condition" => cycle.Patient.Conditions.Select(EnumCode<Condition>.Of),
        "site" => [cycle.Patient.SiteId.ToString(CultureInfo.InvariantCulture)],
        "practitioner" => [cycle.Session.PractitionerId.ToString(CultureInfo.InvariantCulture)],
        "cycle" => [cycle.Number == 1 ? "first" : "repeat"],
        _ => [EnumCode<Guidance>.Of(cycle.Session.Guidance)],
    };

    /// <summary>The calendar quarter of <paramref name="day"/>, as <c>2025-Q1</c>; one string per quarter, made once.</summary>
    public static string Quarter(DateOnly day) => _quarters.GetOrAdd(day.Year * 4 + (day.Month - 1) / 3,
        static q => string.Create(CultureInfo.InvariantCulture, $"{q / 4}-Q{q % 4 + 1}"));

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, string> _quarters = new();

    public void Add(CohortCycle cycle)
    {
        foreach (var key in keys(cycle))
        {
            if (!_groups.TryGetValue(key, out var aggregate))
            {
                _groups[key] = aggregate = new CohortAggregate();
            }
            aggregate.Add(cycle);
        }
    }

    /// <summary>
    /// Each group's cycles and rate under <paramref name="rule"/>. The groups add up to the cohort's own
    /// figures, which are public, so withheld figures are withheld together: a group's cycles are withheld
    /// when they describe too few patients, never one group's alone and never with one cycle each; that
    /// choice does not depend on the rule or the week asked for, so no two answers for the same filters
    /// withhold different groups' cycles. A group's rate is withheld with its cycles, when its own summary
    /// withholds it under any rule, and never alone, nor with no responders or only responders among the
    /// withheld rates under any rule; the smallest shown group joins the withheld until that holds. The
    /// withheld rates are the same whichever rule is asked for.
    /// </summary>
    public List<GroupRate> Rates(ResponderRule rule, int threshold)
    {
        var rules = Enum.GetValues<ResponderRule>();
        var all = _groups.ToDictionary(g => g.Key, g => g.Value.Group(threshold));
        var figures = all.ToDictionary(g => g.Key, g => g.Value[rule]);
        var cyclesHidden = figures.Where(f => f.Value.Cycles.Suppressed).Select(f => f.Key).ToHashSet();
        Complete(cyclesHidden, hidden => hidden.Sum(h => figures[h].TrueCycles) > hidden.Count);
        // The 30% and 50% tests judge the same cycles, so one rule's shown n is another's: the rates withheld are
        // the same under every rule, chosen so that each rule's withheld rates pass the test.
        var rateHidden = all.Where(g => cyclesHidden.Contains(g.Key) || g.Value.Values.Any(f => f.Rate.Suppressed)).Select(g => g.Key).ToHashSet();
        Complete(rateHidden, hidden => rules.All(r =>
        {
            var (k, n) = (hidden.Sum(h => all[h][r].TrueK), hidden.Sum(h => all[h][r].TrueN));
            return k > 0 && k < n;
        }));
        return [.. figures.Select(f => new GroupRate(f.Key,
            cyclesHidden.Contains(f.Key) ? new CountCell(null, null, true) : f.Value.Cycles,
            rateHidden.Contains(f.Key) ? new RateCell(null, null, null, null, null, null, null, true) : f.Value.Rate))];

        // Withholds the smallest shown groups, one at a time, until at least two are withheld and the rest of the test holds.
        void Complete(HashSet<string> hidden, Func<HashSet<string>, bool> safe)
        {
            while (hidden.Count > 0 && hidden.Count < figures.Count && (hidden.Count < 2 || !safe(hidden)))
            {
                hidden.Add(figures.Where(f => !hidden.Contains(f.Key))
                    .OrderBy(f => f.Value.TrueCycles).ThenBy(f => f.Key, StringComparer.Ordinal).First().Key);
            }
        }
    }
}

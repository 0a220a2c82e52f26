namespace Outcomes.Core.Cohorts;

/// <summary>The quasi-identifiers of an exported cycle: what could single a patient out when combined.</summary>
public sealed record QuasiIdentifiers(string Site, string Practitioner, string Sex, string AgeBand, string Conditions, string Period);

/// <summary>One rung of the generalisation ladder: its name and what it does to the quasi-identifiers.</summary>
public sealed record Generalisation(string Name, Func<QuasiIdentifiers, QuasiIdentifiers> Apply);

/// <summary>What <see cref="KAnonymity.Protect"/> did: the rungs applied, the rows kept (generalised) and how many were suppressed.</summary>
public sealed record KAnonymous<T>(IReadOnlyList<string> Generalised, IReadOnlyList<(T Row, QuasiIdentifiers Identifiers)> Kept, int Suppressed);

/// <summary>
/// k-anonymity (Sweeney 2002) for exported rows: every combination of quasi-identifiers describes at least
/// k distinct patients. Reached by global recoding up a fixed ladder (<see cref="Ladder"/>), stopping at the
/// first rung where at most <see cref="SuppressionBudget"/> of the rows fall in groups of fewer than k
/// patients, and suppressing those rows. Patients, not rows, are counted: one patient's several cycles are one person.
/// </summary>
public static class KAnonymity
{
    /// <summary>The share of rows that may be suppressed instead of generalising further.</summary>
    public const double SuppressionBudget = 0.05;

    public const string All = "*";

    /// <summary>Cumulative rungs: practitioner, then site, to all; quarter to year; 20-year age bands, then all; year to all.</summary>
    public static readonly IReadOnlyList<Generalisation> Ladder =
    [
        new("practitioner", q => q with { Practitioner = All }),
        new("site", q => q with { Site = All }),
        new("quarter->year", q => q with { Period = q.Period.Length >= 4 && q.Period != All ? q.Period[..4] : q.Period }),
        new("ageBand->20 years", q => q with { AgeBand = WideAgeBand(q.AgeBand) }),
        new("ageBand->all", q => q with { AgeBand = All }),
        new("year->all", q => q with { Period = All }),
    ];

    /// <summary>
    /// Generalises up the <see cref="Ladder"/> until at most <see cref="SuppressionBudget"/> of the rows remain in groups
    /// of fewer than <paramref name="k"/> patients, and suppresses those. When no rung meets the budget, the least
    /// generalised rung that suppresses the fewest rows is taken: generalising further without suppressing fewer rows
    /// would only lose detail (a patient alone in a condition no rung generalises, say, would otherwise cost everyone's dates).
    /// </summary>
    public static KAnonymous<T> Protect<T>(IReadOnlyList<(T Row, long Patient, QuasiIdentifiers Identifiers)> rows, int k)
    {
        var current = rows.Select(r => r.Identifiers).ToList();
        (int Rung, List<QuasiIdentifiers> Identifiers, HashSet<QuasiIdentifiers> Small, int Suppressed)? best = null;
        for (var rung = 0; ; rung++)
        {
            var small = SmallGroups(rows, current, k);
            var suppressed = current.Count(small.Contains);
            if (best is null || suppressed < best.Value.Suppressed)
            {
                best = (rung, current, small, suppressed);
            }
            if (suppressed <= SuppressionBudget * rows.Count || rung == Ladder.Count)
            {
                break;
            }
            var step = Ladder[rung];
            current = current.ConvertAll(q => step.Apply(q));
        }
        var (chosen, identifiers, smallGroups, count) = best.Value;
        var kept = rows.Select((r, i) => (r.Row, identifiers[i])).Where((_, i) => !smallGroups.Contains(identifiers[i])).ToList();
        return new KAnonymous<T>([.. Ladder.Take(chosen).Select(s => s.Name)], kept, count);
    }

    /// <summary>Combinations that describe fewer than <paramref name="k"/> distinct patients.</summary>
    private static HashSet<QuasiIdentifiers> SmallGroups<T>(IReadOnlyList<(T Row, long Patient, QuasiIdentifiers Identifiers)> rows, List<QuasiIdentifiers> current, int k)
    {
        var patients = new Dictionary<QuasiIdentifiers, HashSet<long>>();
        for (var i = 0; i < rows.Count; i++)
        {
            if (!patients.TryGetValue(current[i], out var set))
            {
                patients[current[i]] = set = [];
            }
            set.Add(rows[i].Patient);
        }
        return [.. patients.Where(p => p.Value.Count < k).Select(p => p.Key)];
    }

    /// <summary>10-year bands of <see cref="AgeBands.Of"/> into 20-year ones: &lt;18, 18-39, 40-59, 60-79, 80+.</summary>
    public static string WideAgeBand(string band) => band switch
    {
        "<18" or All => band,
        "18-29" or "30-39" => "18-39",
        "40-49" or "50-59" => "40-59",
        "60-69" or "70-79" => "60-79",
        _ => "80+",
    };
}

/// <summary>Age bands that do not overlap: &lt;18, 18-29, then 10-year bands to 80-89, and 90+.</summary>
public static class AgeBands
{
    public static string Of(int age) => age switch
    {
        < 18 => "<18",
        < 30 => "18-29",
        >= 90 => "90+",
        _ => $"{age / 10 * 10}-{age / 10 * 10 + 9}",
    };
}

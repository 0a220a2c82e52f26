using Outcomes.Core.Clinic;
using Outcomes.Core.Cohorts;
using Outcomes.Core.Instruments;
using Outcomes.Core.Outcomes;

namespace Outcomes.Core.Tests.Cohorts;

public class DisclosureAttackTests
{
    private static readonly MeasureDefinition _pain = new("pain_nrs", "Pain", Direction.HigherIsWorse, "score", 2m, 30m);
    private static readonly DateOnly _today = new(2026, 6, 1);
    private static readonly string[] _partitions = ["guidance", "product", "doseBand", "site", "practitioner", "cycle"];

    /// <summary>
    /// A clinic of <paramref name="patients"/> patients at three sites (the third small), with missing values,
    /// re-treatments and side effects; a <paramref name="simple"/> one has one session per patient, long ago, every
    /// baseline and few missing values, so that a small count of missing values is the only other part of the cycles.
    /// </summary>
    private static List<PatientHistory> Clinic(int seed, int patients, bool simple = false)
    {
        var random = new Random(seed);
        var histories = new List<PatientHistory>();
        for (var id = 1; id <= patients; id++)
        {
            var site = random.NextDouble() switch { < 0.55 => 1L, < 0.93 => 2L, _ => 3L };
            var conditions = random.Next(3) switch
            {
                0 => new[] { Condition.NeckShoulderPain },
                1 => [Condition.MyofascialPainSyndrome],
                _ => [Condition.NeckShoulderPain, Condition.MyofascialPainSyndrome],
            };
            var patient = new CohortPatient(id, site, random.Next(2) == 0 ? Sex.Female : Sex.Male, 1940 + random.Next(60), conditions);
            var sessions = new List<CohortSession>();
            var points = new List<Point>();
            var effects = new List<SideEffectReport>();
            var day = new DateOnly(2024, 1, 1).AddDays(random.Next(500));
            var measured = simple || random.NextDouble() > 0.05;
            for (var s = 0; s < (simple ? 1 : 1 + random.Next(3)) && day < _today; s++)
            {
                var product = random.NextDouble() < 0.8 ? Product.OnabotulinumtoxinA : Product.AbobotulinumtoxinA;
                var guidance = (Guidance)random.Next(3);
                var units = product == Product.AbobotulinumtoxinA ? 100 + random.Next(500) : 20 + random.Next(200);
                sessions.Add(new CohortSession(day, site * 10 + random.Next(2), product, guidance, units));
                var baseline = 4 + random.Next(7);
                if (measured && (simple || random.NextDouble() > 0.1))
                {
                    points.Add(new Point(day.AddDays(-1), baseline));
                }
                var relief = random.NextDouble();
                foreach (var week in new[] { 2, 6, 12, 24 })
                {
                    if (measured && random.NextDouble() > (simple ? 0.04 : 0.25))
                    {
                        var value = Math.Max(0, baseline - (int)Math.Round(baseline * relief * (week <= 12 ? 1 : random.NextDouble())));
                        points.Add(new Point(day.AddDays(week * 7 + random.Next(-2, 5)), value));
                    }
                }
                if (random.NextDouble() < 0.3)
                {
                    effects.Add(new SideEffectReport(day.AddDays(3), random.NextDouble() < 0.1));
                }
                day = day.AddDays(random.NextDouble() < 0.3 ? 40 + random.Next(60) : 120 + random.Next(200));
            }
            histories.Add(new PatientHistory(patient, sessions, [.. points.OrderBy(p => p.Day).DistinctBy(p => p.Day)], effects));
        }
        return histories;
    }

    private static readonly (string Name, CohortFilter Filter, bool FirstCycleOnly)[] _filterSets =
    [
        ("all", new CohortFilter(), false),
        ("first cycles only", new CohortFilter(), true),
        ("emg", new CohortFilter(Guidance: Guidance.Emg), false),
        ("site 1", new CohortFilter(SiteId: 1), false),
        ("ona", new CohortFilter(Product: Product.OnabotulinumtoxinA), false),
        ("neck", new CohortFilter(Condition: Condition.NeckShoulderPain), false),
        ("repeat", new CohortFilter(Cycle: CycleKind.Repeat), false),
        ("women", new CohortFilter(Sex: Sex.Female), false),
    ];

    /// <summary>Every answer for one filter set, given to a fresh attacker.</summary>
    private static Attacker Answers(List<CohortCycle> cycles, int threshold)
    {
        var attacker = new Attacker();
        var total = new CohortAggregate();
        cycles.ForEach(total.Add);
        var s = total.Summarise(threshold);
        var parts = new[] { ("W", s.WithValue), ("V", s.NoValueInWindow), ("B", s.NoBaseline), ("Y", s.NotYetReached), ("E", s.CycleEndedBefore) };
        attacker.Cell("T", s.Cycles.Cycles);
        foreach (var (name, cell) in parts)
        {
            attacker.Cell(name, cell.Cycles);
        }
        attacker.Sum("T", parts.Select(p => p.Item1));
        var rates = new Dictionary<ResponderRule, RateCell>
        {
            [ResponderRule.Relief30] = s.Responders30, [ResponderRule.Relief50] = s.Responders50, [ResponderRule.ImportantChange] = s.RespondersImportantChange,
        };
        foreach (var (rule, rate) in rates)
        {
            attacker.Cell($"k:{rule}", rate.K);
            attacker.Cell($"n:{rule}", rate.N);
            attacker.AtMost($"k:{rule}", $"n:{rule}");
            attacker.AtMost($"n:{rule}", "W");
            attacker.Rate($"k:{rule}", $"n:{rule}");
        }
        // What the attacker knows of the definitions: 50% responders are 30% responders, who meet the
        // important change (2 points or 30%); the 30% and 50% tests judge the same cycles; the important
        // change in points is judged for every complete case, as is the change whose mean and median are shown.
        attacker.AtMost($"k:{ResponderRule.Relief50}", $"k:{ResponderRule.Relief30}");
        attacker.AtMost($"k:{ResponderRule.Relief30}", $"k:{ResponderRule.ImportantChange}");
        attacker.Same($"n:{ResponderRule.Relief30}", $"n:{ResponderRule.Relief50}");
        attacker.Same($"n:{ResponderRule.ImportantChange}", "W");
        attacker.Cell("meanN", s.MeanChange.N);
        attacker.Cell("medianN", s.MedianChange.N);
        attacker.Same("meanN", "W");
        attacker.Same("medianN", "W");
        foreach (var (name, rate) in new[] { ("se", s.SideEffects), ("serious", s.SeriousSideEffects) })
        {
            attacker.Cell($"k:{name}", rate.K);
            attacker.Cell($"n:{name}", rate.N);
            attacker.Same($"n:{name}", "T");
            attacker.AtMost($"k:{name}", $"n:{name}");
            attacker.Rate($"k:{name}", $"n:{name}");
        }

        var breakdowns = _partitions.Select(by => (by, (Func<CohortCycle, IEnumerable<string>>)(c => CohortBreakdown.KeysOf(by, c))))
            .Append(("quarter", c => [CohortBreakdown.Quarter(c.Session.Date)]));
        foreach (var (by, keys) in breakdowns)
        {
            var breakdown = new CohortBreakdown(keys);
            cycles.ForEach(breakdown.Add);
            foreach (var rule in rates.Keys)
            {
                var groups = breakdown.Rates(rule, threshold);
                foreach (var g in groups)
                {
                    attacker.Cell($"{by}:{g.Group}:cycles", g.Cycles.Cycles, lower: 1);
                    attacker.Cell($"{by}:{g.Group}:k:{rule}", g.Rate.K);
                    attacker.Cell($"{by}:{g.Group}:n:{rule}", g.Rate.N);
                    attacker.AtMost($"{by}:{g.Group}:k:{rule}", $"{by}:{g.Group}:n:{rule}");
                    attacker.AtMost($"{by}:{g.Group}:n:{rule}", $"{by}:{g.Group}:cycles");
                    attacker.Rate($"{by}:{g.Group}:k:{rule}", $"{by}:{g.Group}:n:{rule}");
                }
                attacker.Sum("T", groups.Select(g => $"{by}:{g.Group}:cycles"));
                attacker.Sum($"k:{rule}", groups.Select(g => $"{by}:{g.Group}:k:{rule}"));
                attacker.Sum($"n:{rule}", groups.Select(g => $"{by}:{g.Group}:n:{rule}"));
                // Within each group, as in the cohort: nested responders, one n for the 30% and 50% tests.
                foreach (var g in groups.Where(_ => rule == ResponderRule.ImportantChange))
                {
                    attacker.AtMost($"{by}:{g.Group}:k:{ResponderRule.Relief50}", $"{by}:{g.Group}:k:{ResponderRule.Relief30}");
                    attacker.AtMost($"{by}:{g.Group}:k:{ResponderRule.Relief30}", $"{by}:{g.Group}:k:{ResponderRule.ImportantChange}");
                    attacker.Same($"{by}:{g.Group}:n:{ResponderRule.Relief30}", $"{by}:{g.Group}:n:{ResponderRule.Relief50}");
                }
            }
        }

        var duration = total.Duration(threshold, [4, 8, 12, 16, 20, 24, 32, 40, 52]);
        attacker.Cell("D", duration.Cycles.Cycles);
        attacker.Cell("L", duration.Losses.Cycles);
        attacker.AtMost("L", "D");
        return attacker;
    }

    [Fact]
    public void NoWithheldCount_FollowsFromTheAnswersForOneSetOfFilters()
    {
        var withheld = 0;
        var failures = new List<string>();
        for (var seed = 1; seed <= 60; seed++)
        {
            var threshold = 3 + seed % 8;
            var clinic = seed <= 40 ? Clinic(seed, 40 + seed * 4) : Clinic(seed, 30 + seed, simple: true);
            foreach (var (name, filter, firstOnly) in _filterSets)
            {
                foreach (var week in new[] { 6, 12, 24 })
                {
                    var cycles = clinic
                        .SelectMany(h =>
                        {
                            var of = CohortCycles.Of(h, _pain, filter, new FollowUpWindow(week), _today, new BaselineRule());
                            return firstOnly ? of.Take(1) : of;
                        })
                        .ToList();
                    var attacker = Answers(cycles, threshold);
                    withheld += attacker.Withheld;
                    failures.AddRange(attacker.SmallCellsDisclosed(threshold).Select(d => $"seed {seed}, threshold {threshold}, {name}, week {week}: {d}"));
                }
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} recovered:\n" + string.Join("\n", failures.Take(60)));
        Assert.True(withheld > 1000, $"only {withheld} withheld counts: the attack would prove little");
    }

    [Fact]
    public void TheAttacker_RecoversWhatTheOldRulesLeftOpen()
    {
        // The answer the issue found: 15 cycles, "with a value" withheld as the complement of 1 without,
        // but the mean change's n still showing 14.
        var inside = new Attacker();
        inside.Cell("T", 15);
        foreach (var (part, value) in new[] { ("W", (int?)null), ("V", null), ("B", 0), ("Y", 0), ("E", 0) })
        {
            inside.Cell(part, value);
        }
        inside.Sum("T", ["W", "V", "B", "Y", "E"]);
        inside.Cell("meanN", 14);
        inside.Same("meanN", "W");
        // Across answers: site 1 shows 14 of the cohort's 15 cycles beside site 2 withheld alone.
        var across = new Attacker();
        across.Cell("T", 15);
        across.Cell("site:1:cycles", 14, lower: 1);
        across.Cell("site:2:cycles", null, lower: 1);
        across.Sum("T", ["site:1:cycles", "site:2:cycles"]);
        // Two withheld groups with no responders between them: each has none.
        var extremes = new Attacker();
        extremes.Cell("k", 10);
        extremes.Cell("a:k", 10);
        extremes.Cell("b:k", null);
        extremes.Cell("c:k", null);
        extremes.Sum("k", ["a:k", "b:k", "c:k"]);

        Assert.Equal(1, inside.Recovered()["V"]);
        Assert.Equal(["V = 1"], inside.SmallCellsDisclosed(10));
        Assert.Equal(1, across.Recovered()["site:2:cycles"]);
        Assert.Equal((0, 0), (extremes.Recovered()["b:k"], extremes.Recovered()["c:k"]));
    }
}

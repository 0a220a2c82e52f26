using Outcomes.Core.Clinic;
using Outcomes.Core.Cohorts;
using Outcomes.Core.Instruments;
using Outcomes.Core.Outcomes;

namespace Outcomes.Core.Tests.Cohorts;

public class CohortAggregateTests
{
    private static readonly MeasureDefinition _pain = new("pain_nrs", "Pain", Direction.HigherIsWorse, "score", 2m, 30m);
    private static readonly FollowUpWindow _week12 = new(12);
    private static readonly DateOnly _today = new(2026, 1, 1);
    private static readonly DateOnly _session = new(2025, 1, 10);

    /// <summary>Baseline 8 the day before the session; at week 12 (2025-04-04) pain 3 (62.5% relief), 7 (12.5%), or nothing.</summary>
    private static PatientHistory History(long id, bool? responder, Guidance guidance = Guidance.Emg, bool sideEffect = false)
    {
        List<Point> points = [new(_session.AddDays(-1), 8)];
        if (responder is { } r)
        {
            points.Add(new(_session.AddDays(84), r ? 3 : 7));
        }
        return new PatientHistory(
            new CohortPatient(id, 1, Sex.Female, 1970, [Condition.NeckShoulderPain]),
            [new CohortSession(_session, 1, Product.OnabotulinumtoxinA, guidance, 100)],
            points,
            sideEffect ? [new SideEffectReport(_session.AddDays(3), false)] : []);
    }

    private static CohortSummary Summarise(IEnumerable<PatientHistory> histories, int threshold = 10)
    {
        var aggregate = new CohortAggregate();
        foreach (var cycle in histories.SelectMany(h => CohortCycles.Of(h, _pain, new CohortFilter(), _week12, _today, new BaselineRule())))
        {
            aggregate.Add(cycle);
        }
        return aggregate.Summarise(threshold);
    }

    [Fact]
    public void LargeCells_AreShownWithWilsonIntervals()
    {
        // 13 responders and 12 non-responders among 25 patients: 13/25 = 0.52, Wilson (0.3350, 0.6997);
        // R 4.2: prop.test(13, 25, correct = FALSE)$conf.int = 0.3349852 0.6996871.
        var summary = Summarise(Enumerable.Range(1, 25).Select(i => History(i, i <= 13)));

        Assert.Equal((25, 25), (summary.Patients.Patients!.Value, summary.WithValue.Cycles!.Value));
        var rate = summary.Responders30;
        Assert.False(rate.Suppressed);
        Assert.Equal((13, 25), (rate.K!.Value, rate.N!.Value));
        Assert.Equal(0.52, rate.Rate!.Value, 10);
        Assert.Equal(0.3350, rate.Lower!.Value, 4);
        Assert.Equal(0.6997, rate.Upper!.Value, 4);
        // Change: 13 x (3 - 8) + 12 x (7 - 8) = -77 over 25 = -3.08
        Assert.Equal(-3.08, summary.MeanChange.Mean!.Value, 10);
        Assert.Equal(-5.0, summary.MedianChange.Median!.Value, 10);
    }

    [Fact]
    public void ASmallNumerator_SuppressesTheWholeRate()
    {
        // 8 responders among 30: the 8 describe too few patients.
        var rate = Summarise(Enumerable.Range(1, 30).Select(i => History(i, i <= 8))).Responders30;

        Assert.True(rate.Suppressed);
        Assert.Equal((null, null, null, null), (rate.K, rate.N, rate.Rate, rate.Lower));
    }

    [Fact]
    public void ASmallComplement_SuppressesTheRateToo()
    {
        // 20 responders of 25: the 5 non-responders are n - k, recoverable from a shown k and n.
        var rate = Summarise(Enumerable.Range(1, 25).Select(i => History(i, i <= 20))).Responders30;

        Assert.True(rate.Suppressed);
    }

    [Fact]
    public void OneSmallPartOfATotal_TakesAnotherPartWithIt()
    {
        // 20 cycles with a value, 5 without: hiding only the 5 would leave them as total - 20.
        var summary = Summarise(Enumerable.Range(1, 25).Select(i => History(i, i <= 20 ? true : null)));

        Assert.Equal(25, summary.Cycles.Cycles);
        Assert.True(summary.NoValueInWindow.Suppressed);
        Assert.True(summary.WithValue.Suppressed);
        Assert.Equal(0, summary.NoBaseline.Cycles);
    }

    [Fact]
    public void ATinyCohort_ShowsNothing()
    {
        var summary = Summarise(Enumerable.Range(1, 8).Select(i => History(i, true)));

        Assert.True(summary.Patients.Suppressed);
        Assert.True(summary.Cycles.Suppressed);
        Assert.True(summary.Responders30.Suppressed);
        Assert.True(summary.MeanChange.Suppressed);
        Assert.Null(summary.MeanChange.Mean);
    }

    [Fact]
    public void Zero_IsNotASmallCell_AndThresholdZeroShowsEverything()
    {
        var summary = Summarise(Enumerable.Range(1, 8).Select(i => History(i, true)), threshold: 0);

        Assert.Equal(8, summary.Responders30.K);
        Assert.Equal(0, summary.SideEffects.K);
        Assert.False(CohortAggregate.Small(0, 10));
        Assert.True(CohortAggregate.Small(1, 10));
        Assert.True(CohortAggregate.Small(10, 10));
        Assert.False(CohortAggregate.Small(11, 10));
    }

    [Fact]
    public void Filters_SelectCycles_AndDoseBandsStayWithinAProduct()
    {
        var emg = History(1, true, Guidance.Emg);
        var palpation = History(2, true, Guidance.Palpation);

        var cycles = new[] { emg, palpation }
            .SelectMany(h => CohortCycles.Of(h, _pain, new CohortFilter(Guidance: Guidance.Emg, Cycle: CycleKind.First), _week12, _today, new BaselineRule()))
            .ToList();

        Assert.Equal([1L], cycles.Select(c => c.Patient.Id));
        Assert.Equal("onabotulinumtoxinA 100-199", cycles[0].DoseBand);
        Assert.Equal(55, cycles[0].Age); // 2025 - 1970
        Assert.Equal("abobotulinumtoxinA 300-599", DoseBands.Of(Product.AbobotulinumtoxinA, 300));
        Assert.Equal("incobotulinumtoxinA <50", DoseBands.Of(Product.IncobotulinumtoxinA, 49.5m));
        Assert.Equal("onabotulinumtoxinA 50-99", DoseBands.Of(Product.OnabotulinumtoxinA, 50));
        Assert.Equal("onabotulinumtoxinA 100-199", DoseBands.Of(Product.OnabotulinumtoxinA, 199.5m));
        Assert.Equal("abobotulinumtoxinA >=600", DoseBands.Of(Product.AbobotulinumtoxinA, 600));
    }
}

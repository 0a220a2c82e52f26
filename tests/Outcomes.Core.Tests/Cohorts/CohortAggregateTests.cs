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

    /// <summary>Patient <paramref name="id"/> treated on <see cref="_session"/> and 120 days later, each cycle's week-12 value given.</summary>
    private static PatientHistory TwoCycles(long id, int firstValue, int? secondValue)
    {
        var second = _session.AddDays(120);
        List<Point> points = [new(_session.AddDays(-1), 8), new(_session.AddDays(84), firstValue)];
        List<CohortSession> sessions = [new CohortSession(_session, 1, Product.OnabotulinumtoxinA, Guidance.Emg, 100)];
        if (secondValue is { } v)
        {
            points.Add(new(second.AddDays(-1), 8));
            points.Add(new(second.AddDays(84), v));
            sessions.Add(new CohortSession(second, 1, Product.OnabotulinumtoxinA, Guidance.Emg, 100));
        }
        return new PatientHistory(new CohortPatient(id, 1, Sex.Female, 1970, [Condition.NeckShoulderPain]), sessions, points, []);
    }

    [Fact]
    public void ClusteredIntervals_TreatThePatientAsTheCluster()
    {
        // 24 patients; 12 have a second cycle. Cycle 1 responds unless id % 3 == 0, cycle 2 when id is even;
        // a response is 8 -> 3 (change -5), else 8 -> 7 (change -1). 22 of 36 cycles respond. R 4.2.2, survey 4.1-1:
        //   i1 <- 1:24; i2 <- 1:12
        //   d <- data.frame(patient = c(i1, i2), resp = c(as.numeric(i1 %% 3 != 0), as.numeric(i2 %% 2 == 0)))
        //   d$change <- ifelse(d$resp == 1, -5, -1); des <- svydesign(ids = ~patient, data = d)
        //   attr(svyciprop(~resp, des, method = "logit"), "ci")   # 0.4343364582 0.7628104959
        //   confint(svymean(~change, des), df = degf(des))         # -4.12524336 -2.763645529
        //   prop.test(22, 36, correct = FALSE)$conf.int            # 0.4486445910 0.7521512693
        //   t.test(d$change)$conf.int                              # -4.113585926 -2.775302962
        var histories = Enumerable.Range(1, 24).Select(i => TwoCycles(i, i % 3 != 0 ? 3 : 7, i <= 12 ? (i % 2 == 0 ? 3 : 7) : null));

        var summary = Summarise(histories, threshold: 0);

        var rate = summary.Responders30;
        Assert.Equal((22, 36), (rate.K!.Value, rate.N!.Value));
        Assert.Equal((0.4486445910, 0.7521512693), (Math.Round(rate.Lower!.Value, 10), Math.Round(rate.Upper!.Value, 10)));
        Assert.Equal((0.4343364582, 0.7628104959), (Math.Round(rate.ClusteredLower!.Value, 10), Math.Round(rate.ClusteredUpper!.Value, 10)));
        var mean = summary.MeanChange;
        Assert.Equal(-3.444444444, mean.Mean!.Value, 9);
        Assert.Equal((-4.113585926, -2.775302962), (Math.Round(mean.Lower!.Value, 9), Math.Round(mean.Upper!.Value, 9)));
        Assert.Equal((-4.12524336, -2.763645529), (Math.Round(mean.ClusteredLower!.Value, 8), Math.Round(mean.ClusteredUpper!.Value, 9)));
    }

    [Fact]
    public void WhenTheCompleteCasesAreWithheld_EveryFigureWhoseNTheyAreGoesWithThem()
    {
        // 20 with a value, 5 without: the 5 are small, the 20 are withheld with them, and the rates, mean
        // and median, whose n is the 20, would give the 20 back (the leak: meanChange.n = withValue).
        var summary = Summarise(Enumerable.Range(1, 25).Select(i => History(i, i <= 20 ? i <= 10 : null)), threshold: 5);

        Assert.Equal(25, summary.Cycles.Cycles);
        Assert.True(summary.NoValueInWindow.Suppressed);
        Assert.True(summary.WithValue.Suppressed);
        Assert.True(summary.Responders30.Suppressed);
        Assert.True(summary.RespondersImportantChange.Suppressed);
        Assert.True(summary.MeanChange.Suppressed);
        Assert.Null(summary.MeanChange.N);
        Assert.True(summary.MedianChange.Suppressed);
        Assert.Null(summary.MedianChange.N);
    }

    [Fact]
    public void TheComplement_IsTakenFromPartsNothingIsComputedFrom_BeforeTheCompleteCases()
    {
        // 20 with a value, 3 without (small at threshold 4), 6 whose window is still open: the 6 go with the 3,
        // and the complete cases and their rates stay.
        var open = Enumerable.Range(100, 6).Select(i => new PatientHistory(
            new CohortPatient(i, 1, Sex.Female, 1970, [Condition.NeckShoulderPain]),
            [new CohortSession(_today.AddDays(-10), 1, Product.OnabotulinumtoxinA, Guidance.Emg, 100)],
            [new Point(_today.AddDays(-11), 8)], []));
        var summary = Summarise(Enumerable.Range(1, 23).Select(i => History(i, i <= 20 ? i <= 10 : null)).Concat(open), threshold: 4);

        Assert.True(summary.NoValueInWindow.Suppressed);
        Assert.True(summary.NotYetReached.Suppressed);
        Assert.Equal(20, summary.WithValue.Cycles);
        Assert.Equal((10, 20), (summary.Responders30.K!.Value, summary.Responders30.N!.Value));
        Assert.Equal(20, summary.MeanChange.N);
    }

    [Fact]
    public void NestedRates_WhoseDifferenceIsSmall_WithholdTheRarerOne()
    {
        // 30% relief: 12 at 8 -> 3 (62.5%) and 3 at 8 -> 5 (37.5%); 15 not responding (8 -> 7). The 50% responders
        // are the 30% responders less three patients: 15 - 12 = 3 would describe three patients.
        List<PatientHistory> histories = [];
        for (var i = 1; i <= 30; i++)
        {
            var value = i <= 12 ? 3 : i <= 15 ? 5 : 7;
            histories.Add(new PatientHistory(new CohortPatient(i, 1, Sex.Female, 1970, [Condition.NeckShoulderPain]),
                [new CohortSession(_session, 1, Product.OnabotulinumtoxinA, Guidance.Emg, 100)],
                [new(_session.AddDays(-1), 8), new(_session.AddDays(84), value)], []));
        }

        var summary = Summarise(histories, threshold: 4);

        Assert.Equal((15, 30), (summary.Responders30.K!.Value, summary.Responders30.N!.Value));
        Assert.True(summary.Responders50.Suppressed);
    }

    [Fact]
    public void CyclesReTreatedBeforeTheWindow_AreCountedApartFromWindowsNotYetReached()
    {
        // Re-treated on day 30, before the week-12 window opens (day 77): the window never comes, however long ago.
        var retreated = Enumerable.Range(1, 12).Select(i => new PatientHistory(
            new CohortPatient(i, 1, Sex.Female, 1970, [Condition.NeckShoulderPain]),
            [new CohortSession(_session, 1, Product.OnabotulinumtoxinA, Guidance.Emg, 100),
             new CohortSession(_session.AddDays(30), 1, Product.OnabotulinumtoxinA, Guidance.Emg, 100)],
            [new(_session.AddDays(-1), 8), new(_session.AddDays(29), 8)], []));

        var summary = Summarise(retreated, threshold: 0);

        // Each patient's first cycle ended before its window; the second passed its window with no value.
        Assert.Equal(12, summary.CycleEndedBefore.Cycles);
        Assert.Equal(0, summary.NotYetReached.Cycles);
        Assert.Equal(12, summary.NoValueInWindow.Cycles);
    }

    [Fact]
    public void APatientNeverGivenTheMeasure_IsNotInItsCohort()
    {
        var measured = History(1, true);
        var never = new PatientHistory(new CohortPatient(2, 1, Sex.Female, 1970, [Condition.NeckShoulderPain]),
            [new CohortSession(_session, 1, Product.OnabotulinumtoxinA, Guidance.Emg, 100)], [], []);

        var cycles = new[] { measured, never }
            .SelectMany(h => CohortCycles.Of(h, _pain, new CohortFilter(), _week12, _today, new BaselineRule())).ToList();

        Assert.Equal([1L], cycles.Select(c => c.Patient.Id));
    }

    [Theory]
    [InlineData(17, "<18")]
    [InlineData(18, "18-29")]
    [InlineData(19, "18-29")]
    [InlineData(29, "18-29")]
    [InlineData(30, "30-39")]
    [InlineData(89, "80-89")]
    [InlineData(90, "90+")]
    public void AgeBands_DoNotOverlap(int age, string band) => Assert.Equal(band, AgeBands.Of(age));

    /// <summary>A responder whose relief lasts until loss on <paramref name="lossDay"/> (two reports failing), or censored there.</summary>
    private static PatientHistory Lasting(long id, int lossDay, bool lost)
    {
        List<Point> points = [new(_session.AddDays(-1), 8), new(_session.AddDays(7), 3)];
        for (var day = 14; day < lossDay; day += 7)
        {
            points.Add(new(_session.AddDays(day), 3));
        }
        points.Add(new(_session.AddDays(lossDay), lost ? 7 : 3));
        if (lost)
        {
            points.Add(new(_session.AddDays(lossDay + 7), 7));
        }
        return new PatientHistory(new CohortPatient(id, 1, Sex.Female, 1970, [Condition.NeckShoulderPain]),
            [new CohortSession(_session, 1, Product.OnabotulinumtoxinA, Guidance.Emg, 100)], points, []);
    }

    [Fact]
    public void TheCurve_WithholdsAPointWhoseRiskSetIsSmall_AndTheRestOfTheTail()
    {
        // 52 responders (onset day 7). From onset: 20 lose response on day 56, 15 on day 140; 12 are censored
        // (last report) on day 180 and 5 on day 250.
        var histories = Enumerable.Range(1, 20).Select(i => Lasting(i, 63, true))
            .Concat(Enumerable.Range(21, 15).Select(i => Lasting(i, 147, true)))
            .Concat(Enumerable.Range(36, 12).Select(i => Lasting(i, 187, false)))
            .Concat(Enumerable.Range(48, 5).Select(i => Lasting(i, 257, false)));
        var aggregate = new CohortAggregate();
        foreach (var cycle in histories.SelectMany(h => CohortCycles.Of(h, _pain, new CohortFilter(), _week12, new DateOnly(2027, 1, 1), new BaselineRule())))
        {
            aggregate.Add(cycle);
        }

        var curve = aggregate.Duration(10, [4, 8, 12, 16, 20, 24, 32, 40, 52]).Curve;

        // Week 8 (day 56): 52 at risk, survival 32/52. Week 20 (day 140): 32 at risk, survival 32/52 x 17/32 = 17/52.
        // Week 24 (day 168): 17 at risk. Week 32 (day 224): 5 at risk, small: withheld with everything after it,
        // including week 52, when nobody is at risk any more. (R: survfit(Surv(time, event) ~ 1) on these times.)
        Assert.Equal(52, curve.Single(p => p.Week == 8).AtRisk);
        Assert.Equal(32.0 / 52, curve.Single(p => p.Week == 8).Survival!.Value, 12);
        Assert.Equal(32, curve.Single(p => p.Week == 20).AtRisk);
        Assert.Equal(17.0 / 52, curve.Single(p => p.Week == 20).Survival!.Value, 12);
        Assert.Equal(17, curve.Single(p => p.Week == 24).AtRisk);
        Assert.All(curve.Where(p => p.Week >= 32), p => Assert.True(p.Suppressed));
        Assert.All(curve.Where(p => p.Week >= 32), p => Assert.Null(p.Survival));
    }
}

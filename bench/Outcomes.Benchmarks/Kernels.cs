using BenchmarkDotNet.Attributes;
using Outcomes.Core.Clinic;
using Outcomes.Core.Cohorts;
using Outcomes.Core.Instruments;
using Outcomes.Core.Outcomes;
using Outcomes.Core.Statistics;
using Outcomes.Core.Validation;

namespace Outcomes.Benchmarks;

/// <summary>
/// Realistic inputs: a patient of five years (weekly pain scores, a session every 3 to 6 months),
/// the neck disability index, and a cohort of the size the 10,000-patient demo holds (about
/// 72,000 cycles). Data are generated with a fixed seed, so every run measures the same work.
/// </summary>
[MemoryDiagnoser]
public class Kernels
{
    private static readonly MeasureDefinition _pain = new("pain_nrs", "Pain NRS", Direction.HigherIsWorse, "score", 2m, 30m);

    private InstrumentDefinition _ndi = null!;
    private ItemAnswer[] _ndiAnswers = null!;
    private List<DateOnly> _sessions = null!;
    private List<Point> _points = null!;
    private string _series = null!;
    private PatientHistory _history = null!;
    private List<SurvivalObservation> _durations = null!;
    private List<CohortCycle> _cohort = null!;
    private DateOnly _today;
    private (int K, int N) _proportion = (81, 263);
    private (int K, int N) _other = (15, 148);

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(7);
        _ndi = InstrumentJson.Shipped.Single(i => i.Code == "ndi");
        _ndiAnswers = [.. Enumerable.Range(1, 10).Select(i => new ItemAnswer($"ndi_{i:D2}", random.Next(0, 6)))];

        var start = new DateOnly(2021, 1, 4);
        _today = start.AddYears(5);
        _sessions = [];
        for (var d = start.AddDays(10); d < _today; d = d.AddDays(random.Next(90, 183)))
        {
            _sessions.Add(d);
        }
        _points = [];
        for (var d = start; d < _today; d = d.AddDays(7))
        {
            var sinceSession = d.DayNumber - _sessions.LastOrDefault(s => s <= d, start).DayNumber;
            var relief = sinceSession is > 7 and < 100 ? 4 : 0;
            _points.Add(new Point(d, Math.Clamp(7 - relief + random.Next(-1, 2), 0, 10)));
        }
        _series = PointSeries.Encode(_points);
        var patient = new CohortPatient(1, 1, Sex.Female, 1970, [Condition.NeckShoulderPain]);
        _history = new PatientHistory(patient,
            [.. _sessions.Select(s => new CohortSession(s, 1, Product.OnabotulinumtoxinA, Guidance.Emg, 100))], _points,
            [new SideEffectReport(_sessions[1].AddDays(3), false)]);

        _durations = [.. Enumerable.Range(0, 72_000).Select(_ => new SurvivalObservation(random.Next(7, 400), random.NextDouble() < 0.6))];

        // 100,000 patients of three cycles each (baseline before, values at weeks 12 and 13), the week-12 cohort.
        _cohort = [];
        var cohortToday = new DateOnly(2026, 6, 1);
        for (var id = 1; id <= 100_000; id++)
        {
            var first = new DateOnly(2024, 1, 1).AddDays(random.Next(300));
            List<CohortSession> sessions = [];
            List<Point> points = [];
            for (var c = 0; c < 3; c++)
            {
                var day = first.AddDays(c * 150);
                sessions.Add(new CohortSession(day, 1, Product.OnabotulinumtoxinA, (Guidance)random.Next(3), 100));
                points.AddRange([new Point(day.AddDays(-1), 8), new Point(day.AddDays(84), random.Next(10)), new Point(day.AddDays(91), random.Next(10))]);
            }
            var history = new PatientHistory(new CohortPatient(id, 1 + id % 3, Sex.Female, 1960, [Condition.NeckShoulderPain]), sessions, points, []);
            _cohort.AddRange(CohortCycles.Of(history, _pain, new CohortFilter(), new FollowUpWindow(12), cohortToday, new BaselineRule()));
        }
    }

    [Benchmark(Description = "Cohort summary with suppression, 300,000 cycles of 100,000 patients")]
    public int? CohortSummary300k()
    {
        var aggregate = new CohortAggregate();
        _cohort.ForEach(aggregate.Add);
        return aggregate.Summarise(10).Responders30.K;
    }

    [Benchmark(Description = "Cohort breakdown by guidance with suppression, 300,000 cycles")]
    public int CohortBreakdown300k()
    {
        var breakdown = new CohortBreakdown(c => CohortBreakdown.KeysOf("guidance", c));
        _cohort.ForEach(breakdown.Add);
        return breakdown.Rates(ResponderRule.Relief30, 10).Count;
    }

    [Benchmark(Description = "NDI scoring (10 items)")]
    public decimal? ScoreNdi() => Scoring.Score(_ndi, _ndiAnswers, new ValidationErrors())?.Score;

    [Benchmark(Description = "Cycle outcomes, one patient (5 years: ~260 scores, ~14 cycles)")]
    public int CycleOutcomesOfOnePatient() => CycleOutcomes.Compute(_pain, _sessions, _points, _today).Count;

    [Benchmark(Description = "Trend, one patient (weekly means and each cycle's slope)")]
    public int TrendOfOnePatient() => Trends.Weekly(_points).Count + Trends.PerCycle(_sessions, _points, weekly: true).Count;

    [Benchmark(Description = "Cohort cycles and aggregate, one patient")]
    public int CohortCyclesOfOnePatient()
    {
        var aggregate = new CohortAggregate();
        foreach (var cycle in CohortCycles.Of(_history, _pain, new CohortFilter(), FollowUpWindow.Standard.Single(w => w.Week == 12), _today, new BaselineRule()))
        {
            aggregate.Add(cycle);
        }
        return aggregate.CycleCount;
    }

    [Benchmark(Description = "Decode one patient's stored series")]
    public int DecodeSeries() => PointSeries.Decode(_series, _points.Count).Count;

    [Benchmark(Description = "Wilson interval")]
    public double Wilson() => Intervals.Wilson(_proportion.K, _proportion.N).Lower!.Value;

    [Benchmark(Description = "Newcombe difference (method 10)")]
    public double Newcombe() => Intervals.Newcombe(_proportion.K, _proportion.N, _other.K, _other.N)!.Lower;

    [Benchmark(Description = "Kaplan-Meier, 72,000 cycles")]
    public double? KaplanMeier72k() => KaplanMeier.Estimate(_durations).Median;
}

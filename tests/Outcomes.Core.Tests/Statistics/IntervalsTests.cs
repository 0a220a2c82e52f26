using Outcomes.Core.Statistics;

namespace Outcomes.Core.Tests.Statistics;

public class IntervalsTests
{
    // Published worked examples: Brown, Cai & DasGupta 2001 (Stat Sci 16:101); Newcombe 1998 (Stat Med 17:873).
    [Theory]
    [InlineData(81, 263, 0.2553, 0.3662)]
    [InlineData(15, 148, 0.0624, 0.1605)]
    public void Wilson_ReproducesPublishedIntervals(int k, int n, double lower, double upper)
    {
        var p = Intervals.Wilson(k, n);

        Assert.Equal(lower, p.Lower!.Value, 4);
        Assert.Equal(upper, p.Upper!.Value, 4);
        Assert.Equal((double)k / n, p.Rate!.Value, 12);
    }

    [Theory]
    [InlineData(56, 70, 48, 80, 0.0524, 0.3339)]
    [InlineData(9, 10, 3, 10, 0.1705, 0.8090)]
    public void Newcombe_ReproducesPublishedIntervals(int k1, int n1, int k2, int n2, double lower, double upper)
    {
        var d = Intervals.Newcombe(k1, n1, k2, n2)!;

        Assert.Equal(lower, d.Lower, 4);
        Assert.Equal(upper, d.Upper, 4);
        Assert.Equal((double)k1 / n1 - (double)k2 / n2, d.Estimate, 12);
    }

    [Fact]
    public void Wilson_ZeroOfN_AndNOfN_StayInsideZeroToOne()
    {
        // 0/10: [0, z^2 / (n + z^2)] = [0, 0.2775]; 10/10 mirrors it.
        var none = Intervals.Wilson(0, 10);
        var all = Intervals.Wilson(10, 10);

        Assert.Equal(0, none.Lower!.Value, 12);
        Assert.Equal(0.2775, none.Upper!.Value, 4);
        Assert.Equal(0.7225, all.Lower!.Value, 4);
        Assert.Equal(1, all.Upper!.Value, 12);
    }

    [Fact]
    public void Wilson_NoneAnswered_HasNoRateAndNoInterval()
    {
        var p = Intervals.Wilson(0, 0);

        Assert.Equal((0, 0), (p.K, p.N));
        Assert.Null(p.Rate);
        Assert.Null(p.Lower);
        Assert.Null(Intervals.Newcombe(0, 0, 3, 10));
    }

    [Fact]
    public void Mean_AndMedian_MatchR()
    {
        // R 4.2: x <- c(-2.5,-1,0,1.5,3,4,-0.5); mean(x); t.test(x)$conf.int; quantile(x, c(.25,.5,.75))
        //   0.6428571429; -1.4882097919 2.7739240776; -0.75 0 2.25
        double[] x = [-2.5, -1, 0, 1.5, 3, 4, -0.5];

        var mean = Intervals.Mean(x)!;
        var median = Intervals.Median(x)!;

        Assert.Equal(0.6428571429, mean.Mean, 9);
        Assert.Equal(-1.4882097919, mean.Lower!.Value, 9);
        Assert.Equal(2.7739240776, mean.Upper!.Value, 9);
        Assert.Equal((0.0, -0.75, 2.25), (median.Median, median.Q1, median.Q3));
    }

    [Fact]
    public void Mean_OfOneValue_HasNoInterval_AndOfNoneIsNull()
    {
        Assert.Null(Intervals.Mean([3.0])!.Lower);
        Assert.Null(Intervals.Mean([]));
        Assert.Null(Intervals.Median([]));
    }
}

public class KaplanMeierTests
{
    [Fact]
    public void Estimate_MatchesRSurvfit_OnTheClassicRemissionData()
    {
        // R 4.2, survival 3.4:
        //   t <- c(6,6,6,6,7,9,10,10,11,13,16,17,19,20,22,23,25,32,32,34,35)
        //   e <- c(1,1,1,0,1,0,1,0,0,1,1,0,0,0,1,1,0,0,0,0,0)
        //   f <- survfit(Surv(t, e) ~ 1); summary(f); quantile(f, 0.5)
        double[] t = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35];
        int[] e = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0];
        (double Time, int Risk, int Events, double S, double Lower, double Upper)[] expected =
        [
            (6, 21, 3, 0.8571428571, 0.7198170839, 1.0000000000),
            (7, 17, 1, 0.8067226891, 0.6531242185, 0.9964436759),
            (10, 15, 1, 0.7529411765, 0.5859189820, 0.9675747546),
            (13, 12, 1, 0.6901960784, 0.5096130991, 0.9347691955),
            (16, 11, 1, 0.6274509804, 0.4393939250, 0.8959949385),
            (22, 7, 1, 0.5378151261, 0.3370366162, 0.8582008480),
            (23, 6, 1, 0.4481792717, 0.2487882268, 0.8073720455),
        ];

        var curve = KaplanMeier.Estimate([.. t.Zip(e, (time, ev) => new SurvivalObservation(time, ev == 1))]);

        Assert.Equal(expected.Length, curve.Steps.Count);
        for (var i = 0; i < expected.Length; i++)
        {
            var step = curve.Steps[i];
            Assert.Equal((expected[i].Time, expected[i].Risk, expected[i].Events), (step.Time, step.AtRisk, step.Events));
            // R printed to 10 decimals: agreement within 1e-9.
            Assert.Equal(expected[i].S, step.Survival, 1e-9);
            Assert.Equal(expected[i].Lower, step.Lower!.Value, 1e-9);
            Assert.Equal(expected[i].Upper, step.Upper!.Value, 1e-9);
        }
        // quantile(f, 0.5): 23, lower 16, upper NA
        Assert.Equal(23, curve.Median);
        Assert.Equal(16, curve.MedianLower);
        Assert.Null(curve.MedianUpper);
        Assert.Equal((21, 9), (curve.N, curve.Events));
    }

    [Fact]
    public void Median_OnAFlatStretchAtOneHalf_IsHalfwayToTheNextEvent()
    {
        // R: quantile(survfit(Surv(c(1,2,3,4,5,6), c(1,1,1,0,1,1)) ~ 1), 0.5): 4 (S = 0.5 from 3 to 5), lower 2, upper NA
        var curve = KaplanMeier.Estimate([new(1, true), new(2, true), new(3, true), new(4, false), new(5, true), new(6, true)]);

        Assert.Equal(4, curve.Median);
        Assert.Equal(2, curve.MedianLower);
        Assert.Null(curve.MedianUpper);
        Assert.Equal(0, curve.Steps[^1].Survival);
        Assert.Null(curve.Steps[^1].Lower);
    }

    [Fact]
    public void AllCensored_HasNoStepsAndNoMedian()
    {
        var curve = KaplanMeier.Estimate([new(5, false), new(9, false)]);

        Assert.Empty(curve.Steps);
        Assert.Null(curve.Median);
        Assert.Equal(1.0, curve.SurvivalAt(100));
    }

    [Fact]
    public void NoObservations_GiveAnEmptyCurve() =>
        Assert.Equal(0, KaplanMeier.Estimate([]).N);
}

public class ClusteredIntervalsTests
{
    // 15 cycles of 10 patients. R 4.2, survey 4.1:
    //   d <- data.frame(patient = c(1,1,2,3,3,3,4,5,6,6,7,8,8,9,10), resp = c(1,0,1,1,1,0,0,1,0,0,1,1,1,0,1),
    //                   change = c(-3,-1,-4,-5,-2.5,0,1,-6,-0.5,0,-2,-3,-4,1,-7))
    //   des <- svydesign(ids = ~patient, data = d)
    //   attr(svyciprop(~resp, des, method = "logit"), "ci")   # 0.3021150225 0.8386444743
    //   SE(svymean(~resp, des))                                # 0.1318435287
    //   confint(svymean(~change, des), df = degf(des))         # -3.85714107 -0.9428589305
    private static readonly long[] _patient = [1, 1, 2, 3, 3, 3, 4, 5, 6, 6, 7, 8, 8, 9, 10];
    private static readonly int[] _resp = [1, 0, 1, 1, 1, 0, 0, 1, 0, 0, 1, 1, 1, 0, 1];
    private static readonly double[] _change = [-3, -1, -4, -5, -2.5, 0, 1, -6, -0.5, 0, -2, -3, -4, 1, -7];

    [Fact]
    public void Proportion_MatchesSurveySvyciprop()
    {
        var observations = _patient.Select((p, i) => (p, _resp[i] == 1)).ToList();

        var se = Intervals.ClusteredStandardError([.. observations.Select(o => (o.p, o.Item2 ? 1.0 : 0.0))]);
        var ci = Intervals.ClusteredProportion(observations)!.Value;

        Assert.Equal(0.1318435287, se!.Value, 9);
        Assert.Equal(0.3021150225, ci.Lower, 9);
        Assert.Equal(0.8386444743, ci.Upper, 9);
    }

    [Fact]
    public void Mean_MatchesSurveySvymeanWithClusterDegreesOfFreedom()
    {
        var ci = Intervals.ClusteredMean([.. _patient.Select((p, i) => (p, _change[i]))])!.Value;

        Assert.Equal(-3.85714107, ci.Lower, 7);
        Assert.Equal(-0.9428589305, ci.Upper, 9);
    }

    [Fact]
    public void NoInterval_ForOneCluster_OrARateOfZeroOrOne()
    {
        Assert.Null(Intervals.ClusteredMean([(1, 2.0), (1, 3.0)]));
        Assert.Null(Intervals.ClusteredProportion([(1, true), (2, true), (3, true)]));
        Assert.Null(Intervals.ClusteredProportion([(1, false), (2, false)]));
    }
}

using MathNet.Numerics.Distributions;
using MathNet.Numerics.Statistics;

namespace Outcomes.Core.Statistics;

/// <summary>A proportion k of n with its 95% interval.</summary>
public sealed record Proportion(int K, int N, double? Rate, double? Lower, double? Upper);

/// <summary>A difference of two proportions with its 95% interval.</summary>
public sealed record Difference(double Estimate, double Lower, double Upper);

/// <summary>A mean with its t-based 95% interval.</summary>
public sealed record MeanInterval(int N, double Mean, double? Lower, double? Upper, double? StandardDeviation);

/// <summary>Median and interquartile range (R's default quantile definition, type 7).</summary>
public sealed record MedianIqr(int N, double Median, double Q1, double Q3);

/// <summary>Confidence intervals auditors expect (sources in docs/clinical-definitions.md).</summary>
public static class Intervals
{
    /// <summary>z for a two-sided 95% interval.</summary>
    public static readonly double Z95 = Normal.InvCDF(0, 1, 0.975);

    /// <summary>
    /// Wilson score interval (Brown, Cai &amp; DasGupta 2001). With n = 0 there is no rate and no
    /// interval; 0 of n and n of n get their proper one-sided-looking bounds.
    /// </summary>
    public static Proportion Wilson(int k, int n, double z = double.NaN)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfLessThan(n, k);
        if (n == 0)
        {
            return new Proportion(0, 0, null, null, null);
        }
        if (double.IsNaN(z))
        {
            z = Z95;
        }
        var p = (double)k / n;
        var z2 = z * z;
        var denominator = 1 + z2 / n;
        var centre = (p + z2 / (2 * n)) / denominator;
        var half = z * Math.Sqrt(p * (1 - p) / n + z2 / (4.0 * n * n)) / denominator;
        return new Proportion(k, n, p, Math.Max(0, centre - half), Math.Min(1, centre + half));
    }

    /// <summary>
    /// Newcombe's hybrid score interval for p1 − p2 (method 10, Stat Med 1998;17:873), built from the
    /// two Wilson intervals. Null when either group is empty.
    /// </summary>
    public static Difference? Newcombe(int k1, int n1, int k2, int n2)
    {
        var a = Wilson(k1, n1);
        var b = Wilson(k2, n2);
        if (a.Rate is not { } p1 || b.Rate is not { } p2)
        {
            return null;
        }
        var d = p1 - p2;
        var lower = d - Math.Sqrt(Square(p1 - a.Lower!.Value) + Square(b.Upper!.Value - p2));
        var upper = d + Math.Sqrt(Square(a.Upper!.Value - p1) + Square(p2 - b.Lower!.Value));
        return new Difference(d, lower, upper);
    }

    /// <summary>Mean with mean ± t(0.975, n − 1) × sd / √n; no interval below two values, nothing for none.</summary>
    public static MeanInterval? Mean(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
        {
            return null;
        }
        var mean = values.Average();
        if (values.Count < 2)
        {
            return new MeanInterval(1, mean, null, null, null);
        }
        var sd = values.StandardDeviation();
        var half = StudentQuantile.T975(values.Count - 1) * sd / Math.Sqrt(values.Count);
        return new MeanInterval(values.Count, mean, mean - half, mean + half, sd);
    }

    public static MedianIqr? Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
        {
            return null;
        }
        // Sorted once; the three quantiles are read off the sorted values.
        var data = values.ToArray();
        Array.Sort(data);
        return new MedianIqr(values.Count,
            SortedArrayStatistics.QuantileCustom(data, 0.5, QuantileDefinition.R7),
            SortedArrayStatistics.QuantileCustom(data, 0.25, QuantileDefinition.R7),
            SortedArrayStatistics.QuantileCustom(data, 0.75, QuantileDefinition.R7));
    }

    /// <summary>
    /// Standard error of a mean when observations come in clusters (a patient's several cycles):
    /// the linearisation (sandwich) estimator with equal weights, √(C/(C−1) · Σ_c (Σ_{i∈c}(y_i − ȳ))² / n²),
    /// as R's <c>survey::svymean</c> computes it for <c>svydesign(ids = ~patient)</c>. Null below two clusters.
    /// </summary>
    public static double? ClusteredStandardError(IReadOnlyList<(long Cluster, double Value)> observations) =>
        Cluster(observations)?.StandardError;

    /// <summary>
    /// 95% interval of a proportion whose observations are clustered: the logit interval of R's
    /// <c>survey::svyciprop(method = "logit")</c>, logit(p) ± t(0.975, C − 1) · SE / (p(1 − p)), back-transformed,
    /// with <see cref="ClusteredStandardError"/>. Null when p is 0 or 1 (no logit) or there are fewer than two clusters.
    /// </summary>
    public static (double Lower, double Upper)? ClusteredProportion(IReadOnlyList<(long Cluster, bool Value)> observations) =>
        Cluster([.. observations.Select(o => (o.Cluster, o.Value ? 1.0 : 0.0))])?.ProportionInterval();

    /// <summary>
    /// 95% interval of a mean whose observations are clustered: mean ± t(0.975, C − 1) · SE with
    /// <see cref="ClusteredStandardError"/>, as R's <c>confint(svymean(~y, design), df = degf(design))</c>.
    /// </summary>
    public static (double Lower, double Upper)? ClusteredMean(IReadOnlyList<(long Cluster, double Value)> observations) =>
        Cluster(observations)?.MeanInterval();

    private static ClusteredMean? Cluster(IReadOnlyList<(long Cluster, double Value)> observations)
    {
        if (observations.Count == 0)
        {
            return null;
        }
        var mean = observations.Average(o => o.Value);
        var totals = new Dictionary<long, double>();
        foreach (var (cluster, value) in observations)
        {
            totals[cluster] = totals.GetValueOrDefault(cluster) + (value - mean);
        }
        return new ClusteredMean(observations.Count, totals.Count, mean, totals.Values.Sum(t => t * t));
    }

    private static double Square(double x) => x * x;
}

/// <summary>
/// A mean of n observations in C clusters, with Σ_c (Σ_{i∈c}(y_i − ȳ))², from which its clustered standard error and
/// intervals follow (see <see cref="Intervals.ClusteredStandardError"/>). Callers that hold their clusters in arrays
/// compute the sum themselves and meet the same formulas here.
/// </summary>
public sealed record ClusteredMean(int N, int Clusters, double Mean, double SumOfSquaredClusterTotals)
{
    public double? StandardError => Clusters < 2 ? null : Math.Sqrt(Clusters / (Clusters - 1.0) * SumOfSquaredClusterTotals / ((double)N * N));

    public (double Lower, double Upper)? MeanInterval()
    {
        if (StandardError is not { } se)
        {
            return null;
        }
        var half = StudentQuantile.T975(Clusters - 1) * se;
        return (Mean - half, Mean + half);
    }

    /// <summary>The logit interval of a proportion (the mean of 0/1 values); null when it is 0 or 1.</summary>
    public (double Lower, double Upper)? ProportionInterval()
    {
        if (StandardError is not { } se || Mean <= 0 || Mean >= 1)
        {
            return null;
        }
        var logit = Math.Log(Mean / (1 - Mean));
        var half = StudentQuantile.T975(Clusters - 1) * se / (Mean * (1 - Mean));
        return (Expit(logit - half), Expit(logit + half));
    }

    private static double Expit(double x) => 1 / (1 + Math.Exp(-x));
}

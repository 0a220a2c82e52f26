using Outcomes.Core.Statistics;

namespace Outcomes.Core.Outcomes;

/// <summary>A least-squares line through a series, with the 95% interval of its slope.</summary>
/// <param name="Slope">Change per unit of x.</param>
/// <param name="SlopeLower">Lower end of the two-sided 95% confidence interval of the slope (t with n − 2 df).</param>
/// <param name="SlopeUpper">Upper end of it.</param>
/// <param name="Points">How many points the fit rests on.</param>
public sealed record LinearFit(double Intercept, double Slope, double? SlopeLower, double? SlopeUpper, int Points);

public static class LinearTrend
{
    /// <summary>
    /// Ordinary least squares of y on x. Needs two distinct x values for a slope and three points
    /// for its interval; returns null when there is no slope to fit.
    /// </summary>
    public static LinearFit? Fit(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(x.Count, y.Count);
        var n = x.Count;
        if (n < 2)
        {
            return null;
        }
        var meanX = 0.0;
        for (var i = 0; i < n; i++)
        {
            meanX += x[i];
        }
        meanX /= n;
        var sxx = 0.0;
        for (var i = 0; i < n; i++)
        {
            sxx += (x[i] - meanX) * (x[i] - meanX);
        }
        if (sxx <= 0)
        {
            return null;
        }
        var (intercept, slope) = MathNet.Numerics.Fit.Line([.. x], [.. y]);
        if (n < 3)
        {
            return new LinearFit(intercept, slope, null, null, n);
        }
        var sse = 0.0;
        for (var i = 0; i < n; i++)
        {
            var residual = y[i] - (intercept + slope * x[i]);
            sse += residual * residual;
        }
        var standardError = Math.Sqrt(sse / (n - 2) / sxx);
        var t = StudentQuantile.T975(n - 2);
        return new LinearFit(intercept, slope, slope - t * standardError, slope + t * standardError, n);
    }
}

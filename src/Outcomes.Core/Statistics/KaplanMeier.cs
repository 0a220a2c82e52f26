namespace Outcomes.Core.Statistics;

/// <summary>One follow-up time: an event (loss of response) or a censoring (re-treatment, last contact).</summary>
public sealed record SurvivalObservation(double Time, bool Event);

/// <summary>One step of the curve, at a time with at least one event.</summary>
/// <param name="AtRisk">Still followed just before this time.</param>
/// <param name="Lower">95% lower bound, log transformation with Greenwood's variance (R survfit's default); null where survival is 0.</param>
public sealed record SurvivalStep(double Time, int AtRisk, int Events, double Survival, double? Lower, double? Upper);

/// <param name="Median">First time survival falls to 0.5 or below (halfway to the next event time when it sits exactly at 0.5); null if it never does.</param>
/// <param name="MedianLower">The same read off the lower confidence curve.</param>
/// <param name="MedianUpper">The same read off the upper confidence curve; null when that never reaches 0.5.</param>
public sealed record SurvivalCurve(int N, int Events, IReadOnlyList<SurvivalStep> Steps, double? Median, double? MedianLower, double? MedianUpper)
{
    /// <summary>Survival at <paramref name="time"/>: the last step at or before it.</summary>
    public double SurvivalAt(double time) => Steps.LastOrDefault(s => s.Time <= time)?.Survival ?? 1.0;
}

/// <summary>Kaplan–Meier estimate with Greenwood log intervals, as R's <c>survival::survfit</c> computes by default.</summary>
public static class KaplanMeier
{
    public static SurvivalCurve Estimate(IReadOnlyCollection<SurvivalObservation> observations)
    {
        var z = Intervals.Z95;
        var byTime = observations.GroupBy(o => o.Time).OrderBy(g => g.Key).ToList();
        var atRisk = observations.Count;
        var survival = 1.0;
        var greenwood = 0.0;
        var steps = new List<SurvivalStep>();
        foreach (var group in byTime)
        {
            var events = group.Count(o => o.Event);
            if (events > 0)
            {
                survival *= 1.0 - (double)events / atRisk;
                greenwood += atRisk == events ? double.PositiveInfinity : (double)events / (atRisk * (atRisk - events));
                double? lower = null;
                double? upper = null;
                if (survival > 0 && !double.IsInfinity(greenwood))
                {
                    var se = Math.Sqrt(greenwood);
                    lower = survival * Math.Exp(-z * se);
                    upper = Math.Min(1.0, survival * Math.Exp(z * se));
                }
                steps.Add(new SurvivalStep(group.Key, atRisk, events, survival, lower, upper));
            }
            atRisk -= group.Count();
        }
        return new SurvivalCurve(observations.Count, observations.Count(o => o.Event), steps,
            Quantile(steps, s => s.Survival), Quantile(steps, s => s.Lower), Quantile(steps, s => s.Upper));
    }

    /// <summary>First time the curve reaches 0.5; on a flat stretch at exactly 0.5, halfway to the next step (R's rule).</summary>
    private static double? Quantile(List<SurvivalStep> steps, Func<SurvivalStep, double?> curve)
    {
        const double tolerance = 1e-12;
        for (var i = 0; i < steps.Count; i++)
        {
            // A bound is undefined where survival reaches 0; like R, such a step does not count.
            if (curve(steps[i]) is not { } v || v > 0.5 + tolerance)
            {
                continue;
            }
            if (Math.Abs(v - 0.5) <= tolerance && i + 1 < steps.Count)
            {
                return (steps[i].Time + steps[i + 1].Time) / 2;
            }
            return steps[i].Time;
        }
        return null;
    }
}

using MathNet.Numerics.Distributions;

namespace Outcomes.Core.Statistics;

/// <summary>
/// t(0.975, df), the multiplier of two-sided 95% intervals, remembered per degree of freedom.
/// MathNet finds a Student t quantile by root-finding (about 6–10 µs a call on the bench machine),
/// and a patient's trend asks for one per treatment cycle; the answer for a given df never changes.
/// </summary>
public static class StudentQuantile
{
    /// <summary>Degrees of freedom kept; above this the quantile is computed each time (it is within 0.2% of z by then).</summary>
    public const int CachedUpTo = 1000;

    // 0 marks "not computed yet" (every t quantile above 0.5 is positive). A double is read and
    // written whole, so two threads that race on one entry both store the same value.
    private static readonly double[] _upper975 = new double[CachedUpTo + 1];

    /// <summary>The 0.975 quantile of Student's t with <paramref name="degreesOfFreedom"/> df.</summary>
    public static double T975(int degreesOfFreedom)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(degreesOfFreedom, 1);
        if (degreesOfFreedom > CachedUpTo)
        {
            return StudentT.InvCDF(0, 1, degreesOfFreedom, 0.975);
        }
        var t = Volatile.Read(ref _upper975[degreesOfFreedom]);
        if (t == 0)
        {
            t = StudentT.InvCDF(0, 1, degreesOfFreedom, 0.975);
            Volatile.Write(ref _upper975[degreesOfFreedom], t);
        }
        return t;
    }
}

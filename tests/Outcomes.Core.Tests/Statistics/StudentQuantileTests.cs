using Outcomes.Core.Statistics;

namespace Outcomes.Core.Tests.Statistics;

public class StudentQuantileTests
{
    // Two-sided 95% critical values of Student's t as printed in the usual tables (e.g. Fisher &
    // Yates' Table III, three decimals); 1,000 and 2,000 df sit on either side of the cache's end.
    [Theory]
    [InlineData(1, 12.706)]
    [InlineData(2, 4.303)]
    [InlineData(5, 2.571)]
    [InlineData(10, 2.228)]
    [InlineData(30, 2.042)]
    [InlineData(120, 1.980)]
    [InlineData(1000, 1.962)]
    [InlineData(2000, 1.961)]
    public void T975_MatchesTheTables_FirstAndRememberedCall(int df, double expected)
    {
        Assert.Equal(expected, StudentQuantile.T975(df), 3);
        Assert.Equal(expected, StudentQuantile.T975(df), 3);
    }

    [Fact]
    public void T975_RefusesZeroDegreesOfFreedom() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => StudentQuantile.T975(0));
}

using Outcomes.Core.Cohorts;

namespace Outcomes.Core.Tests.Cohorts;

public class CohortBreakdownTests
{
    [Theory]
    [InlineData(2025, 1, 1, "2025-Q1")]
    [InlineData(2025, 3, 31, "2025-Q1")]
    [InlineData(2025, 4, 1, "2025-Q2")]
    [InlineData(2025, 9, 30, "2025-Q3")]
    [InlineData(2024, 12, 31, "2024-Q4")]
    public void Quarter_IsTheCalendarQuarter(int year, int month, int day, string expected) =>
        Assert.Equal(expected, CohortBreakdown.Quarter(new DateOnly(year, month, day)));
}

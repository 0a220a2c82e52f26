using Outcomes.Core.Clinic;
using Outcomes.Core.Cohorts;

namespace Outcomes.Core.Tests.Cohorts;

public class SessionSeriesTests
{
    [Fact]
    public void Encode_WritesEachSessionsFieldsAsTheApiNamesThem()
    {
        var text = SessionSeries.Encode([new(new DateOnly(2025, 3, 3), 12, Product.OnabotulinumtoxinA, Guidance.Emg, 100m)]);

        Assert.Equal("2025-03-03;12;onabotulinumtoxinA;emg;100", text);
    }

    [Fact]
    public void Decode_GivesBackExactlyTheEncodedSessions()
    {
        CohortSession[] sessions =
        [
            new(new DateOnly(2024, 2, 29), 1, Product.AbobotulinumtoxinA, Guidance.Ultrasound, 500m),
            new(new DateOnly(2024, 6, 1), 987654321, Product.IncobotulinumtoxinA, Guidance.Palpation, 37.50m),
            new(new DateOnly(2024, 6, 1), 3, Product.OnabotulinumtoxinA, Guidance.Emg, 0.5m),
        ];

        var decoded = SessionSeries.Decode(SessionSeries.Encode(sessions));

        Assert.Equal(sessions, decoded);
        Assert.Equal("37.50", decoded[1].TotalUnits.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Empty(SessionSeries.Decode(SessionSeries.Encode([])));
    }

    [Theory]
    [InlineData("2025-03-03;12;onabotulinumtoxinA;emg")]
    [InlineData("2025-03-03;12;botox;emg;100")]
    [InlineData("2025-03-03;-1;onabotulinumtoxinA;emg;100")]
    [InlineData("2025-02-30;12;onabotulinumtoxinA;emg;100")]
    [InlineData("2025-03-03;12;onabotulinumtoxinA;needle;100")]
    [InlineData("2025-03-03;12;onabotulinumtoxinA;emg;100|")]
    public void Decode_RefusesWhatItDidNotWrite(string text)
    {
        Assert.Throws<FormatException>(() => SessionSeries.Decode(text));
    }
}

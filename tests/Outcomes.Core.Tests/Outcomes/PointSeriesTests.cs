using Outcomes.Core.Outcomes;

namespace Outcomes.Core.Tests.Outcomes;

public class PointSeriesTests
{
    [Fact]
    public void Encode_WritesDayAndValuePairsInTheOrderGiven()
    {
        var text = PointSeries.Encode([new(new DateOnly(2025, 3, 5), 7m), new(new DateOnly(2025, 3, 1), 6.50m), new(new DateOnly(2025, 3, 1), -0.62m)]);

        Assert.Equal("2025-03-05;7|2025-03-01;6.50|2025-03-01;-0.62", text);
    }

    [Fact]
    public void Decode_GivesBackExactlyTheEncodedPoints()
    {
        Point[] points =
        [
            new(new DateOnly(1999, 12, 31), 0m),
            new(new DateOnly(2024, 2, 29), 10m),
            new(new DateOnly(2024, 2, 29), 4.25m),
            new(new DateOnly(2026, 11, 22), 1234567.89m),
            new(new DateOnly(2026, 11, 23), -45m),
        ];

        var decoded = PointSeries.Decode(PointSeries.Encode(points));

        Assert.Equal(points, decoded);
        Assert.Equal("4.25", decoded[2].Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void EmptySeries_IsTheEmptyText()
    {
        Assert.Equal("", PointSeries.Encode([]));
        Assert.Empty(PointSeries.Decode(""));
    }

    [Theory]
    [InlineData("2025-03-05")]
    [InlineData("2025-03-05;x")]
    [InlineData("05/03/2025;7")]
    [InlineData("2025-03-05;7|")]
    public void Decode_RefusesWhatItDidNotWrite(string text)
    {
        Assert.Throws<FormatException>(() => PointSeries.Decode(text));
    }

    [Fact]
    public void Decode_ReadsEachValueAsDecimalParseDoes_DigitsAndScale()
    {
        // decimal.Parse is the reference: same value and the same trailing zeros, for 2,000 values of every sign and scale up to 4.
        var random = new Random(3);
        var texts = Enumerable.Range(0, 2000).Select(i =>
        {
            var scale = i % 5;
            var digits = random.NextInt64(0, 1_000_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(scale + 1, '0');
            var text = scale == 0 ? digits : $"{digits[..^scale]}.{digits[^scale..]}";
            return random.Next(2) == 0 ? text : "-" + text;
        }).ToList();
        var series = string.Join('|', texts.Select((t, i) => $"{new DateOnly(2020, 1, 1).AddDays(i):yyyy-MM-dd};{t}"));

        var decoded = PointSeries.Decode(series);

        Assert.Equal(texts.Select(t => decimal.Parse(t, System.Globalization.CultureInfo.InvariantCulture).ToString(System.Globalization.CultureInfo.InvariantCulture)),
            decoded.Select(p => p.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(new DateOnly(2025, 6, 22), decoded[^1].Day);
    }
}

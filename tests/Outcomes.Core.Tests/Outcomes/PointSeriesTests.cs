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

    [Fact]
    public void DecodeFrom_IsTheDecodedSeriesAndTailLessTheEarlierDays_OnEveryDayAround()
    {
        // The reference is the whole decode, filtered: 300 series in day order (several points on a day, gaps, values
        // of every scale), split into a series and a tail at every kind of place, asked from every day around them.
        var random = new Random(11);
        for (var n = 0; n < 300; n++)
        {
            var day = new DateOnly(2024, 12, 20).AddDays(random.Next(0, 30));
            var points = new List<Point>();
            for (var i = random.Next(0, 12); i > 0; i--)
            {
                day = day.AddDays(random.Next(0, 3) == 0 ? 0 : random.Next(1, 9));
                points.Add(new Point(day, random.Next(0, 1100) / (decimal)Math.Pow(10, random.Next(0, 3))));
            }
            var split = random.Next(0, points.Count + 1);
            var (text, tail) = (PointSeries.Encode(points.Take(split)), PointSeries.Encode(points.Skip(split)));
            // A missing series or tail is null or empty.
            var (textGiven, tailGiven) = (text.Length == 0 && random.Next(2) == 0 ? null : text, tail.Length == 0 && random.Next(2) == 0 ? null : tail);
            var all = PointSeries.Decode(textGiven, tailGiven);
            Assert.Equal(points, all);
            for (var from = new DateOnly(2024, 12, 18); from <= day.AddDays(2); from = from.AddDays(1))
            {
                Assert.Equal(all.Where(p => p.Day >= from), PointSeries.DecodeFrom(textGiven, tailGiven, from));
            }
        }
    }

    [Fact]
    public void DecodeLast_IsTheEndOfTheDecodedSeriesAndTail_ForEveryCount()
    {
        // The reference is the whole decode: 300 series split into a series and a tail at every kind of place,
        // asked for every count from none to all; one more than all is refused.
        var random = new Random(17);
        for (var n = 0; n < 300; n++)
        {
            var points = Enumerable.Range(0, random.Next(0, 12))
                .Select(i => new Point(new DateOnly(2025, 1, 1).AddDays(i), random.Next(0, 1100) / (decimal)Math.Pow(10, random.Next(0, 3)))).ToList();
            var split = random.Next(0, points.Count + 1);
            var (text, tail) = (PointSeries.Encode(points.Take(split)), PointSeries.Encode(points.Skip(split)));
            var (textGiven, tailGiven) = (text.Length == 0 && random.Next(2) == 0 ? null : text, tail.Length == 0 && random.Next(2) == 0 ? null : tail);
            for (var count = 0; count <= points.Count; count++)
            {
                Assert.Equal(points.Skip(points.Count - count), PointSeries.DecodeLast(textGiven, tailGiven, count));
            }
            Assert.Throws<FormatException>(() => PointSeries.DecodeLast(textGiven, tailGiven, points.Count + 1));
        }
    }

    [Fact]
    public void TheLastPointsOfASeriesEnd_AreTheEndOfTheDecodedSeries_WhereverTheEndIsCut()
    {
        // The reference is the whole decode. A series' last n characters (n from none to more than all, so cut inside a
        // day, a value, at a separator, and not at all) give its last pairs, as many as lie whole in them; asked for
        // those and fewer, with a tail after them, they are the end of the whole; asked for one more, false.
        var random = new Random(23);
        for (var n = 0; n < 200; n++)
        {
            var points = Enumerable.Range(0, random.Next(0, 9))
                .Select(i => new Point(new DateOnly(2025, 1, 1).AddDays(i), random.Next(0, 1100) / (decimal)Math.Pow(10, random.Next(0, 3)))).ToList();
            var split = random.Next(0, points.Count + 1);
            var (text, tail) = (PointSeries.Encode(points.Take(split)), PointSeries.Encode(points.Skip(split)));
            for (var chars = 0; chars <= text.Length + 2; chars++)
            {
                var end = PointSeries.WholePairsOf(text[Math.Max(0, text.Length - chars)..], whole: chars >= text.Length);
                // The pairs wholly inside the last characters: all of them when nothing was cut, else those after the
                // last separator before the cut.
                var whole = chars >= text.Length ? split : text[^chars..].Count(c => c == '|');
                var available = whole + points.Count - split;
                for (var count = 0; count <= available; count++)
                {
                    Assert.True(PointSeries.TryDecodeLast(end, tail, count, out var last));
                    Assert.Equal(points.Skip(points.Count - count), last);
                }
                Assert.False(PointSeries.TryDecodeLast(end, tail, available + 1, out _));
            }
        }
    }
}

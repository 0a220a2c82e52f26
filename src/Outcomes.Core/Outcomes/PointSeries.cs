using System.Globalization;
using System.Text;

namespace Outcomes.Core.Outcomes;

/// <summary>
/// A measure's current values packed into one text, for storage beside the observations they
/// come from: <c>day;value</c> pairs separated by <c>|</c>, the day as ISO <c>yyyy-MM-dd</c> and
/// the value in invariant culture, in the order given (the order answered). Decoding gives back
/// exactly the points encoded, values to the last stored digit.
/// </summary>
public static class PointSeries
{
    private const char PairSeparator = '|';
    private const char FieldSeparator = ';';

    public static string Encode(IEnumerable<Point> points)
    {
        var text = new StringBuilder();
        foreach (var p in points)
        {
            if (text.Length > 0)
            {
                text.Append(PairSeparator);
            }
            text.Append(p.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))
                .Append(FieldSeparator)
                .Append(p.Value.ToString(CultureInfo.InvariantCulture));
        }
        return text.ToString();
    }

    /// <summary>A stored series followed by its tail (the points appended since it was last folded); either may be missing.</summary>
    /// <exception cref="FormatException">A text is not a series this class wrote.</exception>
    public static List<Point> Decode(string? text, string? tail, int capacity = 0)
    {
        // Sized once (a vectorised count of the separators) rather than grown by doubling: a long
        // history's list is a large-object allocation at every step.
        var points = new List<Point>(capacity > 0 ? capacity : Count(text) + Count(tail));
        DecodeInto(text ?? "", points);
        DecodeInto(tail ?? "", points);
        return points;
    }

    /// <exception cref="FormatException">The text is not a series this class wrote.</exception>
    public static List<Point> Decode(string text, int capacity = 0) => Decode(text, null, capacity);

    /// <summary>
    /// The points of a stored series and its tail on or after <paramref name="from"/>: what <see cref="Decode(string?, string?, int)"/>
    /// gives, less the earlier points, found from the end so that the earlier ones are never parsed. For series in
    /// day order only, as the stored ones are (built in the order answered, appended only after their last point).
    /// </summary>
    /// <exception cref="FormatException">A text is not a series this class wrote.</exception>
    public static List<Point> DecodeFrom(string? text, string? tail, DateOnly from)
    {
        var day = from.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var series = text ?? "";
        var tailText = tail ?? "";
        var points = new List<Point>();
        DecodeInto(series.AsSpan(StartOfDaysFrom(series, day)), points);
        DecodeInto(tailText.AsSpan(StartOfDaysFrom(tailText, day)), points);
        return points;
    }

    /// <summary>
    /// The last <paramref name="count"/> points of a stored series followed by its tail: the end of what
    /// <see cref="Decode(string?, string?, int)"/> gives, found from the end so that the earlier points are never parsed.
    /// </summary>
    /// <exception cref="FormatException">The texts hold fewer points, or are not a series this class wrote.</exception>
    public static List<Point> DecodeLast(string? text, string? tail, int count) =>
        TryDecodeLast(text, tail, count, out var points) ? points : throw new FormatException("The series holds fewer points than asked for.");

    /// <summary>As <see cref="DecodeLast"/>; false, with no points, when the texts hold fewer than <paramref name="count"/>.</summary>
    /// <exception cref="FormatException">A text is not a series this class wrote.</exception>
    public static bool TryDecodeLast(string? text, string? tail, int count, out List<Point> points)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        points = [];
        if (count == 0)
        {
            return true;
        }
        var tailText = tail ?? "";
        var inTail = Math.Min(count, Count(tailText));
        var series = text ?? "";
        var start = inTail < count ? StartOfLast(series, count - inTail) : series.Length;
        if (start < 0)
        {
            return false;
        }
        points = new List<Point>(count);
        DecodeInto(series.AsSpan(start), points);
        DecodeInto(tailText.AsSpan(StartOfLast(tailText, inTail)), points);
        return true;
    }

    /// <summary>
    /// The whole pairs of a stored text's last characters (what SQL's <c>substr(points, -n)</c> or <c>RIGHT(points, n)</c>
    /// gives): the characters before the first separator are dropped, as they may be the end of a pair, unless
    /// <paramref name="whole"/> (the text is no longer than what was taken, so it starts with a pair). Its pairs are the text's last.
    /// </summary>
    public static string WholePairsOf(string end, bool whole) =>
        whole ? end : end.IndexOf(PairSeparator) is var i and >= 0 ? end[(i + 1)..] : "";

    /// <summary>Where the last <paramref name="pairs"/> pairs of a text start (its length for none); -1 when it holds fewer.</summary>
    private static int StartOfLast(string text, int pairs)
    {
        var start = text.Length;
        for (var i = 0; i < pairs && start >= 0; i++)
        {
            start = PairBefore(text, start).Start;
        }
        return start;
    }

    /// <summary>Where the pairs dated on or after <paramref name="day"/> (ISO text, which orders as the dates do) start; the length when none is.</summary>
    private static int StartOfDaysFrom(string text, string day)
    {
        var start = text.Length;
        while (PairBefore(text, start) is var (pair, end) && pair >= 0 && end - pair >= 10 && string.CompareOrdinal(text, pair, day, 0, 10) >= 0)
        {
            start = pair;
        }
        return start;
    }

    /// <summary>
    /// The pair just before <paramref name="start"/> (a pair's start, or the text's length): it ends at the separator
    /// before start, or at the end of the text. Start -1 when there is none.
    /// </summary>
    private static (int Start, int End) PairBefore(string text, int start)
    {
        var end = start == text.Length ? text.Length : start - 1;
        return end <= 0 ? (-1, end) : (text.LastIndexOf(PairSeparator, end - 1) + 1, end);
    }

    /// <summary>
    /// Whether the points from index <paramref name="from"/> on are in day order and none is dated before
    /// <paramref name="after"/>: what a <see cref="MeasureProgress"/> that has read the points before them (or one
    /// that read up to <paramref name="after"/>) can read next. Stored series always are; a reader checks rather than trusts.
    /// </summary>
    public static bool InDayOrder(IReadOnlyList<Point> points, int from = 0, DateOnly? after = null)
    {
        for (var i = from; i < points.Count; i++)
        {
            if (points[i].Day < (i == from ? after ?? DateOnly.MinValue : points[i - 1].Day))
            {
                return false;
            }
        }
        return true;
    }

    private static int Count(string? text) => string.IsNullOrEmpty(text) ? 0 : text.AsSpan().Count(PairSeparator) + 1;

    private static void DecodeInto(ReadOnlySpan<char> text, List<Point> points)
    {
        if (text.IsEmpty)
        {
            return;
        }
        // Every item must parse, so a trailing or doubled separator (an empty item) is refused too.
        foreach (var item in text.Split(PairSeparator))
        {
            var pair = text[item];
            if (pair.Length < 12 || pair[10] != FieldSeparator
                || !PackedText.TryDay(pair[..10], out var day) || !PackedText.TryValue(pair[11..], out var value))
            {
                throw new FormatException("Not a point series.");
            }
            points.Add(new Point(day, value));
        }
    }
}

/// <summary>Parsers for the packed series texts: exact, allocation-free, and only for what the encoders write.</summary>
internal static class PackedText
{
    // Hand-written because cohort queries decode every patient's series: the general parsers
    // (DateOnly.TryParseExact, decimal.TryParse) cost about three times as much here.
    public static bool TryDay(ReadOnlySpan<char> s, out DateOnly day)
    {
        day = default;
        if (s[4] != '-' || s[7] != '-' || !TryDigits(s[..4], out var year) || !TryDigits(s[5..7], out var month)
            || !TryDigits(s[8..10], out var dayOfMonth) || year < 1 || month is < 1 or > 12
            || dayOfMonth < 1 || dayOfMonth > DateTime.DaysInMonth(year, month))
        {
            return false;
        }
        day = new DateOnly(year, month, dayOfMonth);
        return true;
    }

    public static bool TryDigits(ReadOnlySpan<char> s, out int value)
    {
        value = 0;
        foreach (var c in s)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
            value = value * 10 + (c - '0');
        }
        return true;
    }

    /// <summary>Parses <c>-?digits(.digits)?</c> to the decimal with exactly those digits and that scale, as <see cref="decimal.Parse(string)"/> does.</summary>
    public static bool TryValue(ReadOnlySpan<char> s, out decimal value)
    {
        value = 0;
        var negative = !s.IsEmpty && s[0] == '-';
        var digits = negative ? s[1..] : s;
        if (digits.IsEmpty || digits.Length > 18)
        {
            // Longer values than any measure stores go through the general parser.
            return decimal.TryParse(s, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value);
        }
        long mantissa = 0;
        byte scale = 0;
        var seenPoint = false;
        var seenDigit = false;
        foreach (var c in digits)
        {
            if (c == '.' && !seenPoint)
            {
                seenPoint = true;
                continue;
            }
            if (c is < '0' or > '9')
            {
                return false;
            }
            seenDigit = true;
            mantissa = mantissa * 10 + (c - '0');
            if (seenPoint)
            {
                scale++;
            }
        }
        if (!seenDigit)
        {
            return false;
        }
        value = new decimal((int)(mantissa & 0xFFFFFFFF), (int)(mantissa >> 32), 0, negative, scale);
        return true;
    }
}

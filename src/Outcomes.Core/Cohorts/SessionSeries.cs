using System.Globalization;
using System.Text;
using Outcomes.Core.Clinic;
using Outcomes.Core.Outcomes;

namespace Outcomes.Core.Cohorts;

/// <summary>
/// A patient's treatment sessions packed into one text, for the cohort series:
/// <c>date;practitionerId;product;guidance;totalUnits</c> per session, separated by <c>|</c>, in the
/// order given; codes as the API writes them, numbers in invariant culture. Decoding gives back
/// exactly the sessions encoded.
/// </summary>
public static class SessionSeries
{
    public static string Encode(IEnumerable<CohortSession> sessions)
    {
        var text = new StringBuilder();
        foreach (var s in sessions)
        {
            if (text.Length > 0)
            {
                text.Append('|');
            }
            text.Append(s.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).Append(';')
                .Append(s.PractitionerId.ToString(CultureInfo.InvariantCulture)).Append(';')
                .Append(EnumCode<Product>.Of(s.Product)).Append(';')
                .Append(EnumCode<Guidance>.Of(s.Guidance)).Append(';')
                .Append(s.TotalUnits.ToString(CultureInfo.InvariantCulture));
        }
        return text.ToString();
    }

    /// <exception cref="FormatException">The text is not a series this class wrote.</exception>
    public static List<CohortSession> Decode(string text)
    {
        var sessions = new List<CohortSession>();
        if (text.Length == 0)
        {
            return sessions;
        }
        // Every item must parse, so a trailing or doubled separator (an empty item) is refused too.
        foreach (var item in text.AsSpan().Split('|'))
        {
            sessions.Add(DecodeOne(text.AsSpan()[item]));
        }
        return sessions;
    }

    // Span-based: cohort queries decode every patient's sessions, and splitting into strings
    // allocated six strings per session.
    private static CohortSession DecodeOne(ReadOnlySpan<char> item)
    {
        Span<Range> fields = stackalloc Range[6];
        if (item.Split(fields, ';') != 5
            || item[fields[0]].Length != 10 || !PackedText.TryDay(item[fields[0]], out var date)
            || !long.TryParse(item[fields[1]], NumberStyles.None, CultureInfo.InvariantCulture, out var practitioner)
            || !TryCode<Product>(item[fields[2]], out var product)
            || !TryCode<Guidance>(item[fields[3]], out var guidance)
            || !PackedText.TryValue(item[fields[4]], out var units))
        {
            throw new FormatException("Not a session series.");
        }
        return new CohortSession(date, practitioner, product, guidance, units);
    }

    /// <summary>A code among the few of an enum, matched without allocating a string.</summary>
    private static bool TryCode<T>(ReadOnlySpan<char> code, out T value) where T : struct, Enum
    {
        foreach (var (candidate, text) in Codes<T>.All)
        {
            if (code.SequenceEqual(text))
            {
                value = candidate;
                return true;
            }
        }
        value = default;
        return false;
    }

    private static class Codes<T> where T : struct, Enum
    {
        public static readonly (T Value, string Code)[] All = [.. Enum.GetValues<T>().Select(v => (v, EnumCode<T>.Of(v)))];
    }
}

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
        foreach (var item in text.Split('|'))
        {
            var f = item.Split(';');
            if (f.Length != 5
                || !PackedText.TryDay(f[0], out var date) || f[0].Length != 10
                || !long.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out var practitioner)
                || !EnumCode<Product>.TryParse(f[2], out var product)
                || !EnumCode<Guidance>.TryParse(f[3], out var guidance)
                || !PackedText.TryValue(f[4], out var units))
            {
                throw new FormatException("Not a session series.");
            }
            sessions.Add(new CohortSession(date, practitioner, product, guidance, units));
        }
        return sessions;
    }
}

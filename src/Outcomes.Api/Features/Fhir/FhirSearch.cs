using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Primitives;

namespace Outcomes.Api.Features.Fhir;

/// <summary>An interval [From, To) of instants a date search parameter allows; null ends are open.</summary>
public sealed record DateRange(DateTimeOffset? From, DateTimeOffset? To)
{
    public static DateRange All { get; } = new(null, null);

    public DateRange Intersect(DateRange other) => new(
        From is null ? other.From : other.From is null ? From : From > other.From ? From : other.From,
        To is null ? other.To : other.To is null ? To : To < other.To ? To : other.To);

    public bool IsEmpty => From is { } f && To is { } t && f >= t;
}

/// <summary>One search token, <c>system|code</c>, <c>|code</c> or <c>code</c>.</summary>
public sealed record Token(string? System, string Code)
{
    public bool Matches(string system, string code) => (System is null || System == system) && Code == code;

    public static Token Parse(string value)
    {
        var bar = value.IndexOf('|', StringComparison.Ordinal);
        return bar < 0 ? new Token(null, value) : new Token(bar == 0 ? "" : value[..bar], value[(bar + 1)..]);
    }
}

/// <summary>
/// A search request's parameters, read as FHIR R4's search rules say: each type declares the parameters it knows;
/// an unknown one is ignored and reported (lenient, the default) or refused with 400 when the client sends
/// <c>Prefer: handling=strict</c>. Several values of one date parameter are ANDed; comma-separated values are ORed.
/// </summary>
public sealed partial class FhirSearch
{
    public const int DefaultCount = 50;
    public const int MaxCount = 500;

    /// <summary>Parameters that shape the answer rather than filter it; every type takes them.</summary>
    private static readonly string[] _result = ["_count", "_cursor", "_format", "_lastUpdated"];

    private readonly List<(string Name, string Message)> _errors = [];
    private readonly List<string> _ignored = [];
    private readonly Dictionary<string, StringValues> _used = new(StringComparer.Ordinal);

    public IReadOnlyList<(string Name, string Message)> Errors => _errors;

    /// <summary>Parameters that were not understood, and left out (lenient handling).</summary>
    public IReadOnlyList<string> Ignored => _ignored;

    /// <summary>The parameters that were applied: the self link shows these and nothing else.</summary>
    public IReadOnlyDictionary<string, StringValues> Used => _used;

    public int Count { get; private set; } = DefaultCount;

    public long After { get; private set; }

    public DateRange LastUpdated { get; private set; } = DateRange.All;

    private readonly IQueryCollection _query;

    private FhirSearch(IQueryCollection query) => _query = query;

    public static FhirSearch Read(HttpRequest request, params string[] known)
    {
        var search = new FhirSearch(request.Query);
        var strict = request.Headers.TryGetValue("Prefer", out var prefer)
            && prefer.Any(p => p is not null && p.Split(';', ',').Any(part => part.Trim() == "handling=strict"));
        foreach (var (name, values) in request.Query)
        {
            if (known.Contains(name, StringComparer.Ordinal) || _result.Contains(name, StringComparer.Ordinal))
            {
                if (name is not "_format")
                {
                    search._used[name] = values;
                }
                continue;
            }
            if (strict)
            {
                search._errors.Add((name, "is not a search parameter this server supports for this type"));
            }
            else
            {
                search._ignored.Add(name);
            }
        }
        if (request.Query.TryGetValue("_count", out var count))
        {
            if (count.Count == 1 && int.TryParse(count[0], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1)
            {
                search.Count = Math.Min(n, MaxCount);
            }
            else
            {
                search._errors.Add(("_count", "must be a whole number of at least 1"));
            }
        }
        if (request.Query.TryGetValue("_cursor", out var cursor))
        {
            if (cursor.Count == 1 && long.TryParse(cursor[0], NumberStyles.None, CultureInfo.InvariantCulture, out var after))
            {
                search.After = after;
            }
            else
            {
                search._errors.Add(("_cursor", "is not a cursor from this server's next link"));
            }
        }
        search.LastUpdated = search.Dates("_lastUpdated");
        return search;
    }

    public void Error(string name, string message) => _errors.Add((name, message));

    /// <summary>The values of one parameter, each split at its commas (FHIR's OR).</summary>
    public IReadOnlyList<IReadOnlyList<string>> Values(string name) =>
        _query.TryGetValue(name, out var values)
            ? [.. values.Select(v => (IReadOnlyList<string>)[.. (v ?? "").Split(',')])]
            : [];

    public string? One(string name)
    {
        var values = Values(name);
        if (values.Count == 0)
        {
            return null;
        }
        if (values.Count > 1 || values[0].Count > 1)
        {
            Error(name, "takes one value here");
            return null;
        }
        return values[0][0];
    }

    /// <summary>A reference parameter (<c>patient=Patient/12</c> or <c>patient=12</c>) as the id it names.</summary>
    public long? ReferenceId(string name, string type)
    {
        if (One(name) is not { } value)
        {
            return null;
        }
        var id = value.StartsWith(type + "/", StringComparison.Ordinal) ? value[(type.Length + 1)..] : value;
        if (long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed > 0)
        {
            return parsed;
        }
        Error(name, $"must be a {type} reference, e.g. {type}/12");
        return null;
    }

    /// <summary>Every value of a date parameter, with its prefix, as one interval: the values are ANDed.</summary>
    public DateRange Dates(string name)
    {
        var range = DateRange.All;
        foreach (var group in Values(name))
        {
            if (group.Count != 1)
            {
                Error(name, "takes one date per value; repeat the parameter to combine bounds");
                continue;
            }
            if (ParseDate(group[0]) is { } parsed)
            {
                range = range.Intersect(parsed);
            }
            else
            {
                Error(name, $"'{group[0]}' is not a FHIR date search value (a prefix eq, gt, lt, ge, le, sa or eb, then a date or dateTime)");
            }
        }
        return range;
    }

    [GeneratedRegex(@"^(?<prefix>eq|ne|gt|lt|ge|le|sa|eb|ap)?(?<year>\d{4})(-(?<month>\d{2})(-(?<day>\d{2})(T(?<hour>\d{2}):(?<minute>\d{2})(:(?<second>\d{2})(\.(?<fraction>\d{1,7}))?)?(?<zone>Z|[+-]\d{2}:\d{2})?)?)?)?$")]
    private static partial Regex DatePattern();

    /// <summary>A prefixed date as the instants it allows; the date's precision sets its width (FHIR R4, search 3.1.1.4.4).</summary>
    public static DateRange? ParseDate(string value)
    {
        var match = DatePattern().Match(value);
        if (!match.Success)
        {
            return null;
        }
        int Part(string group, int fallback) =>
            match.Groups[group].Success ? int.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture) : fallback;
        var zone = match.Groups["zone"].Success && match.Groups["zone"].Value != "Z"
            ? TimeSpan.ParseExact(match.Groups["zone"].Value.TrimStart('+', '-'), @"hh\:mm", CultureInfo.InvariantCulture)
                * (match.Groups["zone"].Value[0] == '-' ? -1 : 1)
            : TimeSpan.Zero;
        DateTimeOffset start;
        DateTimeOffset end;
        try
        {
            var year = Part("year", 1);
            var month = Part("month", 1);
            var day = Part("day", 1);
            start = new DateTimeOffset(year, month, day, Part("hour", 0), Part("minute", 0), Part("second", 0), zone);
            if (match.Groups["fraction"].Success)
            {
                var fraction = match.Groups["fraction"].Value;
                start = start.AddTicks(long.Parse(fraction.PadRight(7, '0'), CultureInfo.InvariantCulture));
                end = start.AddTicks((long)Math.Pow(10, 7 - fraction.Length));
            }
            else
            {
                end = match.Groups["second"].Success ? start.AddSeconds(1)
                    : match.Groups["minute"].Success ? start.AddMinutes(1)
                    : match.Groups["day"].Success ? start.AddDays(1)
                    : match.Groups["month"].Success ? start.AddMonths(1)
                    : start.AddYears(1);
            }
        }
        catch (ArgumentOutOfRangeException)
        {
            return null;
        }
        return match.Groups["prefix"].Value switch
        {
            "" or "eq" => new DateRange(start, end),
            "ge" => new DateRange(start, null),
            "gt" or "sa" => new DateRange(end, null),
            "le" => new DateRange(null, end),
            "lt" or "eb" => new DateRange(null, start),
            _ => null, // ne and ap are not supported
        };
    }
}

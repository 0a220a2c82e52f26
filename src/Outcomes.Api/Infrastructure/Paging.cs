namespace Outcomes.Api.Infrastructure;

/// <summary>One page of a keyset-paged list.</summary>
/// <param name="Items">The items, in ascending id order.</param>
/// <param name="NextCursor">Pass as <c>cursor</c> to fetch the next page; null on the last page. Opaque: every list pages this way.</param>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);

public static class Paging
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    public static bool IsValidLimit(int? limit) => limit is null or (>= 1 and <= MaxLimit);

    /// <summary>The cursor of a list keyed by id: the last id of the page, as the client should not need to know.</summary>
    public static string? IdCursor(long? lastId) => lastId?.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Reads a cursor made by <see cref="IdCursor"/> (none: the first page); false when it is not one.</summary>
    public static bool TryReadIdCursor(string? cursor, out long after)
    {
        after = 0;
        return cursor is null
            || (long.TryParse(cursor, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out after) && after >= 0);
    }

    public const string CursorDescription = "The previous page's nextCursor; leave out for the first page.";

    public const string BadCursor = "is not a cursor from a previous page";

    /// <summary>
    /// Keyset pages are read with one row more than <paramref name="limit"/>: when it came, it is
    /// dropped and the last kept row is where the next page starts; otherwise this is the last page.
    /// </summary>
    public static TCursor? TrimToPage<TRow, TCursor>(List<TRow> rows, int limit, Func<TRow, TCursor> cursorOf)
    {
        if (rows.Count <= limit)
        {
            return default;
        }
        rows.RemoveAt(rows.Count - 1);
        return cursorOf(rows[^1]);
    }
}

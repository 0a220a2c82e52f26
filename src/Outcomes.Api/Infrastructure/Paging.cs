namespace Outcomes.Api.Infrastructure;

/// <summary>One page of a keyset-paged list.</summary>
/// <param name="Items">The items, in ascending id order.</param>
/// <param name="NextAfter">Pass as <c>after</c> to fetch the next page; null on the last page.</param>
public sealed record Page<T>(IReadOnlyList<T> Items, long? NextAfter);

public static class Paging
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    public static bool IsValidLimit(int? limit) => limit is null or (>= 1 and <= MaxLimit);

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

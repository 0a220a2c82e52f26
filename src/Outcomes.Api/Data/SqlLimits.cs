namespace Outcomes.Api.Data;

/// <summary>
/// Bounds on what one statement may carry. Dapper expands a list parameter (<c>IN @Ids</c>) into one
/// parameter per item, and SQL Server refuses a request with more than 2,100 parameters; so every
/// list the service sends is bounded here, and the T-SQL rule check counts each list at this size.
/// Lists that grow with the data are read with a join or in batches instead.
/// </summary>
public static class SqlLimits
{
    public const int MaxListItems = 1000;

    /// <summary>The items, refused when there are more than <see cref="MaxListItems"/> (a caller that must batch).</summary>
    public static T[] Bounded<T>(T[] items) =>
        items.Length <= MaxListItems
            ? items
            : throw new InvalidOperationException($"A list parameter of {items.Length} items; at most {MaxListItems} are sent at once.");
}

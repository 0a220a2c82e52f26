using System.Reflection;
using System.Text.RegularExpressions;
using Outcomes.Api.Data;

namespace Outcomes.Api.Tests.Data;

/// <summary>Every query text of the service, found by construction: all <see cref="SqlTexts"/> subclasses.</summary>
public static partial class SqlTextCatalog
{
    public static IEnumerable<(string Name, string Sql)> For(SqlDialect dialect) =>
        from type in typeof(SqlTexts).Assembly.GetTypes()
        where type.IsSubclassOf(typeof(SqlTexts)) && !type.IsAbstract
        let instance = Activator.CreateInstance(type, dialect)
        from property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
        where property.PropertyType == typeof(string)
        select ($"{type.Name}.{property.Name}", (string)property.GetValue(instance)!);

    /// <summary>
    /// Dapper expands <c>IN @Ids</c> into <c>IN (@Ids1, @Ids2, …)</c> before the text reaches the
    /// database; do the same so that a parser sees what the database sees.
    /// </summary>
    public static string AsSent(string sql) => ListParameter().Replace(sql, "IN (@$1_1, @$1_2)");

    /// <summary>A Dapper list parameter (<c>IN @Ids</c>), its name in the first group.</summary>
    [GeneratedRegex(@"\bIN\s+@(\w+)", RegexOptions.IgnoreCase)]
    internal static partial Regex ListParameter();
}

namespace Outcomes.Api.Data;

/// <summary>
/// Base of each feature's SQL: every public string property is one query text for the dialect
/// it was built with. The tests build each subclass for SQL Server and parse every text with
/// <c>TSql160Parser</c>, so no T-SQL escapes that check.
/// </summary>
public abstract class SqlTexts(SqlDialect dialect)
{
    protected SqlDialect Dialect { get; } = dialect;
}

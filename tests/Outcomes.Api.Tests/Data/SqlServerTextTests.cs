using Microsoft.SqlServer.TransactSql.ScriptDom;
using Outcomes.Api.Data;

namespace Outcomes.Api.Tests.Data;

/// <summary>
/// No SQL Server runs here, so every T-SQL text the service sends — migrations and queries — is
/// parsed with Microsoft's own parser, and the two migration folders are compared table by table.
/// </summary>
public class SqlServerTextTests
{
    public static TheoryData<string> SqlServerMigrations => new(MigrationFiles.Names("sqlserver"));

    [Theory]
    [MemberData(nameof(SqlServerMigrations))]
    public void SqlServerMigration_ParsesWithoutErrors(string name)
    {
        var errors = Parse(File.ReadAllText(MigrationFiles.PathOf("sqlserver", name)), out _);

        Assert.True(errors.Count == 0, Describe(name, errors));
    }

    [Fact]
    public void SqlServerQueries_AllParseWithoutErrors()
    {
        var texts = SqlTextCatalog.For(SqlDialect.SqlServer).ToList();

        Assert.NotEmpty(texts);
        Assert.All(texts, t =>
        {
            var errors = Parse(SqlTextCatalog.AsSent(t.Sql), out _);
            Assert.True(errors.Count == 0, Describe(t.Name, errors) + "\n" + t.Sql);
        });
    }

    [Fact]
    public void MigrationFolders_HoldTheSameNumberedScripts()
    {
        Assert.Equal(MigrationFiles.Names("sqlite"), MigrationFiles.Names("sqlserver"));
        Assert.All(MigrationFiles.Names("sqlite"), n => Assert.Matches(@"^\d{4}_[a-z0-9_]+\.sql$", n));
    }

    [Fact]
    public void MigrationFolders_YieldTheSameTablesAndColumns()
    {
        var sqlServer = SqlServerColumns();
        var sqlite = SqliteSchema.ColumnsAfterMigrating();

        Assert.NotEmpty(sqlServer);
        Assert.Equal(sqlite, sqlServer);
    }

    /// <summary>Table and column names created by the SQL Server scripts, read from the parse tree.</summary>
    private static SortedSet<string> SqlServerColumns()
    {
        var visitor = new ColumnCollector();
        foreach (var name in MigrationFiles.Names("sqlserver"))
        {
            var errors = Parse(File.ReadAllText(MigrationFiles.PathOf("sqlserver", name)), out var tree);
            Assert.Empty(errors);
            tree.Accept(visitor);
        }
        return visitor.Columns;
    }

    private sealed class ColumnCollector : TSqlFragmentVisitor
    {
        public SortedSet<string> Columns { get; } = new(StringComparer.Ordinal);

        public override void Visit(CreateTableStatement node)
        {
            var table = node.SchemaObjectName.BaseIdentifier.Value;
            foreach (var column in node.Definition.ColumnDefinitions)
            {
                Columns.Add($"{table}.{column.ColumnIdentifier.Value}");
            }
        }

        public override void Visit(AlterTableAddTableElementStatement node)
        {
            var table = node.SchemaObjectName.BaseIdentifier.Value;
            foreach (var column in node.Definition.ColumnDefinitions)
            {
                Columns.Add($"{table}.{column.ColumnIdentifier.Value}");
            }
        }
    }

    private static IList<ParseError> Parse(string sql, out TSqlFragment tree)
    {
        tree = SqlServer.TSql.Parse(sql, out var errors);
        return errors;
    }

    private static string Describe(string name, IList<ParseError> errors) => $"{name}: {SqlServer.TSql.Describe(errors)}";
}

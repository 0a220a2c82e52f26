using Microsoft.SqlServer.TransactSql.ScriptDom;

namespace Outcomes.Api.Tests.Data.SqlServer;

/// <summary>
/// The SQL Server schema that the migrations of <c>sql/sqlserver</c> leave behind, folded from
/// their parse trees: each CREATE TABLE with every later ADD, ALTER COLUMN and DROP applied, the
/// indexes that still stand, and the triggers. Nothing here is written by hand, so the model cannot
/// drift from the scripts a server would run.
/// </summary>
public sealed class SqlServerSchema
{
    private readonly Dictionary<string, CreateTableStatement> _tables = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, CreateIndexStatement> _indexes = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<CreateTriggerStatement> _triggers = [];
    private readonly List<CreateViewStatement> _views = [];
    private readonly List<(string Script, TSqlStatement Statement)> _dataStatements = [];

    private SqlServerSchema()
    {
    }

    /// <summary>The tables by name (without schema), as the migrations leave them.</summary>
    public IReadOnlyDictionary<string, CreateTableStatement> Tables => _tables;

    public IReadOnlyList<CreateTriggerStatement> Triggers => _triggers;

    public IReadOnlyList<CreateViewStatement> Views => _views;

    /// <summary>The migrations' statements that change data, not schema (back-fills), with their script.</summary>
    public IReadOnlyList<(string Script, TSqlStatement Statement)> DataStatements => _dataStatements;

    /// <summary>The schema after every script of <c>sql/sqlserver</c>, or only those numbered up to <paramref name="throughNumber"/>.</summary>
    public static SqlServerSchema FromMigrations(int? throughNumber = null) =>
        FromScripts(MigrationFiles.Names("sqlserver")
            .Where(name => throughNumber is not { } last || int.Parse(name[..4], System.Globalization.CultureInfo.InvariantCulture) <= last)
            .Select(name => (name, File.ReadAllText(MigrationFiles.PathOf("sqlserver", name)))));

    /// <summary>The schema that <paramref name="scripts"/> leave, applied in order; a statement SQL Server would refuse fails the fold.</summary>
    public static SqlServerSchema FromScripts(IEnumerable<(string Name, string Sql)> scripts)
    {
        var schema = new SqlServerSchema();
        foreach (var (name, sql) in scripts)
        {
            var tree = TSql.Parse(sql, out var errors);
            Assert.True(errors.Count == 0, $"{name}: {TSql.Describe(errors)}");
            foreach (var statement in tree.Batches.SelectMany(b => b.Statements))
            {
                schema.Apply(name, statement);
            }
        }
        return schema;
    }

    /// <summary>The schema as declarative DDL, one object per text (tables, indexes, triggers), as DacFx takes it.</summary>
    public IEnumerable<string> DeclarativeObjects() =>
        _tables.Values.Cast<TSqlFragment>().Concat(_indexes.Values).Concat(_triggers).Concat(_views).Select(TSql.Script);

    /// <summary>The declared type of a column, or null when the table or column is unknown.</summary>
    public SqlDataTypeReference? ColumnType(string table, string column) =>
        _tables.TryGetValue(table, out var create)
            ? create.Definition.ColumnDefinitions
                .FirstOrDefault(c => string.Equals(c.ColumnIdentifier.Value, column, StringComparison.OrdinalIgnoreCase))
                ?.DataType as SqlDataTypeReference
            : null;

    /// <summary>The triggers on <paramref name="table"/> that fire for <paramref name="action"/>.</summary>
    public IEnumerable<CreateTriggerStatement> TriggersOn(string table, TriggerActionType action) =>
        _triggers.Where(t => string.Equals(t.TriggerObject.Name.BaseIdentifier.Value, table, StringComparison.OrdinalIgnoreCase)
                             && t.TriggerActions.Any(a => a.TriggerActionType == action));

    /// <summary>True when the table has a foreign key or check constraint (which rules it out as an OUTPUT INTO target).</summary>
    public bool HasForeignKeyOrCheck(string table) =>
        _tables.TryGetValue(table, out var create)
        && create.Definition.TableConstraints.Concat(create.Definition.ColumnDefinitions.SelectMany(c => c.Constraints))
            .Any(c => c is ForeignKeyConstraintDefinition or CheckConstraintDefinition);

    private void Apply(string script, TSqlStatement statement)
    {
        switch (statement)
        {
            case CreateTableStatement create:
                _tables.Add(Name(create.SchemaObjectName), create);
                break;
            case AlterTableAddTableElementStatement add:
            {
                var definition = Table(add.SchemaObjectName).Definition;
                foreach (var column in add.Definition.ColumnDefinitions)
                {
                    definition.ColumnDefinitions.Add(column);
                }
                foreach (var constraint in add.Definition.TableConstraints)
                {
                    definition.TableConstraints.Add(constraint);
                }
                break;
            }
            case AlterTableAlterColumnStatement alter:
            {
                // SQL Server refuses to alter a column that an index or key still uses (Msg 5074).
                var dependents = DependentsOf(Name(alter.SchemaObjectName), alter.ColumnIdentifier.Value).ToList();
                Assert.True(dependents.Count == 0,
                    $"{script}: ALTER COLUMN {Name(alter.SchemaObjectName)}.{alter.ColumnIdentifier.Value} while {string.Join(", ", dependents)} depend(s) on it: "
                    + "SQL Server refuses it (Msg 5074); drop them first and create them again after");
                var column = Table(alter.SchemaObjectName).Definition.ColumnDefinitions
                    .Single(c => string.Equals(c.ColumnIdentifier.Value, alter.ColumnIdentifier.Value, StringComparison.OrdinalIgnoreCase));
                column.DataType = alter.DataType;
                var nullable = column.Constraints.OfType<NullableConstraintDefinition>().FirstOrDefault();
                if (nullable is not null)
                {
                    column.Constraints.Remove(nullable);
                }
                column.Constraints.Add(new NullableConstraintDefinition
                {
                    Nullable = alter.AlterTableAlterColumnOption != AlterTableAlterColumnOption.NotNull,
                });
                break;
            }
            case AlterTableDropTableElementStatement drop:
            {
                var definition = Table(drop.SchemaObjectName).Definition;
                foreach (var element in drop.AlterTableDropTableElements)
                {
                    var name = element.Name.Value;
                    var removed = element.TableElementType switch
                    {
                        TableElementType.Constraint or TableElementType.NotSpecified =>
                            RemoveWhere(definition.TableConstraints, c => Is(c.ConstraintIdentifier, name))
                            + definition.ColumnDefinitions.Sum(c => RemoveWhere(c.Constraints, k => Is(k.ConstraintIdentifier, name))),
                        TableElementType.Column => RemoveWhere(definition.ColumnDefinitions, c => Is(c.ColumnIdentifier, name)),
                        _ => 0,
                    };
                    Assert.True(removed == 1, $"{script}: DROP of {name}, which the schema does not hold");
                }
                break;
            }
            case CreateIndexStatement index:
                _indexes.Add($"{Name(index.OnName)}.{index.Name.Value}", index);
                break;
            case DropIndexStatement dropIndex:
                foreach (var clause in dropIndex.DropIndexClauses.Cast<DropIndexClause>())
                {
                    Assert.True(_indexes.Remove($"{Name(clause.Object)}.{clause.Index.Value}"),
                        $"{script}: DROP INDEX {clause.Index.Value}, which the schema does not hold");
                }
                break;
            case CreateTriggerStatement trigger:
                _triggers.Add(trigger);
                break;
            case DropTriggerStatement dropTrigger:
                foreach (var dropped in dropTrigger.Objects)
                {
                    Assert.True(_triggers.RemoveAll(t => string.Equals(Name(t.Name), Name(dropped), StringComparison.OrdinalIgnoreCase)) == 1,
                        $"{script}: DROP TRIGGER {Name(dropped)}, which the schema does not hold");
                }
                break;
            case CreateViewStatement view:
                _views.Add(view);
                break;
            case InsertStatement or UpdateStatement or DeleteStatement or MergeStatement:
                _dataStatements.Add((script, statement));
                break;
            default:
                Assert.Fail($"{script}: the schema fold does not know {statement.GetType().Name}; teach it before using it in a migration.");
                break;
        }
    }

    /// <summary>The indexes and constraints that name <paramref name="column"/>: in their keys, included columns or filter.</summary>
    private IEnumerable<string> DependentsOf(string table, string column)
    {
        bool Names(TSqlFragment? fragment)
        {
            if (fragment is null)
            {
                return false;
            }
            var finder = new ColumnFinder(column);
            fragment.Accept(finder);
            return finder.Found;
        }

        foreach (var index in _indexes.Values.Where(i => string.Equals(Name(i.OnName), table, StringComparison.OrdinalIgnoreCase)))
        {
            if (index.Columns.Any(c => Names(c.Column)) || index.IncludeColumns.Any(Names) || Names(index.FilterPredicate))
            {
                yield return $"index {index.Name.Value}";
            }
        }
        var definition = _tables[table].Definition;
        foreach (var constraint in definition.TableConstraints.Where(Names))
        {
            yield return $"constraint {constraint.ConstraintIdentifier?.Value ?? "(unnamed)"}";
        }
        var own = definition.ColumnDefinitions.FirstOrDefault(c => string.Equals(c.ColumnIdentifier.Value, column, StringComparison.OrdinalIgnoreCase));
        foreach (var constraint in own?.Constraints.Where(c => c is UniqueConstraintDefinition or ForeignKeyConstraintDefinition or CheckConstraintDefinition or DefaultConstraintDefinition) ?? [])
        {
            yield return $"constraint {constraint.ConstraintIdentifier?.Value ?? "(unnamed)"}";
        }
    }

    private sealed class ColumnFinder(string column) : TSqlFragmentVisitor
    {
        public bool Found { get; private set; }

        public override void Visit(ColumnReferenceExpression node) =>
            Found |= node.MultiPartIdentifier?.Identifiers is { Count: > 0 } parts
                     && string.Equals(parts[^1].Value, column, StringComparison.OrdinalIgnoreCase);
    }

    private CreateTableStatement Table(SchemaObjectName name) =>
        _tables.TryGetValue(Name(name), out var table) ? table : throw new InvalidOperationException($"No table {Name(name)}.");

    private static string Name(SchemaObjectName name) => name.BaseIdentifier.Value;

    private static bool Is(Identifier? identifier, string name) =>
        identifier is not null && string.Equals(identifier.Value, name, StringComparison.OrdinalIgnoreCase);

    private static int RemoveWhere<T>(IList<T> list, Func<T, bool> predicate)
    {
        var removed = 0;
        for (var i = list.Count - 1; i >= 0; i--)
        {
            if (predicate(list[i]))
            {
                list.RemoveAt(i);
                removed++;
            }
        }
        return removed;
    }
}

/// <summary>Parsing and scripting with Microsoft's T-SQL parser (SQL Server 2022 grammar).</summary>
public static class TSql
{
    public static TSqlScript Parse(string sql, out IList<ParseError> errors)
    {
        var parser = new TSql160Parser(initialQuotedIdentifiers: true);
        using var reader = new StringReader(sql);
        return (TSqlScript)parser.Parse(reader, out errors);
    }

    public static string Script(TSqlFragment fragment)
    {
        new Sql160ScriptGenerator().GenerateScript(fragment, out var script);
        return script;
    }

    public static string Describe(IList<ParseError> errors) =>
        string.Join("; ", errors.Select(e => $"line {e.Line}: {e.Message}"));
}

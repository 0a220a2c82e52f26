using Microsoft.SqlServer.TransactSql.ScriptDom;
using Outcomes.Api.Data;

namespace Outcomes.Api.Tests.Data.SqlServer;

/// <summary>
/// Rules that SQL Server enforces when it compiles or runs a statement, and that a parser accepts.
/// Each is checked against the folded schema (<see cref="SqlServerSchema"/>); each message names the
/// rule and where SQL Server documents it.
/// </summary>
public static partial class SqlServerRules
{
    /// <summary>SQL Server's limit on the parameters of one request.</summary>
    public const int MaxParameters = 2100;

    private static readonly HashSet<string> _aggregates = new(StringComparer.OrdinalIgnoreCase)
    {
        "COUNT", "COUNT_BIG", "SUM", "MIN", "MAX", "AVG", "STRING_AGG", "STDEV", "STDEVP", "VAR", "VARP",
    };

    /// <summary>
    /// Every rule broken by <paramref name="sql"/> as the service writes it (list parameters
    /// unexpanded), empty when none is. <paramref name="triggerTable"/> names the table whose
    /// <c>inserted</c> and <c>deleted</c> rows a trigger body reads.
    /// </summary>
    public static IReadOnlyList<string> Check(string sql, SqlServerSchema schema, string? triggerTable = null)
    {
        var tree = TSql.Parse(SqlTextCatalog.AsSent(sql), out var errors);
        if (errors.Count > 0)
        {
            return [$"does not parse: {TSql.Describe(errors)}"];
        }
        var parameters = ParameterCollector.Of(tree);
        var visitor = new RuleVisitor(schema, triggerTable, parameters.Declared);
        tree.Accept(visitor);
        var problems = visitor.Problems;

        // Dapper expands each list parameter into one parameter per item; the service caps lists at
        // SqlLimits.MaxListItems, so the worst case is known.
        var lists = SqlTextCatalog.ListParameter().Matches(sql).Select(m => m.Groups[1].Value).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var scalars = parameters.Parameters.Count(p => !lists.Any(l => p.StartsWith($"@{l}_", StringComparison.OrdinalIgnoreCase)));
        var worst = scalars + (lists.Count * SqlLimits.MaxListItems);
        if (worst > MaxParameters)
        {
            problems.Add($"up to {worst} parameters ({scalars} + {lists.Count} list(s) of up to {SqlLimits.MaxListItems}): "
                         + $"SQL Server refuses more than {MaxParameters} in one request");
        }
        return problems;
    }


    /// <summary>The variables a text declares, and the parameters it uses (the variables it does not declare).</summary>
    public sealed class ParameterCollector : TSqlFragmentVisitor
    {
        public HashSet<string> Declared { get; } = new(StringComparer.OrdinalIgnoreCase);

        public SortedSet<string> Parameters { get; } = new(StringComparer.OrdinalIgnoreCase);

        public static ParameterCollector Of(TSqlFragment tree)
        {
            var collector = new ParameterCollector();
            tree.Accept(collector);
            return collector;
        }

        public override void Visit(DeclareVariableElement node) => Declared.Add(node.VariableName.Value);

        public override void Visit(DeclareTableVariableBody node) => Declared.Add(node.VariableName.Value);

        public override void Visit(VariableReference node)
        {
            if (!Declared.Contains(node.Name))
            {
                Parameters.Add(node.Name);
            }
        }
    }

    private sealed class RuleVisitor(SqlServerSchema schema, string? triggerTable, HashSet<string> declared) : TSqlFragmentVisitor
    {
        /// <summary>Table references of the whole text: alias (or name) to table names.</summary>
        private Dictionary<string, HashSet<string>>? _aliases;

        public List<string> Problems { get; } = [];

        public override void Visit(TSqlScript node)
        {
            var collector = new TableCollector();
            node.Accept(collector);
            _aliases = collector.Aliases;
            if (triggerTable is not null)
            {
                _aliases["inserted"] = [triggerTable];
                _aliases["deleted"] = [triggerTable];
            }
        }

        public override void Visit(GlobalVariableExpression node)
        {
            if (string.Equals(node.Name, "@@IDENTITY", StringComparison.OrdinalIgnoreCase))
            {
                Problems.Add("@@IDENTITY returns the identity a trigger generated, not the statement's: use OUTPUT ... INTO a table variable, or SCOPE_IDENTITY()");
            }
        }

        public override void Visit(FunctionCall node)
        {
            if (string.Equals(node.FunctionName.Value, "IDENT_CURRENT", StringComparison.OrdinalIgnoreCase))
            {
                Problems.Add("IDENT_CURRENT sees other sessions' inserts: use OUTPUT ... INTO a table variable");
            }
        }

        public override void Visit(InsertSpecification node) => CheckWrite(node, TriggerActionType.Insert);

        public override void Visit(UpdateSpecification node) => CheckWrite(node, TriggerActionType.Update);

        public override void Visit(DeleteSpecification node) => CheckWrite(node, TriggerActionType.Delete);

        public override void Visit(MergeSpecification node)
        {
            foreach (var action in node.ActionClauses.Select(c => c.Action))
            {
                CheckWrite(node, action switch
                {
                    InsertMergeAction => TriggerActionType.Insert,
                    UpdateMergeAction => TriggerActionType.Update,
                    _ => TriggerActionType.Delete,
                });
            }
        }

        private void CheckWrite(DataModificationSpecification node, TriggerActionType action)
        {
            if (node.Target is not NamedTableReference target)
            {
                return;
            }
            foreach (var table in Resolve(target.SchemaObject.BaseIdentifier.Value))
            {
                var triggers = schema.TriggersOn(table, action).ToList();
                if (node.OutputClause is not null && triggers.Count > 0)
                {
                    Problems.Add($"OUTPUT without INTO on {table}, which has the {action.ToString().ToUpperInvariant()} trigger "
                                 + $"{triggers[0].Name.BaseIdentifier.Value}: SQL Server refuses it (Msg 334; OUTPUT clause, \"Triggers\")");
                }
                if (action != TriggerActionType.Insert && triggers.Any(t => t.TriggerType == TriggerType.InsteadOf && Throws(t)))
                {
                    Problems.Add($"{action.ToString().ToUpperInvariant()} of {table}, whose INSTEAD OF trigger refuses every {action.ToString().ToUpperInvariant()} "
                                 + "with THROW: the statement always fails, and THROW dooms the caller's transaction");
                }
            }
            if (node.OutputIntoClause?.IntoTable is NamedTableReference into)
            {
                var table = into.SchemaObject.BaseIdentifier.Value;
                if (schema.TriggersOn(table, TriggerActionType.Insert).Any() || schema.HasForeignKeyOrCheck(table))
                {
                    Problems.Add($"OUTPUT INTO {table}, which has a trigger, foreign key or check constraint: SQL Server refuses such a target (OUTPUT clause, \"output_table\")");
                }
            }
        }

        private static bool Throws(CreateTriggerStatement trigger)
        {
            var finder = new ThrowFinder();
            trigger.Accept(finder);
            return finder.Found;
        }

        public override void Visit(BooleanComparisonExpression node) =>
            CheckComparison(node.FirstExpression, node.SecondExpression);

        public override void Visit(InPredicate node)
        {
            foreach (var value in node.Values)
            {
                CheckComparison(node.Expression, value);
            }
        }

        public override void Visit(LikePredicate node) => CheckComparison(node.FirstExpression, node.SecondExpression);

        public override void Visit(BooleanTernaryExpression node)
        {
            CheckComparison(node.FirstExpression, node.SecondExpression);
            CheckComparison(node.FirstExpression, node.ThirdExpression);
        }

        /// <summary>
        /// Dapper sends a .NET string as NVARCHAR; compared with a VARCHAR or CHAR column, the column
        /// is converted (data type precedence), and under a SQL collation an index seek becomes a scan.
        /// </summary>
        private void CheckComparison(ScalarExpression left, ScalarExpression right)
        {
            var (column, other) = left is ColumnReferenceExpression c ? (c, right) : right is ColumnReferenceExpression d ? (d, left) : (null, null);
            if (column is null || other is not VariableReference variable || declared.Contains(variable.Name))
            {
                return;
            }
            var parts = column.MultiPartIdentifier?.Identifiers;
            if (parts is null || parts.Count == 0)
            {
                return;
            }
            var name = parts[^1].Value;
            var tables = parts.Count > 1 ? Resolve(parts[^2].Value) : _aliases!.Values.SelectMany(t => t).Distinct(StringComparer.OrdinalIgnoreCase);
            foreach (var table in tables)
            {
                if (schema.ColumnType(table, name) is { SqlDataTypeOption: SqlDataTypeOption.VarChar or SqlDataTypeOption.Char })
                {
                    Problems.Add($"{table}.{name} is VARCHAR/CHAR and compared with {variable.Name}, which Dapper sends as NVARCHAR: "
                                 + "the column is converted (data type precedence) and an index seek becomes a scan");
                }
            }
        }

        public override void Visit(QuerySpecification node) => CheckGrouping(node);

        /// <summary>
        /// SQLite lets a grouped query select a column that is neither grouped nor aggregated (it
        /// takes any row's value); SQL Server refuses it (Msg 8120).
        /// </summary>
        private void CheckGrouping(QuerySpecification node)
        {
            var aggregated = new AggregateFinder();
            foreach (var element in node.SelectElements)
            {
                element.Accept(aggregated);
            }
            if (node.GroupByClause is null && !aggregated.Found)
            {
                return;
            }
            var grouped = node.GroupByClause?.GroupingSpecifications.OfType<ExpressionGroupingSpecification>()
                .Select(g => Normalize(TSql.Script(g.Expression))).ToHashSet(StringComparer.OrdinalIgnoreCase) ?? [];
            foreach (var element in node.SelectElements.OfType<SelectScalarExpression>())
            {
                if (grouped.Contains(Normalize(TSql.Script(element.Expression))))
                {
                    continue;
                }
                var bare = new BareColumnFinder();
                element.Expression.Accept(bare);
                foreach (var column in bare.Columns.Where(c => !grouped.Contains(Normalize(TSql.Script(c)))))
                {
                    Problems.Add($"{TSql.Script(column)} is selected by a grouped query but neither grouped nor aggregated: SQL Server refuses it (Msg 8120)");
                }
            }
        }

        private static string Normalize(string expression) => string.Concat(expression.Where(ch => !char.IsWhiteSpace(ch)));

        private HashSet<string> Resolve(string aliasOrTable) =>
            _aliases!.TryGetValue(aliasOrTable, out var tables) ? tables : new(StringComparer.OrdinalIgnoreCase) { aliasOrTable };
    }

    private sealed class TableCollector : TSqlFragmentVisitor
    {
        public Dictionary<string, HashSet<string>> Aliases { get; } = new(StringComparer.OrdinalIgnoreCase);

        public override void Visit(NamedTableReference node)
        {
            var table = node.SchemaObject.BaseIdentifier.Value;
            Add(table, table);
            if (node.Alias is { } alias)
            {
                Add(alias.Value, table);
            }
        }

        private void Add(string key, string table)
        {
            if (!Aliases.TryGetValue(key, out var set))
            {
                Aliases[key] = set = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            }
            set.Add(table);
        }
    }

    private sealed class ThrowFinder : TSqlFragmentVisitor
    {
        public bool Found { get; private set; }

        public override void Visit(ThrowStatement node) => Found = true;

        public override void Visit(RaiseErrorStatement node) => Found = true;
    }

    private sealed class AggregateFinder : TSqlFragmentVisitor
    {
        public bool Found { get; private set; }

        public override void ExplicitVisit(ScalarSubquery node)
        {
            // An aggregate inside a subquery belongs to the subquery.
        }

        public override void Visit(FunctionCall node)
        {
            if (node.OverClause is null && _aggregates.Contains(node.FunctionName.Value))
            {
                Found = true;
            }
        }
    }

    /// <summary>Column references outside aggregates, window functions and subqueries.</summary>
    private sealed class BareColumnFinder : TSqlFragmentVisitor
    {
        public List<ColumnReferenceExpression> Columns { get; } = [];

        public override void ExplicitVisit(ScalarSubquery node)
        {
        }

        public override void ExplicitVisit(FunctionCall node)
        {
            if (node.OverClause is not null || _aggregates.Contains(node.FunctionName.Value))
            {
                return;
            }
            base.ExplicitVisit(node);
        }

        public override void Visit(ColumnReferenceExpression node)
        {
            if (node.ColumnType == ColumnType.Regular)
            {
                Columns.Add(node);
            }
        }
    }
}

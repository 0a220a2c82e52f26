using Microsoft.SqlServer.Dac.Model;
using Microsoft.SqlServer.TransactSql.ScriptDom;
using Outcomes.Api.Data;

namespace Outcomes.Api.Tests.Data.SqlServer;

/// <summary>
/// No SQL Server runs here, and parsing alone accepts texts that a server refuses. So every T-SQL text
/// the service sends, every back-fill of the migrations and every trigger body is checked twice
/// against the schema the migrations leave: by the run-time rules of <see cref="SqlServerRules"/>,
/// and by Microsoft's DacFx, which resolves every table and column reference of a procedure body
/// against a model of the schema (an unresolved reference is a failure).
/// </summary>
public class SqlServerCheckTests
{
    private static readonly Lazy<SqlServerSchema> _schema = new(() => SqlServerSchema.FromMigrations());

    public static TheoryData<string> QueryNames => new(SqlTextCatalog.For(SqlDialect.SqlServer).Select(t => t.Name));

    [Theory]
    [MemberData(nameof(QueryNames))]
    public void EveryQuery_KeepsSqlServersRunTimeRules(string name)
    {
        var sql = SqlTextCatalog.For(SqlDialect.SqlServer).Single(t => t.Name == name).Sql;

        var problems = SqlServerRules.Check(sql, _schema.Value);

        Assert.True(problems.Count == 0, $"{name}:\n- {string.Join("\n- ", problems)}\n{sql}");
    }

    [Fact]
    public void EveryTriggerAndBackfill_KeepsSqlServersRunTimeRules()
    {
        var schema = _schema.Value;
        var problems = schema.Triggers
            .SelectMany(t => SqlServerRules.Check(TSql.Script(t), schema, t.TriggerObject.Name.BaseIdentifier.Value)
                .Select(p => $"{t.Name.BaseIdentifier.Value}: {p}"))
            .Concat(schema.DataStatements.SelectMany(d => SqlServerRules.Check(TSql.Script(d.Statement), schema).Select(p => $"{d.Script}: {p}")))
            .Concat(schema.Views.SelectMany(v => SqlServerRules.Check(TSql.Script(v), schema).Select(p => $"{v.SchemaObjectName.BaseIdentifier.Value}: {p}")))
            .ToList();

        Assert.NotEmpty(schema.Triggers);
        Assert.NotEmpty(schema.DataStatements);
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void EveryQueryTriggerAndBackfill_ResolvesAgainstTheSchemaModel()
    {
        var schema = _schema.Value;
        var bodies = SqlTextCatalog.For(SqlDialect.SqlServer).Select(t => (t.Name, t.Sql))
            .Concat(schema.DataStatements.Select((d, i) => ($"{d.Script}#{i}", TSql.Script(d.Statement))));

        var messages = SqlServerModel.Validate(schema, bodies);

        Assert.True(messages.Count == 0, string.Join("\n", messages));
    }

    // The check is only worth something if it fails where a server would: each rule, shown on a text
    // that breaks it, beginning with the insert that every submission sent until now.

    [Fact]
    public void RuleCheck_FailsOnTheOldInsertText()
    {
        const string oldInsert = """
            INSERT INTO observation (patient_id, kind, code, answered_at, answered_offset_min, received_at, submission_id, payload_hash, recorded_by, recorded_role)
            OUTPUT INSERTED.id VALUES (@PatientId, @Kind, @Code, @AnsweredAt, @Offset, @ReceivedAt, @SubmissionId, @PayloadHash, @RecordedBy, @RecordedRole);
            """;

        var problems = SqlServerRules.Check(oldInsert, _schema.Value);

        Assert.Contains(problems, p => p.StartsWith("OUTPUT without INTO on observation", StringComparison.Ordinal));
        Assert.DoesNotContain(SqlServerRules.Check(SqlDialect.SqlServer.InsertReturningId(
            "observation", "patient_id, kind", "@PatientId, @Kind"), _schema.Value), p => p.StartsWith("OUTPUT", StringComparison.Ordinal));
    }

    [Fact]
    public void RuleCheck_AllowsOutputWithoutInto_OnATableWithNoTriggerForTheAction()
    {
        // site has no trigger at all; patient's triggers are for UPDATE and DELETE, not INSERT.
        Assert.Empty(SqlServerRules.Check("INSERT INTO site (name, created_at, created_by) OUTPUT INSERTED.id VALUES (@Name, @At, @By);", _schema.Value));
        Assert.Contains(SqlServerRules.Check("DELETE FROM patient OUTPUT DELETED.id WHERE id = @Id;", _schema.Value),
            p => p.StartsWith("OUTPUT without INTO on patient", StringComparison.Ordinal));
    }

    [Fact]
    public void RuleCheck_FailsOnWritesThatAnAppendOnlyTriggerRefuses()
    {
        var problems = SqlServerRules.Check("UPDATE o SET value = @Value FROM observation o WHERE o.id = @Id;", _schema.Value);

        Assert.Contains(problems, p => p.StartsWith("UPDATE of observation", StringComparison.Ordinal));
    }

    [Fact]
    public void RuleCheck_FailsOnIdentityReadsThatTriggersDisturb()
    {
        Assert.Contains(SqlServerRules.Check("INSERT INTO site (name, created_at, created_by) VALUES (@N, @A, @B); SELECT @@IDENTITY;", _schema.Value),
            p => p.StartsWith("@@IDENTITY", StringComparison.Ordinal));
        Assert.Contains(SqlServerRules.Check("SELECT IDENT_CURRENT('site');", _schema.Value),
            p => p.StartsWith("IDENT_CURRENT", StringComparison.Ordinal));
    }

    [Fact]
    public void RuleCheck_FailsOnAVarcharColumnComparedWithAStringParameter()
    {
        // Before migration 0009 the codes were VARCHAR: the lookup of a submission converted every row.
        var before = SqlServerSchema.FromMigrations(throughNumber: 8);
        const string lookup = "SELECT o.id FROM observation o WHERE o.patient_id = @PatientId AND o.submission_id = @SubmissionId;";

        Assert.Contains(SqlServerRules.Check(lookup, before), p => p.StartsWith("observation.submission_id is VARCHAR", StringComparison.Ordinal));
        Assert.Empty(SqlServerRules.Check(lookup, _schema.Value));
        // points stays VARCHAR(MAX) (packed ASCII, never compared): comparing it would be caught.
        Assert.NotEmpty(SqlServerRules.Check("SELECT s.id FROM measure_series s WHERE s.points = @Points;", _schema.Value));
    }

    [Fact]
    public void RuleCheck_FailsOnTooManyParameters_CountingListsAtTheirBound()
    {
        var threeLists = "SELECT p.id FROM patient p WHERE p.id IN @A OR p.site_id IN @B OR p.birth_year IN @C;";

        Assert.Contains(SqlServerRules.Check(threeLists, _schema.Value), p => p.Contains("SQL Server refuses more than 2100", StringComparison.Ordinal));
        Assert.Empty(SqlServerRules.Check("SELECT p.id FROM patient p WHERE p.id IN @A;", _schema.Value));
    }

    [Fact]
    public void RuleCheck_FailsOnWhatSqliteAllowsAndSqlServerRefuses()
    {
        var schema = _schema.Value;

        Assert.Contains(SqlServerRules.Check("SELECT patient_id, kind, MAX(value) FROM observation GROUP BY patient_id;", schema),
            p => p.StartsWith("kind is selected by a grouped query", StringComparison.Ordinal));
        // These the parser already refuses, and the check reports it.
        Assert.Contains(SqlServerRules.Check("SELECT s.id FROM site s WHERE EXISTS (SELECT 1 FROM patient p WHERE p.site_id = s.id ORDER BY p.id);", schema),
            p => p.StartsWith("does not parse", StringComparison.Ordinal));
        Assert.Contains(SqlServerRules.Check("SELECT id FROM site OFFSET 0 ROWS FETCH NEXT 5 ROWS ONLY;", schema),
            p => p.StartsWith("does not parse", StringComparison.Ordinal));
        Assert.Empty(SqlServerRules.Check("SELECT patient_id, COUNT(*) AS n, MAX(answered_at) AS latest FROM observation GROUP BY patient_id;", schema));
    }

    [Fact]
    public void SchemaModel_FailsOnUnknownTablesAndColumns()
    {
        var messages = SqlServerModel.Validate(_schema.Value,
        [
            ("unknown column", "SELECT o.answered_on FROM observation o WHERE o.id = @Id;"),
            ("unknown table", "SELECT id FROM observations WHERE id = @Id;"),
            ("unknown insert column", "INSERT INTO site (name, created_when) VALUES (@Name, @At);"),
        ]);

        Assert.Contains(messages, m => m.StartsWith("unknown column:", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("unknown table:", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("unknown insert column:", StringComparison.Ordinal));
    }

    [Fact]
    public void SchemaModel_AcceptsOnlyTheDocumentedParametersOfSystemProcedures()
    {
        var messages = SqlServerModel.Validate(_schema.Value,
        [
            ("documented", "DECLARE @r INT; EXEC @r = sp_getapplock @Resource = @R, @LockMode = 'Exclusive', @LockOwner = 'Session', @LockTimeout = 0;"),
            ("misspelt", "EXEC sp_releaseapplock @Resource = @R, @Owner = 'Session';"),
            ("unknown", "EXEC sp_no_such_procedure @Resource = @R;"),
        ]);

        Assert.DoesNotContain(messages, m => m.StartsWith("documented:", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("misspelt:", StringComparison.Ordinal) && m.Contains("@Owner", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("unknown:", StringComparison.Ordinal));
    }

    [Fact]
    public void SchemaFold_FailsOnAColumnAlteredWhileAnIndexOrKeyStillUsesIt()
    {
        const string table = "CREATE TABLE dbo.t (id BIGINT NOT NULL CONSTRAINT pk_t PRIMARY KEY, code VARCHAR(8) NOT NULL, note VARCHAR(8) NULL);";
        (string, string) Script(string sql) => ("0001_test.sql", table + "\n" + sql);

        var indexed = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => SqlServerSchema.FromScripts(
            [Script("CREATE INDEX ix_t_code ON dbo.t (code);\nALTER TABLE dbo.t ALTER COLUMN code NVARCHAR(8) NOT NULL;")]));
        var included = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => SqlServerSchema.FromScripts(
            [Script("CREATE INDEX ix_t_id ON dbo.t (id) INCLUDE (note);\nALTER TABLE dbo.t ALTER COLUMN note NVARCHAR(8) NULL;")]));
        var key = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => SqlServerSchema.FromScripts(
            [Script("ALTER TABLE dbo.t ALTER COLUMN id INT NOT NULL;")]));

        Assert.Contains("index ix_t_code", indexed.Message, StringComparison.Ordinal);
        Assert.Contains("index ix_t_id", included.Message, StringComparison.Ordinal);
        Assert.Contains("constraint pk_t", key.Message, StringComparison.Ordinal);
        var fine = SqlServerSchema.FromScripts([Script(
            "CREATE INDEX ix_t_code ON dbo.t (code);\nDROP INDEX ix_t_code ON dbo.t;\nALTER TABLE dbo.t ALTER COLUMN code NVARCHAR(8) NOT NULL;\nCREATE INDEX ix_t_code ON dbo.t (code);")]);
        Assert.Equal(SqlDataTypeOption.NVarChar, fine.ColumnType("t", "code")!.SqlDataTypeOption);
    }

    [Fact]
    public void SchemaFold_HasEveryTableAndColumnTheSqliteSchemaHas()
    {
        var folded = _schema.Value.Tables.Values
            .SelectMany(t => t.Definition.ColumnDefinitions.Select(c => $"{t.SchemaObjectName.BaseIdentifier.Value}.{c.ColumnIdentifier.Value}"))
            .ToHashSet(StringComparer.Ordinal);

        Assert.Equal(SqliteSchema.ColumnsAfterMigrating(), new SortedSet<string>(folded, StringComparer.Ordinal));
    }

    [Fact]
    public void EveryDatetimeoffsetColumn_HasMillisecondPrecision_AsTheServiceSendsIt()
    {
        var columns = _schema.Value.Tables.Values.SelectMany(t => t.Definition.ColumnDefinitions.Select(c => (Table: t, Column: c)))
            .Where(x => x.Column.DataType is SqlDataTypeReference { SqlDataTypeOption: SqlDataTypeOption.DateTimeOffset or SqlDataTypeOption.DateTime2 or SqlDataTypeOption.DateTime })
            .ToList();

        Assert.NotEmpty(columns);
        Assert.All(columns, x => Assert.Equal("3", Assert.Single(((SqlDataTypeReference)x.Column.DataType).Parameters).Value));
    }
}

/// <summary>DacFx's model of the folded schema, with each text added as the body of a procedure.</summary>
public static class SqlServerModel
{
    public static IReadOnlyList<string> Validate(SqlServerSchema schema, IEnumerable<(string Name, string Sql)> bodies)
    {
        using var model = new TSqlModel(SqlServerVersion.Sql160, new TSqlModelOptions());
        model.AddObjects(DbUpJournal);
        foreach (var ddl in schema.DeclarativeObjects())
        {
            model.AddObjects(ddl);
        }
        var names = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var i = 0;
        foreach (var (name, sql) in bodies)
        {
            var procedure = $"q{i++}";
            names[procedure] = name;
            model.AddObjects(AsProcedure(procedure, SqlTextCatalog.AsSent(sql)));
        }
        return model.Validate()
            .Where(m => !CallsSystemProcedure(m.Message))
            .Select(m => (Message: m, Procedure: names.Keys.FirstOrDefault(p => m.Message.Contains($"[dbo].[{p}]", StringComparison.OrdinalIgnoreCase))))
            .Select(x => $"{(x.Procedure is null ? "(schema)" : names[x.Procedure])}: {x.Message.MessageType} {x.Message.Number} {x.Message.Message}")
            .ToList();
    }

    /// <summary>
    /// System procedures the service calls, with the parameters the T-SQL reference documents for
    /// them. DacFx has no model of master without its dacpac, so it reports them unresolved; a call
    /// to any other procedure, or with another parameter name, still fails.
    /// </summary>
    private static readonly Dictionary<string, string[]> _systemProcedures = new(StringComparer.OrdinalIgnoreCase)
    {
        ["sp_getapplock"] = ["@Resource", "@LockMode", "@LockOwner", "@LockTimeout", "@DbPrincipal"],
        ["sp_releaseapplock"] = ["@Resource", "@LockOwner", "@DbPrincipal"],
    };

    private static bool CallsSystemProcedure(string message)
    {
        var match = System.Text.RegularExpressions.Regex.Match(message, @"unresolved reference to object \[dbo\]\.\[(sp_\w+)\](?:\.\[(@\w+)\])?\.$");
        return match.Success && _systemProcedures.TryGetValue(match.Groups[1].Value, out var parameters)
            && (!match.Groups[2].Success || parameters.Contains(match.Groups[2].Value, StringComparer.OrdinalIgnoreCase));
    }

    /// <summary>The journal table DbUp creates on SQL Server before the first migration (its SqlTableJournal).</summary>
    private const string DbUpJournal = """
        CREATE TABLE dbo.schema_version (
            Id INT IDENTITY(1,1) NOT NULL CONSTRAINT PK_schema_version_Id PRIMARY KEY,
            ScriptName NVARCHAR(255) NOT NULL,
            Applied DATETIME NOT NULL
        );
        """;

    /// <summary>
    /// The text as a procedure body, its parameters declared. Their types do not matter here:
    /// DacFx resolves names, and the rule check looks at how parameters meet columns.
    /// </summary>
    private static string AsProcedure(string name, string sql)
    {
        var tree = TSql.Parse(sql, out var errors);
        Assert.True(errors.Count == 0, $"{name}: {TSql.Describe(errors)}");
        var parameters = string.Join(", ", SqlServerRules.ParameterCollector.Of(tree).Parameters.Select(p => $"{p} SQL_VARIANT = NULL"));
        return $"CREATE PROCEDURE dbo.[{name}] {parameters}\nAS\nBEGIN\n{sql}\nEND;";
    }
}

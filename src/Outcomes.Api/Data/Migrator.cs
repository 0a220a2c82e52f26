using Dapper;
using DbUp;
using DbUp.Builder;
using DbUp.Engine;
using Microsoft.Data.Sqlite;
using Outcomes.Core.Instruments;

namespace Outcomes.Api.Data;

/// <summary>
/// Applies the numbered, forward-only scripts of <c>sql/&lt;provider&gt;/</c> (embedded in this
/// assembly) with DbUp, which records each applied script in the <c>schema_version</c> table,
/// then adds any shipped instrument definition the database does not hold yet.
/// </summary>
public sealed class Migrator(Database database, ILoggerFactory loggerFactory, TimeProvider clock)
{
    public const string JournalTable = "schema_version";

    /// <summary>Resource-name prefix of one provider's scripts.</summary>
    public static string ResourcePrefix(DatabaseProvider provider) =>
        provider == DatabaseProvider.SqlServer ? "migrations.sqlserver." : "migrations.sqlite.";

    /// <summary>The scripts that ship for <paramref name="provider"/>, named as the journal records them.</summary>
    public static IReadOnlySet<string> ScriptNames(DatabaseProvider provider) =>
        typeof(Migrator).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(ResourcePrefix(provider), StringComparison.Ordinal))
            .ToHashSet(StringComparer.Ordinal);

    /// <summary><c>migrations.sqlite.0001_backbone.sql</c> becomes <c>0001_backbone.sql</c>.</summary>
    public static string FileName(string scriptName) =>
        scriptName.StartsWith(ResourcePrefix(DatabaseProvider.Sqlite), StringComparison.Ordinal)
            ? scriptName[ResourcePrefix(DatabaseProvider.Sqlite).Length..]
            : scriptName.StartsWith(ResourcePrefix(DatabaseProvider.SqlServer), StringComparison.Ordinal)
                ? scriptName[ResourcePrefix(DatabaseProvider.SqlServer).Length..]
                : scriptName;

    public DatabaseUpgradeResult Migrate()
    {
        if (database.Dialect.Provider == DatabaseProvider.Sqlite)
        {
            // WAL lets readers run beside the one writer; the setting is stored in the file.
            using var connection = new SqliteConnection(database.ConnectionString);
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA journal_mode = WAL;";
            command.ExecuteNonQuery();
        }
        var result = Engine().PerformUpgrade();
        if (!result.Successful)
        {
            throw new InvalidOperationException(
                $"Migration {result.ErrorScript?.Name ?? "(unknown)"} failed.", result.Error);
        }
        SeedShippedInstruments();
        return result;
    }

    /// <summary>Inserts each shipped definition whose code and version are not stored yet; never changes a stored one.</summary>
    private void SeedShippedInstruments()
    {
        var sql = new SeedSql(database.Dialect);
        var now = clock.GetUtcNow();
        using var connection = database.OpenAsync(CancellationToken.None).GetAwaiter().GetResult();
        using var tx = connection.BeginTransaction();
        foreach (var instrument in InstrumentJson.Shipped)
        {
            connection.Execute(sql.InsertInstrumentIfMissing, new
            {
                instrument.Code,
                instrument.Version,
                instrument.Name,
                Definition = InstrumentJson.Serialize(instrument),
                CreatedAt = now,
                CreatedBy = "(shipped)",
            }, tx);
        }
        tx.Commit();
    }

    private UpgradeEngine Engine()
    {
        var provider = database.Dialect.Provider;
        var prefix = ResourcePrefix(provider);
        UpgradeEngineBuilder builder = provider == DatabaseProvider.SqlServer
            ? DeployChanges.To.SqlDatabase(database.ConnectionString).JournalToSqlTable("dbo", JournalTable)
            : DeployChanges.To.SqliteDatabase(database.ConnectionString).JournalToSqliteTable(JournalTable);
        return builder
            .WithScriptsEmbeddedInAssembly(typeof(Migrator).Assembly, name => name.StartsWith(prefix, StringComparison.Ordinal))
            .WithTransactionPerScript()
            .WithExecutionTimeout(TimeSpan.FromMinutes(10))
            .LogTo(loggerFactory)
            .Build();
    }
}

public sealed class SeedSql(SqlDialect dialect) : SqlTexts(dialect)
{
    public string InsertInstrumentIfMissing { get; } = """
        INSERT INTO instrument (code, version, name, definition, created_at, created_by)
        SELECT @Code, @Version, @Name, @Definition, @CreatedAt, @CreatedBy
        WHERE NOT EXISTS (SELECT 1 FROM instrument WHERE code = @Code AND version = @Version);
        """;
}

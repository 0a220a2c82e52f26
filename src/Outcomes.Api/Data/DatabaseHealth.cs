using System.Data.Common;
using Dapper;

namespace Outcomes.Api.Data;

public sealed class SchemaSql(SqlDialect dialect) : SqlTexts(dialect)
{
    /// <summary>1 when the migration journal exists (a database never migrated has none), else 0.</summary>
    public string JournalExists { get; } = dialect.Provider == DatabaseProvider.SqlServer
        ? $"SELECT CASE WHEN OBJECT_ID(N'dbo.{Migrator.JournalTable}', N'U') IS NULL THEN 0 ELSE 1 END;"
        : $"SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '{Migrator.JournalTable}';";

    public string AppliedScripts { get; } = $"SELECT ScriptName FROM {Migrator.JournalTable};";

    /// <summary>A write of one row that must reach the disk to commit: whether the database can take writes again.</summary>
    public string ProbeStorage { get; } = "UPDATE storage_probe SET checked_at = @CheckedAt WHERE id = 1;";
}

/// <summary>Start-up cannot go on; the message names the cause and the database, in one line.</summary>
public sealed class StartupException(string message) : Exception(message);

/// <summary>The migrations a database lacks, and those it has that this build does not know (a newer build wrote them).</summary>
public sealed record SchemaStatus(IReadOnlyList<string> Pending, IReadOnlyList<string> Unknown)
{
    public bool IsCurrent => Pending.Count == 0 && Unknown.Count == 0;

    public string Describe() =>
        Unknown.Count > 0
            ? $"the database holds {Unknown.Count} migration(s) this build does not know ({string.Join(", ", Unknown)}): a newer Outcomes wrote it"
            : Pending.Count > 0
                ? $"{Pending.Count} migration(s) pending ({string.Join(", ", Pending)}); run the migrate command"
                : "the schema is current";
}

/// <summary>
/// What the service has learned of its database that a plain query cannot show: whether the schema
/// is current (checked at start-up, by readiness, and again by the API gate while it is not), whether
/// the last write failed for want of space (until a probe write commits), and whether the database
/// reported its file damaged (until restart: a damaged file does not heal).
/// </summary>
public sealed class DatabaseHealth(Database db, SchemaSql sql, TimeProvider clock, ILogger<DatabaseHealth> logger)
{
    private static readonly TimeSpan _recheckAfter = TimeSpan.FromSeconds(2);

    private volatile SchemaStatus? _schema;
    private long _schemaCheckedAt;
    private volatile bool _storageFull;
    private volatile string? _damage;

    public bool StorageFull => _storageFull;

    /// <summary>The error that showed the database damaged, or null.</summary>
    public string? Damage => _damage;

    /// <summary>Reads the journal and compares it with the scripts this build ships.</summary>
    public async Task<SchemaStatus> CheckSchemaAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        var applied = await connection.ExecuteScalarAsync<long>(db.Command(sql.JournalExists, null, ct)) == 0
            ? []
            : (await connection.QueryAsync<string>(db.Command(sql.AppliedScripts, null, ct))).ToHashSet(StringComparer.Ordinal);
        var shipped = Migrator.ScriptNames(db.Dialect.Provider);
        var status = new SchemaStatus(
            [.. shipped.Where(s => !applied.Contains(s)).Select(Migrator.FileName)],
            [.. applied.Where(a => !shipped.Contains(a)).Order(StringComparer.Ordinal).Select(Migrator.FileName)]);
        _schema = status;
        Interlocked.Exchange(ref _schemaCheckedAt, clock.GetTimestamp());
        return status;
    }

    /// <summary>
    /// The schema status for a request: the last one known while current (a schema does not go back),
    /// else checked again at most every two seconds, so that a migration run by an operator is noticed.
    /// </summary>
    public ValueTask<SchemaStatus> SchemaForRequestAsync(CancellationToken ct)
    {
        var known = _schema;
        return known is { IsCurrent: true } || (known is not null && clock.GetElapsedTime(Interlocked.Read(ref _schemaCheckedAt)) < _recheckAfter)
            ? ValueTask.FromResult(known)
            : new ValueTask<SchemaStatus>(CheckSchemaAsync(ct));
    }

    /// <summary>
    /// At start-up: refuses a database that a newer build migrated (this one could misread it), and
    /// applies pending migrations when <paramref name="migrate"/>. Without migrating, a database that
    /// lacks migrations is served with readiness and the API answering 503 until an operator migrates.
    /// </summary>
    /// <exception cref="StartupException">The database holds migrations this build does not know.</exception>
    public async Task PrepareAsync(Migrator migrator, bool migrate, CancellationToken ct)
    {
        var status = await CheckSchemaAsync(ct);
        if (status.Unknown.Count > 0)
        {
            throw new StartupException($"{db.Target}: {status.Describe()}; run that build, or restore a backup this one wrote");
        }
        if (migrate && status.Pending.Count > 0)
        {
            migrator.Migrate();
            status = await CheckSchemaAsync(ct);
        }
        if (!status.IsCurrent)
        {
            logger.LogWarning("Serving without a current schema: {Schema}", status.Describe());
        }
    }

    /// <summary>Records what a failed database call showed; logs its code (never its message).</summary>
    public void Observe(DbException exception)
    {
        if (db.Dialect.IsStorageFull(exception))
        {
            if (!_storageFull)
            {
                logger.LogError("Storage is full: writes fail until space is freed ({Error})", db.Dialect.Describe(exception));
            }
            _storageFull = true;
        }
        else if (db.Dialect.IsDamaged(exception))
        {
            _damage ??= db.Dialect.Describe(exception);
            logger.LogCritical("The database reports its file damaged ({Error}): restore it from a backup", db.Dialect.Describe(exception));
        }
    }

    /// <summary>
    /// While storage is marked full: tries one small committed write. When it commits, space is back
    /// and the mark is cleared; when it fails, the mark stays. True when writes can commit.
    /// </summary>
    public async Task<bool> ProbeStorageAsync(CancellationToken ct)
    {
        if (!_storageFull)
        {
            return true;
        }
        try
        {
            await using var connection = await db.OpenAsync(ct);
            using (await db.EnterWriteAsync(connection, ct))
            {
                await connection.ExecuteAsync(db.Command(sql.ProbeStorage, new { CheckedAt = clock.GetUtcNow() }, ct));
            }
            _storageFull = false;
            logger.LogInformation("Storage accepts writes again");
            return true;
        }
        catch (DbException e) when (db.Dialect.IsStorageFull(e))
        {
            return false;
        }
    }
}

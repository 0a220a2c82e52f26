using System.Data.Common;
using Microsoft.Data.SqlClient;
using Microsoft.Data.Sqlite;

namespace Outcomes.Api.Data;

/// <summary>
/// The few SQL fragments in which SQLite and SQL Server differ. Everything else is one query text.
/// </summary>
public abstract class SqlDialect
{
    public static readonly SqlDialect Sqlite = new SqliteDialect();
    public static readonly SqlDialect SqlServer = new SqlServerDialect();

    public static SqlDialect For(DatabaseProvider provider) =>
        provider == DatabaseProvider.SqlServer ? SqlServer : Sqlite;

    public abstract DatabaseProvider Provider { get; }

    /// <summary>An INSERT of one row that returns its generated <c>id</c>.</summary>
    public abstract string InsertReturningId(string table, string columns, string values);

    /// <summary>Ends an ordered query after <paramref name="countParameter"/> rows.</summary>
    public abstract string Limit(string countParameter);

    /// <summary>
    /// Table hint for the existence check of an insert-if-absent, so that two such inserts cannot
    /// both see "absent" (SQLite needs none: it has one writer at a time).
    /// </summary>
    public abstract string KeyRangeLock { get; }

    /// <summary>
    /// A join whose left table drives the loop: SQLite's planner takes <c>CROSS JOIN</c> as that
    /// instruction; SQL Server's chooses well on its own.
    /// </summary>
    public abstract string DrivingJoin { get; }

    /// <summary>True when the insert failed on a unique index or primary key.</summary>
    public abstract bool IsUniqueViolation(DbException exception);

    /// <summary>True when the database was busy or a command timed out: worth a 503, not a 500.</summary>
    public abstract bool IsUnavailable(DbException exception);

    /// <summary>True when a write failed because the disk (or the database's space) is full: worth a 507.</summary>
    public abstract bool IsStorageFull(DbException exception);

    /// <summary>True when the database reports its file damaged: no retry will help; readiness says so.</summary>
    public abstract bool IsDamaged(DbException exception);

    /// <summary>The provider's error code and its generic meaning, for the log (never the message, which can quote row values).</summary>
    public abstract string Describe(DbException exception);

    private sealed class SqliteDialect : SqlDialect
    {
        public override DatabaseProvider Provider => DatabaseProvider.Sqlite;

        public override string InsertReturningId(string table, string columns, string values) =>
            $"INSERT INTO {table} ({columns}) VALUES ({values}) RETURNING id;";

        public override string Limit(string countParameter) => $"LIMIT {countParameter}";

        public override string KeyRangeLock => "";

        public override string DrivingJoin => "CROSS JOIN";

        // 19 = SQLITE_CONSTRAINT; 2067 = SQLITE_CONSTRAINT_UNIQUE, 1555 = SQLITE_CONSTRAINT_PRIMARYKEY
        public override bool IsUniqueViolation(DbException exception) =>
            exception is SqliteException { SqliteErrorCode: 19, SqliteExtendedErrorCode: 2067 or 1555 };

        // 5 = SQLITE_BUSY, 6 = SQLITE_LOCKED
        public override bool IsUnavailable(DbException exception) =>
            exception is SqliteException { SqliteErrorCode: 5 or 6 };

        // 13 = SQLITE_FULL (the disk is full, or max_page_count is reached)
        public override bool IsStorageFull(DbException exception) =>
            exception is SqliteException { SqliteErrorCode: 13 };

        // 11 = SQLITE_CORRUPT, 26 = SQLITE_NOTADB
        public override bool IsDamaged(DbException exception) =>
            exception is SqliteException { SqliteErrorCode: 11 or 26 };

        public override string Describe(DbException exception) => exception is SqliteException e
            ? $"SQLite error {e.SqliteErrorCode} (extended {e.SqliteExtendedErrorCode}: {SQLitePCL.raw.sqlite3_errstr(e.SqliteExtendedErrorCode).utf8_to_string()})"
            : exception.GetType().Name;
    }

    private sealed class SqlServerDialect : SqlDialect
    {
        public override DatabaseProvider Provider => DatabaseProvider.SqlServer;

        // SQL Server refuses OUTPUT without INTO on a table with a trigger for the statement's action
        // (Msg 334), and observation and treatment_session have AFTER INSERT triggers; so the id goes
        // INTO a table variable, which may take it whatever triggers the table has.
        public override string InsertReturningId(string table, string columns, string values) => $"""
            DECLARE @inserted TABLE (id BIGINT NOT NULL);
            INSERT INTO {table} ({columns}) OUTPUT INSERTED.id INTO @inserted (id) VALUES ({values});
            SELECT id FROM @inserted;
            """;

        public override string Limit(string countParameter) =>
            $"OFFSET 0 ROWS FETCH NEXT {countParameter} ROWS ONLY";

        public override string KeyRangeLock => "WITH (UPDLOCK, HOLDLOCK)";

        public override string DrivingJoin => "INNER JOIN";

        // 2601 = duplicate key in unique index, 2627 = unique/primary key constraint
        public override bool IsUniqueViolation(DbException exception) =>
            exception is SqlException { Number: 2601 or 2627 };

        // -2 = client timeout, 1205 = deadlock victim, 1222 = lock request timeout
        public override bool IsUnavailable(DbException exception) =>
            exception is SqlException { Number: -2 or 1205 or 1222 };

        // 1105 = no space in a filegroup, 9002 = the transaction log is full
        public override bool IsStorageFull(DbException exception) =>
            exception is SqlException { Number: 1105 or 9002 };

        // 823/824 = an I/O or logical consistency error reading a page, 829 = a page marked restore-pending
        public override bool IsDamaged(DbException exception) =>
            exception is SqlException { Number: 823 or 824 or 829 };

        public override string Describe(DbException exception) => exception is SqlException e
            ? $"SQL Server error {e.Number} (severity {e.Class}, state {e.State})"
            : exception.GetType().Name;
    }
}

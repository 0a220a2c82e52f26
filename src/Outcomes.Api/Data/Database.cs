using System.Data;
using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using Dapper;
using Microsoft.Data.SqlClient;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Outcomes.Api.Data;

/// <summary>
/// Opens connections to the configured database. One connection per unit of work; pooling is
/// the provider's on SQL Server, and on SQLite this service's own, which keeps each connection's
/// compiled statements (<see cref="SqliteStatementPool"/>).
/// </summary>
public sealed class Database : IDisposable
{
    private readonly SemaphoreSlim _writer = new(1, 1);
    private readonly SqliteStatementPool? _pool;
    private readonly SqliteStatementPool? _analyticsPool;

    static Database() => DapperTypeHandlers.Register();

    public Database(IOptions<DatabaseOptions> options, IConfiguration configuration, IHostEnvironment environment)
    {
        var o = options.Value;
        Dialect = SqlDialect.For(o.Provider);
        CommandTimeoutSeconds = o.CommandTimeoutSeconds;
        ConnectionString = o.Provider switch
        {
            DatabaseProvider.SqlServer => configuration.GetConnectionString("Outcomes") is { Length: > 0 } cs
                ? cs
                : throw new InvalidOperationException(
                    "Database:Provider is SqlServer but ConnectionStrings:Outcomes is not set."),
            _ => SqliteConnectionString(o, environment.ContentRootPath),
        };
        AnalyticsConnectionString = configuration.GetConnectionString("OutcomesReadOnly") is { Length: > 0 } readOnly
            ? readOnly
            : ConnectionString;
        if (o.Provider == DatabaseProvider.Sqlite && o.SqliteIdleConnections > 0)
        {
            _pool = new SqliteStatementPool(ConnectionString, o.SqliteIdleConnections, o.SqliteStatementsPerConnection);
            _analyticsPool = AnalyticsReadPrimary
                ? _pool
                : new SqliteStatementPool(AnalyticsConnectionString, o.SqliteIdleConnections, o.SqliteStatementsPerConnection);
        }
    }

    public SqlDialect Dialect { get; }

    /// <summary>Which database this is, for an operator's message: the SQLite file, or the SQL Server database and server (never a password).</summary>
    public string Target => Dialect.Provider == DatabaseProvider.SqlServer
        ? new SqlConnectionStringBuilder(ConnectionString) is var b ? $"SQL Server database '{b.InitialCatalog}' on '{b.DataSource}'" : ""
        : $"SQLite file {new SqliteConnectionStringBuilder(ConnectionString).DataSource}";

    public string ConnectionString { get; }

    /// <summary>
    /// Where cohort analytics read: <c>ConnectionStrings:OutcomesReadOnly</c> when set (a readable
    /// secondary, <c>ApplicationIntent=ReadOnly</c>), else the primary.
    /// </summary>
    public string AnalyticsConnectionString { get; }

    /// <summary>Whether analytics read the primary (no read-only replica is configured).</summary>
    public bool AnalyticsReadPrimary => AnalyticsConnectionString == ConnectionString;

    public int CommandTimeoutSeconds { get; }

    public Task<DbConnection> OpenAsync(CancellationToken ct) => OpenAsync(ConnectionString, _pool, ct);

    /// <summary>A connection for cohort reads only: it may reach a replica that lags the primary.</summary>
    public Task<DbConnection> OpenAnalyticsAsync(CancellationToken ct) => OpenAsync(AnalyticsConnectionString, _analyticsPool, ct);

    private async Task<DbConnection> OpenAsync(string connectionString, SqliteStatementPool? pool, CancellationToken ct)
    {
        DbConnection connection = pool is not null
            ? await pool.RentAsync(ct)
            : Dialect.Provider == DatabaseProvider.SqlServer
                ? new SqlConnection(connectionString)
                : new SqliteConnection(connectionString);
        try
        {
            await connection.OpenAsync(ct);
            if (Sqlite(connection) is { } sqlite)
            {
                // Writers wait for the lock instead of failing with SQLITE_BUSY. Set through the C
                // API: a PRAGMA statement would be compiled again at every open. A pooled connection
                // starts from the command timeout again (a unit of work may have cut it, see LimitBusyWait).
                SqliteException.ThrowExceptionForRC(
                    SQLitePCL.raw.sqlite3_busy_timeout(sqlite.Handle, CommandTimeoutSeconds * 1000), sqlite.Handle);
                sqlite.DefaultTimeout = CommandTimeoutSeconds;
            }
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Waits for this process's turn to write, and holds it until disposed: take it before beginning
    /// a write transaction (or an autocommit write) on <paramref name="connection"/>, never while
    /// holding it already. SQLite admits one writer at a time, and a connection that finds the write
    /// lock taken sleeps in SQLite's busy handler, up to 100 ms a try: under load that showed as p99
    /// latencies of 80 to 400 ms. Queued here, the next writer starts the moment the previous one
    /// commits. The busy timeout stays as the guard against other processes (the migrate and
    /// demo-data commands, an operator's sqlite3): it is cut to what is left of the command timeout
    /// after the wait here, so that the two waits together never exceed it. SQL Server locks rows and
    /// takes no turn.
    /// </summary>
    /// <exception cref="SqliteException">SQLITE_BUSY when no turn came within the command timeout (answered as 503).</exception>
    public async ValueTask<WriteTurn> EnterWriteAsync(DbConnection connection, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var deadline = DeadlineFrom(started);
        OnWaitGranted?.Invoke(new GrantedWait(GrantedWait.Turn, started, CommandTimeout, deadline));
        var turn = await EnterWriteAsync(CommandTimeout, ct);
        var at = Stopwatch.GetTimestamp();
        var busyWait = CommandTimeout - Stopwatch.GetElapsedTime(started, at);
        OnWaitGranted?.Invoke(new GrantedWait(GrantedWait.Lock, at, busyWait, deadline));
        LimitBusyWait(connection, busyWait);
        return turn;
    }

    public TimeSpan CommandTimeout => TimeSpan.FromSeconds(CommandTimeoutSeconds);

    /// <summary>When a write that starts at <paramref name="started"/> must be answered by (both <see cref="Stopwatch"/> timestamps).</summary>
    internal long DeadlineFrom(long started) => started + (long)(CommandTimeout.TotalSeconds * Stopwatch.Frequency);

    /// <summary>
    /// For tests: told of every wait granted to writes, for this process's turn or for another process's lock, with the
    /// earliest deadline of the writes it serves. A wait that ends after that deadline answers a write later than its
    /// command timeout (as a batch given the whole timeout after an earlier batch gave up once did).
    /// </summary>
    internal Action<GrantedWait>? OnWaitGranted { get; set; }

    /// <summary>Waits at most <paramref name="wait"/> for this process's turn to write (see above).</summary>
    internal async ValueTask<WriteTurn> EnterWriteAsync(TimeSpan wait, CancellationToken ct)
    {
        if (Dialect.Provider != DatabaseProvider.Sqlite)
        {
            return default;
        }
        if (!await _writer.WaitAsync(wait < TimeSpan.Zero ? TimeSpan.Zero : wait, ct))
        {
            throw WriterTimedOut();
        }
        return new WriteTurn(_writer);
    }

    /// <summary>No turn to write came in time: SQLITE_BUSY, which the service answers with a 503.</summary>
    internal static SqliteException WriterTimedOut() => new("Timed out waiting for the database writer.", 5);

    /// <summary>
    /// SQLite: about the longest that beginning a transaction on <paramref name="connection"/> waits
    /// for a lock that another process holds, for this connection object (the next
    /// <see cref="OpenAsync(CancellationToken)"/> starts from the command timeout again). Two waits
    /// are cut: SQLite's busy handler, to the millisecond, and Microsoft.Data.Sqlite's own retries
    /// of a busy BEGIN, which count whole seconds (and read 0 as "for ever"). The retries go on while
    /// less than their whole seconds have passed, and each waits the busy handler's full time again, so
    /// the seconds are rounded down (<see cref="BusyRetrySeconds"/>): one busy wait of the given time
    /// then ends them. Rounded up, a wait of 2.99 s with retries for 3 s took 6.1 s, twice the time given.
    /// </summary>
    internal static void LimitBusyWait(DbConnection connection, TimeSpan wait)
    {
        if (Sqlite(connection) is { } sqlite)
        {
            var ms = (int)Math.Clamp(wait.TotalMilliseconds, 0, int.MaxValue);
            SqliteException.ThrowExceptionForRC(SQLitePCL.raw.sqlite3_busy_timeout(sqlite.Handle, ms), sqlite.Handle);
            sqlite.DefaultTimeout = BusyRetrySeconds(ms);
        }
    }

    /// <summary>
    /// Microsoft.Data.Sqlite's retry time for a busy handler of <paramref name="ms"/> milliseconds: the whole
    /// seconds in it, so that the first busy wait outlasts the retries; at least 1 (0 would retry for ever), which
    /// under a second of busy wait retries for up to a second.
    /// </summary>
    internal static int BusyRetrySeconds(int ms) => Math.Max(1, ms / 1000);

    /// <summary>The provider's SQLite connection behind <paramref name="connection"/>, pooled or not; null on SQL Server.</summary>
    internal static SqliteConnection? Sqlite(DbConnection connection) => connection switch
    {
        CachingSqliteConnection pooled => pooled.Inner,
        SqliteConnection sqlite => sqlite,
        _ => null,
    };

    public void Dispose()
    {
        _writer.Dispose();
        _pool?.Dispose();
        _analyticsPool?.Dispose();
    }

    /// <summary>A Dapper command with the configured timeout and the request's cancellation.</summary>
    public CommandDefinition Command(string sql, object? parameters, CancellationToken ct, IDbTransaction? transaction = null) =>
        new(sql, parameters, transaction, CommandTimeoutSeconds, cancellationToken: ct);

    private static string SqliteConnectionString(DatabaseOptions o, string contentRoot)
    {
        var path = Path.IsPathRooted(o.SqlitePath) ? o.SqlitePath : Path.Combine(contentRoot, o.SqlitePath);
        var directory = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }
        return new SqliteConnectionStringBuilder
        {
            DataSource = path,
            ForeignKeys = true,
            DefaultTimeout = o.CommandTimeoutSeconds,
            Pooling = true,
        }.ToString();
    }
}

/// <summary>
/// Dapper handlers so that dates and instants round-trip the same way on both databases:
/// SQLite hands back ISO-8601 text, SQL Server native date types.
/// </summary>
internal static class DapperTypeHandlers
{
    private static int _registered;

    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1)
        {
            return;
        }
        // Columns are snake_case; row properties PascalCase.
        DefaultTypeMap.MatchNamesWithUnderscores = true;
        SqlMapper.AddTypeHandler(new DateOnlyHandler());
        SqlMapper.AddTypeHandler(new DateTimeOffsetHandler());
        SqlMapper.AddTypeHandler(new DecimalHandler());
    }

    /// <summary>An instant as it is stored: truncated to the millisecond (see the instant handler below).</summary>
    internal static DateTimeOffset ToMillisecond(DateTimeOffset value) => value.AddTicks(-(value.Ticks % TimeSpan.TicksPerMillisecond));

    private sealed class DateOnlyHandler : SqlMapper.TypeHandler<DateOnly>
    {
        public override void SetValue(IDbDataParameter parameter, DateOnly value)
        {
            parameter.DbType = DbType.Date;
            parameter.Value = value;
        }

        public override DateOnly Parse(object value) => value switch
        {
            DateOnly d => d,
            DateTime dt => DateOnly.FromDateTime(dt),
            string s => DateOnly.ParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture),
            _ => throw new DataException($"Cannot read a date from {value.GetType().Name}."),
        };
    }

    // SQLite's NUMERIC column hands back an integer or a double; both are exact for two-decimal unit values.
    private sealed class DecimalHandler : SqlMapper.TypeHandler<decimal>
    {
        public override void SetValue(IDbDataParameter parameter, decimal value)
        {
            parameter.DbType = DbType.Decimal;
            parameter.Value = value;
        }

        public override decimal Parse(object value) => Convert.ToDecimal(value, CultureInfo.InvariantCulture);
    }

    // Instants are stored to the millisecond: SQL Server's DATETIMEOFFSET(3) would otherwise round
    // (23:59:59.9996 to the next day) where SQLite keeps every digit, and the two would disagree on a
    // day, a week, or a keyset cursor. Truncated here, on the way to either database.
    private sealed class DateTimeOffsetHandler : SqlMapper.TypeHandler<DateTimeOffset>
    {
        public override void SetValue(IDbDataParameter parameter, DateTimeOffset value)
        {
            parameter.DbType = DbType.DateTimeOffset;
            parameter.Value = ToMillisecond(value);
        }

        public override DateTimeOffset Parse(object value) => value switch
        {
            DateTimeOffset d => d,
            string s => DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
            DateTime dt => new DateTimeOffset(DateTime.SpecifyKind(dt, DateTimeKind.Utc)),
            _ => throw new DataException($"Cannot read an instant from {value.GetType().Name}."),
        };
    }
}

/// <summary>A turn to write, released on dispose; the default turn holds nothing.</summary>
public readonly struct WriteTurn(SemaphoreSlim? writer) : IDisposable
{
    public void Dispose() => writer?.Release();
}

/// <summary>A wait granted to writes (<see cref="Database.OnWaitGranted"/>).</summary>
/// <param name="Kind"><see cref="Turn"/> or <see cref="Lock"/>.</param>
/// <param name="At">When it was granted, before the wait was worked out (a <see cref="Stopwatch"/> timestamp).</param>
/// <param name="Wait">The longest it may last.</param>
/// <param name="Deadline">The earliest deadline of the writes it serves (a <see cref="Stopwatch"/> timestamp).</param>
internal readonly record struct GrantedWait(string Kind, long At, TimeSpan Wait, long Deadline)
{
    /// <summary>The wait for this process's turn to write.</summary>
    public const string Turn = "turn";

    /// <summary>The wait for a lock another process holds (SQLite's busy handler and Microsoft.Data.Sqlite's retries).</summary>
    public const string Lock = "lock";
}

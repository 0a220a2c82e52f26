using System.Collections.Concurrent;
using System.Data;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Outcomes.Api.Data;

/// <summary>
/// SQLite connections that keep their compiled statements. Microsoft.Data.Sqlite compiles a command's SQL
/// again for every new command object and keeps nothing once its connection object closes
/// (dotnet/efcore#14044, open), and Dapper makes a new command for every call, so every statement of every
/// request was parsed and planned again: profiled, statement compilation was most of SQLite's share of a
/// request (on the patient list, about four fifths of it). This pool keeps its connections open between
/// units of work, and each connection keeps its most recently used statements compiled, by their SQL text
/// (<c>Database:SqliteStatementsPerConnection</c>, least recently used dropped first), so a statement is compiled
/// once per connection and then only bound and run. SQLite re-compiles a kept statement itself when the
/// schema changes (sqlite3_prepare_v2). The connections run with the query planner stability guarantee
/// (SQLITE_DBCONFIG_ENABLE_QPSG): without it SQLite also re-compiles a statement whenever a newly bound
/// value could change its plan, which the optional filters (<c>@X IS NULL OR …</c>) made once per list page.
/// A connection goes back to the pool only in a clean state: no transaction open and no statement
/// still running (else it is closed, which rolls back), at most <c>Database:SqliteIdleConnections</c> of them.
/// </summary>
internal sealed class SqliteStatementPool(string connectionString, int idleConnections, int statementsPerConnection) : IDisposable
{
    private readonly ConcurrentBag<(SqliteConnection Connection, StatementCache Statements)> _idle = [];
    private int _idleCount;
    private volatile bool _disposed;

    public int IdleConnections { get; } = idleConnections;

    /// <summary>Connections waiting in the pool now.</summary>
    public int IdleCount => Volatile.Read(ref _idleCount);

    /// <summary>SQLITE_DBCONFIG_ENABLE_QPSG.</summary>
    private const int QueryPlannerStabilityGuarantee = 1007;

    /// <summary>An open connection: an idle one with its kept statements, else a new one.</summary>
    public async Task<CachingSqliteConnection> RentAsync(CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_idle.TryTake(out var idle))
        {
            Interlocked.Decrement(ref _idleCount);
            return new CachingSqliteConnection(this, idle.Connection, idle.Statements);
        }
        var connection = new SqliteConnection(connectionString);
        try
        {
            await connection.OpenAsync(ct);
            SqliteException.ThrowExceptionForRC(raw.sqlite3_db_config(connection.Handle, QueryPlannerStabilityGuarantee, 1, out _), connection.Handle);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
        return new CachingSqliteConnection(this, connection, new StatementCache(statementsPerConnection));
    }

    /// <summary>Takes a connection back if it is clean and there is room, else closes it.</summary>
    /// <param name="leftOver">The unit of work left a reader or a transaction object unfinished: closed, not pooled.</param>
    internal void Return(SqliteConnection connection, StatementCache statements, bool leftOver)
    {
        if (!_disposed && !leftOver && connection.State == ConnectionState.Open && IsClean(connection))
        {
            if (Interlocked.Increment(ref _idleCount) <= IdleConnections)
            {
                _idle.Add((connection, statements));
                if (_disposed)
                {
                    Dispose();
                }
                return;
            }
            Interlocked.Decrement(ref _idleCount);
        }
        Close(connection, statements);
    }

    /// <summary>No transaction open: nothing held into the next unit of work. (A reader left open is seen by the connection, <see cref="CachingSqliteConnection.LeftReaderOpen"/>.)</summary>
    private static bool IsClean(SqliteConnection connection) =>
        connection.Handle is { } handle && raw.sqlite3_get_autocommit(handle) != 0;

    private static void Close(SqliteConnection connection, StatementCache statements)
    {
        statements.Clear();
        connection.Dispose();
    }

    /// <summary>Closes every idle connection (at shutdown); connections in use are closed when they come back.</summary>
    public void Dispose()
    {
        _disposed = true;
        while (_idle.TryTake(out var idle))
        {
            Interlocked.Decrement(ref _idleCount);
            Close(idle.Connection, idle.Statements);
        }
    }
}

/// <summary>
/// The compiled statements one connection keeps, by SQL text, most recently used last. A command is taken
/// out while it runs and put back when its caller is done, so two commands of one text on one connection
/// (a reader still open) each have their own.
/// </summary>
internal sealed class StatementCache(int capacity)
{
    private readonly Dictionary<string, LinkedListNode<SqliteCommand>> _byText = new(StringComparer.Ordinal);
    private readonly LinkedList<SqliteCommand> _order = new();

    /// <summary>Commands made for a text not kept, so compiled when run (a kept statement is not compiled again).</summary>
    public long Compiled { get; private set; }

    public int Count => _byText.Count;

    /// <summary>A command for <paramref name="text"/> on <paramref name="connection"/>: the kept one, compiled, or a new one.</summary>
    public SqliteCommand Take(SqliteConnection connection, string text)
    {
        if (_byText.Remove(text, out var node))
        {
            _order.Remove(node);
            return node.Value;
        }
        Compiled++;
        return new SqliteCommand(text, connection);
    }

    /// <summary>Keeps <paramref name="command"/> for its text, dropping the least recently used beyond the capacity.</summary>
    public void Put(SqliteCommand command)
    {
        if (capacity <= 0 || _byText.ContainsKey(command.CommandText))
        {
            command.Dispose();
            return;
        }
        _byText[command.CommandText] = _order.AddLast(command);
        while (_byText.Count > capacity && _order.First is { } oldest)
        {
            _order.RemoveFirst();
            _byText.Remove(oldest.Value.CommandText);
            oldest.Value.Dispose();
        }
    }

    public void Clear()
    {
        foreach (var command in _order)
        {
            command.Dispose();
        }
        _order.Clear();
        _byText.Clear();
    }
}

/// <summary>
/// A pooled SQLite connection for one unit of work (see <see cref="SqliteStatementPool"/>): disposing it
/// returns the underlying connection to the pool. Its commands run through the connection's kept statements.
/// </summary>
public sealed class CachingSqliteConnection : DbConnection
{
    private readonly SqliteStatementPool _pool;
    private SqliteConnection? _inner;

    /// <summary>The latest transaction begun on this connection.</summary>
    private SqliteTransaction? _transaction;

    internal CachingSqliteConnection(SqliteStatementPool pool, SqliteConnection inner, StatementCache statements)
    {
        _pool = pool;
        _inner = inner;
        Statements = statements;
    }

    /// <summary>The provider's connection (its handle, its busy timeout).</summary>
    public SqliteConnection Inner => _inner ?? throw new ObjectDisposedException(nameof(CachingSqliteConnection));

    internal StatementCache Statements { get; }

    /// <summary>A command was done with while its reader was still open: the connection is closed, not pooled.</summary>
    internal bool LeftReaderOpen { get; set; }

    [AllowNull]
    public override string ConnectionString
    {
        get => Inner.ConnectionString;
        set => throw new NotSupportedException("A pooled connection keeps its connection string.");
    }

    public override string Database => Inner.Database;

    public override string DataSource => Inner.DataSource;

    public override string ServerVersion => Inner.ServerVersion;

    public override ConnectionState State => _inner?.State ?? ConnectionState.Closed;

    public override void ChangeDatabase(string databaseName) => throw new NotSupportedException();

    /// <summary>Already open: a pooled connection is opened by the pool.</summary>
    public override void Open()
    {
        if (_inner is null)
        {
            throw new InvalidOperationException("A pooled connection cannot be opened again once closed.");
        }
    }

    public override Task OpenAsync(CancellationToken cancellationToken)
    {
        Open();
        return Task.CompletedTask;
    }

    /// <summary>Returns the connection to the pool (an open transaction is rolled back by closing it instead).</summary>
    public override void Close()
    {
        if (Interlocked.Exchange(ref _inner, null) is { } inner)
        {
            // The provider's transaction object keeps its connection until it has committed or rolled back; one the
            // unit of work left unfinished (after SQLite had already ended the transaction itself, so SQLite looks
            // clean) would stay on the connection object and refuse every later command on it.
            _pool.Return(inner, Statements, LeftReaderOpen || _transaction?.Connection is not null);
        }
    }

    protected override DbTransaction BeginDbTransaction(IsolationLevel isolationLevel) => _transaction = Inner.BeginTransaction(isolationLevel);

    protected override DbCommand CreateDbCommand() => new CachingSqliteCommand(this);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Close();
        }
        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync()
    {
        Close();
        return base.DisposeAsync();
    }
}

/// <summary>
/// A command on a <see cref="CachingSqliteConnection"/>: it collects its text and parameters, and when run
/// takes the connection's kept statement for that text (compiling it the first time), binds and runs it,
/// and puts it back when the command is disposed or run again, unless its reader is still open.
/// </summary>
internal sealed class CachingSqliteCommand(CachingSqliteConnection connection) : DbCommand
{
    // A command never attached to a connection: only its parameter collection is used.
    private readonly SqliteCommand _parameters = new();
    private SqliteCommand? _running;
    private SqliteDataReader? _reader;
    private int? _timeout;

    [AllowNull]
    public override string CommandText { get; set; } = "";

    public override int CommandTimeout
    {
        get => _timeout ?? connection.Inner.DefaultTimeout;
        set => _timeout = value;
    }

    public override CommandType CommandType
    {
        get => CommandType.Text;
        set
        {
            if (value != CommandType.Text)
            {
                throw new ArgumentException("SQLite runs text commands only.", nameof(value));
            }
        }
    }

    public override bool DesignTimeVisible { get; set; }

    public override UpdateRowSource UpdatedRowSource { get; set; }

    protected override DbConnection? DbConnection
    {
        get => connection;
        set
        {
            if (!ReferenceEquals(value, connection))
            {
                throw new NotSupportedException("A pooled command stays on its connection.");
            }
        }
    }

    protected override DbParameterCollection DbParameterCollection => _parameters.Parameters;

    protected override DbTransaction? DbTransaction { get; set; }

    public override void Cancel()
    {
    }

    public override void Prepare() => Run(command =>
    {
        command.Prepare();
        return 0;
    });

    protected override DbParameter CreateDbParameter() => new SqliteParameter();

    protected override DbDataReader ExecuteDbDataReader(CommandBehavior behavior) => Run(command => _reader = command.ExecuteReader(behavior));

    public override int ExecuteNonQuery() => Run(command => command.ExecuteNonQuery());

    public override object? ExecuteScalar() => Run(command => command.ExecuteScalar());

    /// <summary>Runs <paramref name="action"/> on the kept statement for the text, bound; a statement that fails is not kept.</summary>
    private T Run<T>(Func<SqliteCommand, T> action)
    {
        var command = Bound();
        try
        {
            return action(command);
        }
        catch
        {
            Drop();
            throw;
        }
    }

    /// <summary>The kept statement for the text, with this command's transaction, timeout and parameters.</summary>
    private SqliteCommand Bound()
    {
        Release();
        var command = connection.Statements.Take(connection.Inner, CommandText);
        command.Transaction = (SqliteTransaction?)DbTransaction;
        command.CommandTimeout = CommandTimeout;
        // A kept statement comes back without parameters (Release clears them), a new one has none.
        foreach (SqliteParameter parameter in _parameters.Parameters)
        {
            command.Parameters.Add(parameter);
        }
        _running = command;
        return command;
    }

    /// <summary>Puts the running statement back, unless its reader is still open (then it is left to its reader).</summary>
    private void Release()
    {
        if (_running is { } command)
        {
            _running = null;
            var reader = _reader;
            _reader = null;
            if (reader is { IsClosed: false })
            {
                connection.LeftReaderOpen = true;
                return;
            }
            command.Transaction = null;
            command.Parameters.Clear();
            if (connection.State == ConnectionState.Open)
            {
                connection.Statements.Put(command);
            }
            else
            {
                command.Dispose();
            }
        }
    }

    /// <summary>A statement that failed is not kept: compiled again next time.</summary>
    private void Drop()
    {
        if (_running is { } command)
        {
            _running = null;
            _reader = null;
            command.Dispose();
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Release();
            _parameters.Dispose();
        }
        base.Dispose(disposing);
    }
}

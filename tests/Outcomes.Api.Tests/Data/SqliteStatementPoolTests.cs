using System.Data;
using Dapper;
using Microsoft.Data.Sqlite;
using Outcomes.Api.Data;

namespace Outcomes.Api.Tests.Data;

/// <summary>
/// The SQLite pool that keeps each connection's compiled statements (<see cref="SqliteStatementPool"/>): a kept
/// statement answers with each call's own parameters and is not compiled again; what one unit of work leaves
/// behind (a transaction, a reader) never reaches the next; the pool and each cache stay within their bounds.
/// </summary>
public sealed class SqliteStatementPoolTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("outcomes-pool-").FullName;
    private readonly string _connectionString;

    public SqliteStatementPoolTests()
    {
        _connectionString = new SqliteConnectionStringBuilder { DataSource = Path.Combine(_directory, "pool.db"), Pooling = false }.ToString();
        using var setup = new SqliteConnection(_connectionString);
        setup.Open();
        setup.Execute("PRAGMA journal_mode = WAL; CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL);");
        setup.Execute("INSERT INTO item (id, name) VALUES (1, 'one'), (2, 'two'), (3, 'three');");
    }

    [Fact]
    public async Task AKeptStatement_AnswersWithEachCallsParameters_AndIsCompiledOnce()
    {
        using var pool = Pool();
        const string sql = "SELECT name FROM item WHERE id = @Id;";
        SqliteConnection first;
        await using (var connection = await pool.RentAsync(CancellationToken.None))
        {
            first = connection.Inner;
            Assert.Equal("one", await connection.QuerySingleAsync<string>(sql, new { Id = 1 }));
            Assert.Equal("two", await connection.QuerySingleAsync<string>(sql, new { Id = 2 }));
        }
        await using (var connection = await pool.RentAsync(CancellationToken.None))
        {
            Assert.Same(first, connection.Inner);
            Assert.Equal("three", await connection.QuerySingleAsync<string>(sql, new { Id = 3 }));
            Assert.Null(await connection.QuerySingleOrDefaultAsync<string>(sql, new { Id = 4 }));
            Assert.Equal(1, connection.Statements.Compiled);
        }
    }

    [Fact]
    public async Task AWriteInAKeptStatement_IsSeenByTheNextRead_AndATransactionLeftOpenIsRolledBack_NotPooled()
    {
        using var pool = Pool();
        const string insert = "INSERT INTO item (id, name) VALUES (@Id, @Name);";
        await using (var connection = await pool.RentAsync(CancellationToken.None))
        {
            await connection.ExecuteAsync(insert, new { Id = 10, Name = "ten" });
            await connection.ExecuteAsync(insert, new { Id = 11, Name = "eleven" });
        }
        SqliteConnection abandoned;
        await using (var connection = await pool.RentAsync(CancellationToken.None))
        {
            abandoned = connection.Inner;
            var tx = await connection.BeginTransactionAsync();
            await connection.ExecuteAsync(insert, new { Id = 12, Name = "twelve" }, tx);
            // Neither committed nor disposed: the unit of work ends with its transaction open.
        }
        Assert.Equal(ConnectionState.Closed, abandoned.State);
        Assert.Equal(0, pool.IdleCount);
        await using (var connection = await pool.RentAsync(CancellationToken.None))
        {
            Assert.NotSame(abandoned, connection.Inner);
            Assert.Equal(["one", "two", "three", "ten", "eleven"],
                (await connection.QueryAsync<string>("SELECT name FROM item ORDER BY id;")).ToList());
        }
    }

    [Fact]
    public async Task ATransactionThatSqliteEndedBehindTheProvidersBack_DoesNotReachTheNextUnitOfWork()
    {
        using var pool = Pool();
        SqliteConnection broken;
        await using (var connection = await pool.RentAsync(CancellationToken.None))
        {
            broken = connection.Inner;
            var tx = await connection.BeginTransactionAsync();
            await connection.ExecuteAsync("INSERT INTO item (id, name) VALUES (30, 'thirty');", transaction: tx);
            // SQLite ends the transaction (as it does itself after some errors), and the unit of work ends without
            // finishing the provider's transaction object: SQLite is back in autocommit, the object is not.
            await connection.ExecuteAsync("ROLLBACK;", transaction: tx);
        }
        Assert.Equal(ConnectionState.Closed, broken.State);
        await using (var connection = await pool.RentAsync(CancellationToken.None))
        {
            Assert.NotSame(broken, connection.Inner);
            await using var tx = await connection.BeginTransactionAsync();
            await connection.ExecuteAsync("INSERT INTO item (id, name) VALUES (31, 'thirty-one');", transaction: tx);
            await tx.CommitAsync();
            Assert.Equal(["thirty-one"], (await connection.QueryAsync<string>("SELECT name FROM item WHERE id >= 30;")).ToList());
        }
    }

    [Fact]
    public async Task AReaderLeftOpen_KeepsItsStatementToItself_AndItsConnectionOutOfThePool()
    {
        using var pool = Pool();
        const string sql = "SELECT name FROM item ORDER BY id;";
        SqliteConnection held;
        await using (var connection = await pool.RentAsync(CancellationToken.None))
        {
            held = connection.Inner;
            var command = connection.CreateCommand();
            command.CommandText = sql;
            var reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal("one", reader.GetString(0));
            await command.DisposeAsync();

            // The same text again while that reader is open: a statement of its own, from the start.
            Assert.Equal(["one", "two", "three"], (await connection.QueryAsync<string>(sql)).ToList());
            Assert.Equal(2, connection.Statements.Compiled);

            Assert.True(await reader.ReadAsync());
            Assert.Equal("two", reader.GetString(0));
            await reader.DisposeAsync();
        }
        Assert.Equal(ConnectionState.Closed, held.State);
        Assert.Equal(0, pool.IdleCount);
    }

    [Fact]
    public async Task AFailedStatement_IsNotKept_AndTheConnectionStaysUsable()
    {
        using var pool = Pool();
        const string insert = "INSERT INTO item (id, name) VALUES (@Id, @Name);";
        await using var connection = await pool.RentAsync(CancellationToken.None);
        await Assert.ThrowsAsync<SqliteException>(() => connection.ExecuteAsync(insert, new { Id = 1, Name = "again" }));
        await connection.ExecuteAsync(insert, new { Id = 20, Name = "twenty" });
        Assert.Equal(2, connection.Statements.Compiled);
        Assert.Equal("twenty", await connection.QuerySingleAsync<string>("SELECT name FROM item WHERE id = 20;"));
    }

    [Fact]
    public async Task AKeptStatement_FollowsASchemaChangeMadeElsewhere()
    {
        using var pool = Pool();
        const string sql = "SELECT * FROM item WHERE id = 1;";
        await using (var connection = await pool.RentAsync(CancellationToken.None))
        {
            Assert.Equal(2, ((IDictionary<string, object>)await connection.QuerySingleAsync(sql)).Count);
        }
        await using (var other = new SqliteConnection(_connectionString))
        {
            other.Open();
            other.Execute("ALTER TABLE item ADD COLUMN note TEXT NULL DEFAULT 'added';");
        }
        await using (var connection = await pool.RentAsync(CancellationToken.None))
        {
            var row = (IDictionary<string, object>)await connection.QuerySingleAsync(sql);
            Assert.Equal("added", row["note"]);
        }
    }

    [Fact]
    public async Task ThePool_KeepsAtMostItsIdleConnections_AndEachCacheAtMostItsStatements()
    {
        using var pool = new SqliteStatementPool(_connectionString, idleConnections: 3, statementsPerConnection: 2);
        var open = new List<CachingSqliteConnection>();
        for (var i = 0; i < 8; i++)
        {
            open.Add(await pool.RentAsync(CancellationToken.None));
        }
        foreach (var connection in open)
        {
            await connection.DisposeAsync();
        }
        Assert.Equal(3, pool.IdleCount);

        await using var one = await pool.RentAsync(CancellationToken.None);
        var compiledBefore = one.Statements.Compiled;
        foreach (var id in new[] { 1, 2, 3, 1 })
        {
            // Three texts through a cache of two: the first is dropped before it is asked for again.
            Assert.NotNull(await one.QuerySingleOrDefaultAsync<string>($"SELECT name FROM item WHERE id = {id};"));
        }
        Assert.Equal(compiledBefore + 4, one.Statements.Compiled);
        Assert.Equal(2, one.Statements.Count);
    }

    [Fact]
    public async Task ADisposedPool_ClosesItsIdleConnections_AndThoseReturnedLater()
    {
        var pool = Pool();
        var idle = await pool.RentAsync(CancellationToken.None);
        var idleInner = idle.Inner;
        await idle.DisposeAsync();
        var busy = await pool.RentAsync(CancellationToken.None);
        var busyInner = busy.Inner;
        Assert.Same(idleInner, busyInner);
        var second = await pool.RentAsync(CancellationToken.None);
        var secondInner = second.Inner;
        await second.DisposeAsync();

        pool.Dispose();
        Assert.Equal(ConnectionState.Closed, secondInner.State);
        await busy.DisposeAsync();
        Assert.Equal(ConnectionState.Closed, busyInner.State);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => pool.RentAsync(CancellationToken.None));
    }

    /// <summary>A pool with room to spare: four idle connections, ten statements each.</summary>
    private SqliteStatementPool Pool() => new(_connectionString, idleConnections: 4, statementsPerConnection: 10);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}

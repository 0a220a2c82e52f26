using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Outcomes.Api.Data;

namespace Outcomes.Api.Tests.Data;

public sealed class WriteTurnTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("outcomes-turn-").FullName;

    private Database Sqlite(int timeoutSeconds) => new(
        Options.Create(new DatabaseOptions { Provider = DatabaseProvider.Sqlite, SqlitePath = Path.Combine(_directory, "t.db"), CommandTimeoutSeconds = timeoutSeconds }),
        new ConfigurationBuilder().Build(), new Environment(_directory));

    [Fact]
    public async Task OneWriterAtATime_TheNextStartsWhenTheTurnIsReleased()
    {
        using var db = Sqlite(30);
        var first = await db.EnterWriteAsync(db.CommandTimeout, default);

        var second = db.EnterWriteAsync(db.CommandTimeout, default).AsTask();
        await Task.Delay(50);
        Assert.False(second.IsCompleted);

        first.Dispose();
        (await second).Dispose();
    }

    [Fact]
    public async Task NoTurnWithinTheCommandTimeout_IsSqliteBusy_WhichTheServiceAnswersWith503()
    {
        using var db = Sqlite(1);
        using var held = await db.EnterWriteAsync(db.CommandTimeout, default);

        var e = await Assert.ThrowsAsync<SqliteException>(async () => await db.EnterWriteAsync(db.CommandTimeout, default));

        Assert.True(db.Dialect.IsUnavailable(e));
    }

    [Fact]
    public async Task GroupCommit_AFailingWriteIsRolledBackAlone_AndTheOthersAreCommitted()
    {
        using var db = Sqlite(30);
        var commits = await GroupCommitWithTableAsync(db, "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)");

        // Hold the turn while all 20 writes queue up (each queues before it waits), so they go into one batch.
        var held = await db.EnterWriteAsync(db.CommandTimeout, default);
        var writes = Enumerable.Range(0, 20).Select(i => commits.RunAsync(async (c, tx) =>
        {
            await c.ExecuteAsync("INSERT INTO t (k, v) VALUES (@K, 'first')", new { K = i }, tx);
            // Write 7 inserts twice: its second insert breaks the key, and all of write 7 must go.
            await c.ExecuteAsync("INSERT INTO t (k, v) VALUES (@K, 'second')", new { K = i == 7 ? 7 : 100 + i }, tx);
            return i;
        }, default)).ToList();
        held.Dispose();

        var failed = await Assert.ThrowsAsync<SqliteException>(() => writes[7]);
        Assert.Equal(19, failed.SqliteErrorCode); // SQLITE_CONSTRAINT
        Assert.Equal(Enumerable.Range(0, 20).Where(i => i != 7), await Task.WhenAll(writes.Where((_, i) => i != 7)));
        await using var connection = await db.OpenAsync(default);
        var keys = (await connection.QueryAsync<long>("SELECT k FROM t ORDER BY k")).ToList();
        Assert.Equal(Enumerable.Range(0, 20).Where(i => i != 7).Concat(Enumerable.Range(100, 20).Where(i => i != 107)).Select(i => (long)i), keys);
    }

    [Fact]
    public async Task GroupCommit_AFailingWriteAloneInItsBatch_LeavesNothingBehind()
    {
        using var db = Sqlite(30);
        var commits = await GroupCommitWithTableAsync(db, "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)");

        var failed = await Assert.ThrowsAsync<SqliteException>(() => commits.RunAsync(async (c, tx) =>
        {
            await c.ExecuteAsync("INSERT INTO t (k, v) VALUES (1, 'first')", transaction: tx);
            return await c.ExecuteAsync("INSERT INTO t (k, v) VALUES (1, 'again')", transaction: tx);
        }, default));
        var next = await commits.RunAsync((c, tx) => c.ExecuteAsync("INSERT INTO t (k, v) VALUES (2, 'next')", transaction: tx), default);

        Assert.Equal(19, failed.SqliteErrorCode); // SQLITE_CONSTRAINT
        Assert.Equal(1, next);
        await using var connection = await db.OpenAsync(default);
        Assert.Equal([2L], await connection.QueryAsync<long>("SELECT k FROM t"));
    }

    [Fact]
    public async Task GroupCommit_NoTurnWithinTheCommandTimeout_EveryQueuedWriteIsRefused_AndNothingIsWritten()
    {
        using var db = Sqlite(1);
        var commits = await GroupCommitWithTableAsync(db, "CREATE TABLE t (k INTEGER PRIMARY KEY)");

        var held = await db.EnterWriteAsync(db.CommandTimeout, default);
        var writes = Enumerable.Range(0, 5)
            .Select(i => commits.RunAsync((c, tx) => c.ExecuteAsync("INSERT INTO t (k) VALUES (@K)", new { K = i }, tx), default))
            .ToList();
        foreach (var write in writes)
        {
            var e = await Assert.ThrowsAsync<SqliteException>(() => write);
            Assert.True(db.Dialect.IsUnavailable(e));
        }
        held.Dispose();

        Assert.Equal(1, await commits.RunAsync((c, tx) => c.ExecuteAsync("INSERT INTO t (k) VALUES (9)", transaction: tx), default));
        await using var connection = await db.OpenAsync(default);
        Assert.Equal([9L], await connection.QueryAsync<long>("SELECT k FROM t"));
    }

    [Fact]
    public async Task GroupCommit_MoreWritesThanOneBatch_TheLeaderHandsTheRestOn_AndEveryOneIsCommitted()
    {
        using var db = Sqlite(30);
        var commits = await GroupCommitWithTableAsync(db, "CREATE TABLE t (k INTEGER PRIMARY KEY)");
        var count = GroupCommit.MaxBatch * 2 + 5;

        // All queue behind the held turn; the first caller's batch holds its own write, and the
        // rest must still be committed after it goes back to its request.
        var held = await db.EnterWriteAsync(db.CommandTimeout, default);
        var writes = Enumerable.Range(0, count)
            .Select(i => commits.RunAsync((c, tx) => c.ExecuteAsync("INSERT INTO t (k) VALUES (@K)", new { K = i }, tx), default))
            .ToList();
        held.Dispose();

        // Bounded only so that a stranded write fails the test instead of hanging it.
        Assert.All(await Task.WhenAll(writes).WaitAsync(TimeSpan.FromSeconds(60)), inserted => Assert.Equal(1, inserted));
        await using var connection = await db.OpenAsync(default);
        Assert.Equal(count, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM t"));
    }

    [Fact]
    public async Task EveryConnection_WaitsForOtherProcessesLocks_UpToTheCommandTimeout()
    {
        using var db = Sqlite(7);

        for (var i = 0; i < 2; i++) // a new connection, then one from the pool
        {
            await using var connection = await db.OpenAsync(default);
            Assert.Equal(7000, await connection.ExecuteScalarAsync<long>("PRAGMA busy_timeout"));
        }
    }

    private static async Task<GroupCommit> GroupCommitWithTableAsync(Database db, string createTable)
    {
        await using var setup = await db.OpenAsync(default);
        await setup.ExecuteAsync(createTable);
        return new GroupCommit(db);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private sealed class Environment(string root) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Test";
        public string ApplicationName { get; set; } = "Outcomes.Api.Tests";
        public string ContentRootPath { get; set; } = root;
        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}

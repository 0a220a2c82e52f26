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
        var first = await db.EnterWriteAsync(default);

        var second = db.EnterWriteAsync(default).AsTask();
        await Task.Delay(50);
        Assert.False(second.IsCompleted);

        first.Dispose();
        (await second).Dispose();
    }

    [Fact]
    public async Task NoTurnWithinTheCommandTimeout_IsSqliteBusy_WhichTheServiceAnswersWith503()
    {
        using var db = Sqlite(1);
        using var held = await db.EnterWriteAsync(default);

        var e = await Assert.ThrowsAsync<SqliteException>(async () => await db.EnterWriteAsync(default));

        Assert.True(db.Dialect.IsUnavailable(e));
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

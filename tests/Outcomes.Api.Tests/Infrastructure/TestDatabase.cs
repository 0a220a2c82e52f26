using Microsoft.Data.SqlClient;
using Microsoft.Data.Sqlite;
using Outcomes.Api.Data;

namespace Outcomes.Api.Tests.Infrastructure;

/// <summary>
/// A fresh, empty database for one test: a temporary SQLite file, or — when
/// OUTCOMES_SQLSERVER_TEST_CONNECTION names a SQL Server — a new database created on it and
/// dropped afterwards. The database suite is written once and runs on both.
/// </summary>
public abstract class TestDatabase : IAsyncDisposable
{
    public const string SqlServerVariable = "OUTCOMES_SQLSERVER_TEST_CONNECTION";

    public static string? SqlServerConnection => Environment.GetEnvironmentVariable(SqlServerVariable) is { Length: > 0 } cs ? cs : null;

    public static string SkipReason => $"{SqlServerVariable} is not set: no SQL Server to run the SQL Server variant against.";

    public abstract DatabaseProvider Provider { get; }

    /// <summary>Configuration that points the service at this database.</summary>
    public abstract IReadOnlyDictionary<string, string?> Settings { get; }

    public abstract ValueTask DisposeAsync();

    /// <summary>Null when the provider is not available here (SQL Server without the variable).</summary>
    public static TestDatabase? TryCreate(DatabaseProvider provider) => provider switch
    {
        DatabaseProvider.Sqlite => new SqliteTestDatabase(),
        _ when SqlServerConnection is { } cs => new SqlServerTestDatabase(cs),
        _ => null,
    };

    private sealed class SqliteTestDatabase : TestDatabase
    {
        private readonly string _directory = Directory.CreateTempSubdirectory("outcomes-test-").FullName;

        public override DatabaseProvider Provider => DatabaseProvider.Sqlite;

        public override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Database:Provider"] = "Sqlite",
            ["Database:SqlitePath"] = Path.Combine(_directory, "outcomes.db"),
        };

        public override ValueTask DisposeAsync()
        {
            SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
                // A file still open on a slow shutdown is left to the OS's temp cleaning.
            }
            return ValueTask.CompletedTask;
        }
    }

    private sealed class SqlServerTestDatabase : TestDatabase
    {
        private readonly string _server;
        private readonly string _name = $"outcomes_test_{Guid.NewGuid():N}";

        public SqlServerTestDatabase(string serverConnection)
        {
            _server = serverConnection;
            using var connection = new SqlConnection(_server);
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"CREATE DATABASE [{_name}];";
            command.ExecuteNonQuery();
        }

        public override DatabaseProvider Provider => DatabaseProvider.SqlServer;

        public override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Database:Provider"] = "SqlServer",
            ["Database:MigrateOnStartup"] = "true",
            ["ConnectionStrings:Outcomes"] = new SqlConnectionStringBuilder(_server) { InitialCatalog = _name }.ConnectionString,
        };

        public override async ValueTask DisposeAsync()
        {
            SqlConnection.ClearAllPools();
            await using var connection = new SqlConnection(_server);
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = $"ALTER DATABASE [{_name}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE [{_name}];";
            await command.ExecuteNonQueryAsync();
        }
    }
}

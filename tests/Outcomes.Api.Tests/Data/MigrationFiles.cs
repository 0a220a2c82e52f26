using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Outcomes.Api.Data;

namespace Outcomes.Api.Tests.Data;

public static class MigrationFiles
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static IReadOnlyList<string> Names(string provider) =>
        [.. Directory.GetFiles(Path.Combine(RepositoryRoot, "sql", provider), "*.sql").Select(Path.GetFileName).Order(StringComparer.Ordinal)!];

    public static string PathOf(string provider, string name) => Path.Combine(RepositoryRoot, "sql", provider, name);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Outcomes.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Outcomes.sln not found above the test binaries.");
    }
}

public static class SqliteSchema
{
    /// <summary>
    /// A migrated scratch SQLite database, for tests that need the schema but not the service; its connection string.
    /// The database object is disposed, so that no connection of its pool stays open on the file.
    /// </summary>
    public static string CreateMigrated(string path)
    {
        var options = Options.Create(new DatabaseOptions { Provider = DatabaseProvider.Sqlite, SqlitePath = path });
        using var database = new Database(options, new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build(), new TestEnvironment());
        new Migrator(database, NullLoggerFactory.Instance, TimeProvider.System).Migrate();
        return database.ConnectionString;
    }

    public static SortedSet<string> ColumnsAfterMigrating()
    {
        var directory = Directory.CreateTempSubdirectory("outcomes-schema-").FullName;
        try
        {
            using var connection = new SqliteConnection(CreateMigrated(Path.Combine(directory, "schema.db")));
            var columns = connection.Query<string>("""
                SELECT m.name || '.' || c.name
                FROM sqlite_master m JOIN pragma_table_info(m.name) c
                WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> 'schema_version'
                """);
            return new SortedSet<string>(columns, StringComparer.Ordinal);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    private sealed class TestEnvironment : Microsoft.Extensions.Hosting.IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Test";
        public string ApplicationName { get; set; } = "Outcomes.Api.Tests";
        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;
        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } =
            new Microsoft.Extensions.FileProviders.NullFileProvider();
    }
}

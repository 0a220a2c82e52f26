using System.Data.Common;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Outcomes.Api.Data;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Data;

public abstract class MigrationTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : MigrationTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : MigrationTests(DatabaseProvider.SqlServer);

    [SkippableFact]
    public async Task StartUp_AppliesEveryScriptAndRecordsIt()
    {
        await using var connection = await App.OpenDatabaseAsync();

        var applied = await connection.QueryAsync<string>($"SELECT scriptname FROM {Migrator.JournalTable} ORDER BY scriptname");

        var prefix = Migrator.ResourcePrefix(Provider);
        Assert.Equal(MigrationFiles.Names(Provider == DatabaseProvider.Sqlite ? "sqlite" : "sqlserver").Select(n => prefix + n), applied);
    }

    [SkippableFact]
    public async Task MigratingAgain_RunsNothingAndChangesNothing()
    {
        var before = await SchemaAsync();

        var result = App.Services.GetRequiredService<Migrator>().Migrate();

        Assert.Empty(result.Scripts);
        Assert.Equal(before, await SchemaAsync());
    }

    [SkippableTheory]
    [InlineData("UPDATE patient SET birth_year = 1950")]
    [InlineData("DELETE FROM patient")]
    [InlineData("UPDATE treatment_session SET total_units = 1")]
    [InlineData("DELETE FROM injection_site")]
    [InlineData("UPDATE audit_event SET actor = 'someone else'")]
    [InlineData("DELETE FROM audit_event")]
    public async Task ClinicalRows_CannotBeChangedOrDeletedInTheDatabase(string statement)
    {
        var siteId = await App.CreateSiteAsync();
        var practitionerId = await App.CreatePractitionerAsync(siteId);
        var patientId = await App.CreatePatientAsync(siteId);
        var session = await App.Practitioner(siteId).PostAsync($"/api/v1/patients/{patientId}/treatment-sessions",
            System.Net.Http.Json.JsonContent.Create(new
            {
                submissionId = Guid.NewGuid(), sessionDate = "2025-02-01", practitionerId, product = "incobotulinumtoxinA", guidance = "ultrasound",
                dilutionUnitsPerMl = 50, injectionSites = new[] { new { muscle = "piriformis", side = "right", units = 25 } },
            }));
        Assert.Equal(System.Net.HttpStatusCode.Created, session.StatusCode);
        var before = await App.CountRowsAsync();
        await using var connection = await App.OpenDatabaseAsync();

        await Assert.ThrowsAnyAsync<DbException>(() => connection.ExecuteAsync(statement));

        Assert.Equal(before, await App.CountRowsAsync());
    }

    private async Task<IReadOnlyList<string>> SchemaAsync()
    {
        await using var connection = await App.OpenDatabaseAsync();
        var sql = Provider == DatabaseProvider.Sqlite
            ? "SELECT type || ' ' || name || ' ' || COALESCE(sql, '') FROM sqlite_master ORDER BY type, name"
            : """
              SELECT CONCAT(t.name, '.', c.name, ' ', ty.name, ' ', c.max_length, ' ', c.is_nullable)
              FROM sys.tables t JOIN sys.columns c ON c.object_id = t.object_id JOIN sys.types ty ON ty.user_type_id = c.user_type_id
              UNION ALL SELECT CONCAT(o.type_desc, ' ', o.name) FROM sys.objects o WHERE o.is_ms_shipped = 0
              UNION ALL SELECT CONCAT('index ', i.name) FROM sys.indexes i JOIN sys.tables t ON t.object_id = i.object_id WHERE i.name IS NOT NULL
              ORDER BY 1
              """;
        return [.. await connection.QueryAsync<string>(sql)];
    }
}

/// <summary>Every SQLite query text compiles against the migrated schema (unknown tables or columns fail here).</summary>
public class SqliteTextTests
{
    [Fact]
    public void SqliteQueries_AllCompileAgainstTheMigratedSchema()
    {
        var directory = Directory.CreateTempSubdirectory("outcomes-sqlite-texts-").FullName;
        try
        {
            using var connection = new Microsoft.Data.Sqlite.SqliteConnection(SqliteSchema.CreateMigrated(Path.Combine(directory, "texts.db")));
            connection.Open();
            var texts = SqlTextCatalog.For(SqlDialect.Sqlite).ToList();

            Assert.NotEmpty(texts);
            Assert.All(texts, t =>
            {
                using var command = connection.CreateCommand();
                command.CommandText = "EXPLAIN " + SqlTextCatalog.AsSent(t.Sql);
                var ex = Record.Exception(command.Prepare);
                Assert.True(ex is null, $"{t.Name}: {ex?.Message}\n{t.Sql}");
            });
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }
}

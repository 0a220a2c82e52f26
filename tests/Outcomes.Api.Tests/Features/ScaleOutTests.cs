using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Cohorts;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Features;

/// <summary>Cohort reads go to <c>ConnectionStrings:OutcomesReadOnly</c> when it is set: a replica answers as of its own state.</summary>
public sealed class AnalyticsReplicaTests() : ApiTestBase(DatabaseProvider.Sqlite)
{
    private readonly string _replica = Path.Combine(Path.GetTempPath(), $"outcomes-replica-{Guid.NewGuid():N}.db");

    protected override IReadOnlyDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        ["ConnectionStrings:OutcomesReadOnly"] = $"Data Source={_replica};Mode=ReadOnly",
    };

    protected override Action<IServiceCollection>? ConfigureServices => services =>
        services.Configure<CohortOptions>(o => o.SmallCellThreshold = 2);

    [SkippableFact]
    public async Task CohortQueries_ReadTheReplica_WhileWritesGoToThePrimary()
    {
        var siteId = await App.CreateSiteAsync();
        var practitionerId = await App.CreatePractitionerAsync(siteId);
        for (var i = 0; i < 3; i++)
        {
            await AddTreatedPatientAsync(siteId, practitionerId);
        }
        await App.Services.GetRequiredService<SeriesRefresher>().RefreshAsync(default);
        // The replica: a consistent copy of the primary as it is now.
        await using (var primary = await App.OpenDatabaseAsync())
        {
            await primary.ExecuteAsync("VACUUM INTO @Path", new { Path = _replica });
        }
        await AddTreatedPatientAsync(siteId, practitionerId);

        var answer = await App.Auditor().GetFromJsonAsync<JsonElement>($"/api/v1/cohorts/outcomes?siteId={siteId}", OutcomesApp.Json);

        Assert.Equal(3, answer.GetProperty("summary").GetProperty("patients").GetProperty("patients").GetInt32());
        await using var check = await App.OpenDatabaseAsync();
        Assert.Equal(4, await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM patient"));
        // The query's audit event went to the primary.
        Assert.Equal(1, await App.CountAuditAsync("cohort_outcomes", "cohort", null));
    }

    private async Task AddTreatedPatientAsync(long siteId, long practitionerId)
    {
        var patientId = await App.CreatePatientAsync(siteId);
        var session = await App.Practitioner(siteId).PostAsJsonAsync($"/api/v1/patients/{patientId}/treatment-sessions", new
        {
            submissionId = Guid.NewGuid(), sessionDate = "2025-03-03", practitionerId, product = "onabotulinumtoxinA", guidance = "emg", dilutionUnitsPerMl = 50,
            injectionSites = new[] { new { muscle = "upper_trapezius", side = "left", units = 40 } },
        }, OutcomesApp.Json);
        Assert.Equal(HttpStatusCode.Created, session.StatusCode);
        // A baseline score: a patient never given the measure is not in its cohort.
        var score = await App.Patient(patientId).PostAsJsonAsync($"/api/v1/patients/{patientId}/pain-scores", new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-03-01T18:00:00Z", score = 6, recall = "average7Days",
        }, OutcomesApp.Json);
        Assert.Equal(HttpStatusCode.Created, score.StatusCode);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        SqliteConnection.ClearAllPools();
        File.Delete(_replica);
    }
}

/// <summary>
/// Two instances on one SQL Server: while one rebuilds series, the other's background round does
/// not start a rebuild of its own (the application lock), so no patient is rebuilt twice at once.
/// SQLite has one writer and no such lease; this runs on SQL Server only.
/// </summary>
public sealed class SeriesLeaseTests() : ApiTestBase(DatabaseProvider.SqlServer)
{
    [SkippableFact]
    public async Task WhileOneInstanceRebuilds_AnotherInstancesRoundStandsAside()
    {
        var siteId = await App.CreateSiteAsync();
        await App.CreatePatientAsync(siteId);
        var db = App.Services.GetRequiredService<Database>();
        var sql = App.Services.GetRequiredService<SeriesSql>();
        // Two refreshers with their own process-local locks stand for two instances.
        using var first = new SeriesRefresher(db, sql, App.Services.GetRequiredService<IOptions<SeriesOptions>>(), NullLogger<SeriesRefresher>.Instance);
        using var second = new SeriesRefresher(db, sql, App.Services.GetRequiredService<IOptions<SeriesOptions>>(), NullLogger<SeriesRefresher>.Instance);
        await using (var connection = await App.OpenDatabaseAsync())
        {
            await connection.ExecuteAsync("INSERT INTO series_stale (patient_id, generation) SELECT id, 1 FROM patient WHERE id NOT IN (SELECT patient_id FROM series_stale)");
        }
        int? secondsRound = -1;
        first.AfterRead = async () => secondsRound = await second.RefreshAsync(default, wait: false);

        var rebuilt = await first.RefreshAsync(default);

        Assert.True(rebuilt > 0);
        Assert.Null(secondsRound); // the lease was held: the second instance did nothing
        Assert.Equal(0, await second.RefreshAsync(default, wait: false));
    }
}

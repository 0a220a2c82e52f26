using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Outcomes.Api.Data;
using Outcomes.Api.Features.DemoData;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Features;

public abstract class DemoDataTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : DemoDataTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : DemoDataTests(DatabaseProvider.SqlServer);

    [SkippableFact]
    public async Task Generate_FillsARealisticClinicOfTheRequestedSize()
    {
        var db = App.Services.GetRequiredService<Database>();

        var summary = await DemoDataCommand.GenerateAsync(db, TimeProvider.System, 120, seed: 7, CancellationToken.None);

        Assert.NotNull(summary);
        Assert.Equal(120, summary.Patients);
        var counts = await App.CountRowsAsync();
        Assert.Equal(120, counts["patient"]);
        Assert.Equal(summary.Sessions, counts["treatment_session"]);
        Assert.Equal(summary.InjectionSites, counts["injection_site"]);
        Assert.True(counts["site"] >= 3, "several sites");
        Assert.True(counts["practitioner"] >= counts["site"] * 2, "at least two practitioners per site");

        await using var connection = await App.OpenDatabaseAsync();
        var conditions = await connection.QueryAsync<string>("SELECT DISTINCT condition FROM patient_condition");
        Assert.True(conditions.Count() >= 5, "patients spread across the conditions");

        // Sessions every 3 to 6 months: consecutive sessions of a patient lie 90 to 183 days apart.
        var sessions = (await connection.QueryAsync<(long PatientId, DateOnly Date)>(
            "SELECT patient_id, session_date FROM treatment_session ORDER BY patient_id, session_date")).ToList();
        var gaps = sessions.Zip(sessions.Skip(1))
            .Where(p => p.First.PatientId == p.Second.PatientId)
            .Select(p => p.Second.Date.DayNumber - p.First.Date.DayNumber)
            .ToList();
        Assert.NotEmpty(gaps);
        Assert.All(gaps, g => Assert.InRange(g, 90, 183));

        // A session's total is the sum of its sites.
        var mismatched = await connection.ExecuteScalarAsync<long>("""
            SELECT COUNT(*) FROM treatment_session t
            WHERE t.total_units <> (SELECT SUM(s.units) FROM injection_site s WHERE s.session_id = t.id)
            """);
        Assert.Equal(0, mismatched);
    }

    [SkippableFact]
    public async Task Generate_RefusesADatabaseThatHoldsData()
    {
        await App.CreateSiteAsync();
        var before = await App.CountRowsAsync();

        var summary = await DemoDataCommand.GenerateAsync(App.Services.GetRequiredService<Database>(), TimeProvider.System, 10, 1, CancellationToken.None);

        Assert.Null(summary);
        Assert.Equal(before, await App.CountRowsAsync());
    }
}

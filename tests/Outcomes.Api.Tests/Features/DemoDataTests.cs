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

        Assert.Equal(summary.Observations, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM observation"));
        var kinds = (await connection.QueryAsync<string>("SELECT DISTINCT kind FROM observation")).Order(StringComparer.Ordinal);
        Assert.Equal(["painScore", "questionnaire", "rangeOfMotion", "sideEffect"], kinds);
    }

    [SkippableFact]
    public async Task Generate_AnswersNothingAfterTheMomentItWrites_EvenInTheMorning()
    {
        // Generated at 08:00 UTC: the evening values of today would lie in the future.
        var now = new DateTimeOffset(2026, 3, 4, 8, 0, 0, TimeSpan.Zero);
        await DemoDataCommand.GenerateAsync(App.Services.GetRequiredService<Database>(), new FixedClock(now), 60, seed: 3, CancellationToken.None);

        await using var connection = await App.OpenDatabaseAsync();
        var rows = (await connection.QueryAsync<(DateTimeOffset AnsweredAt, DateTimeOffset ReceivedAt)>(
            "SELECT answered_at, received_at FROM observation")).ToList();
        Assert.Contains(rows, r => r.AnsweredAt.UtcDateTime.Date == now.UtcDateTime.Date); // some are today's
        Assert.All(rows, r => Assert.True(r.AnsweredAt <= now && r.ReceivedAt >= r.AnsweredAt, $"answered {r.AnsweredAt:O}, received {r.ReceivedAt:O}"));
    }

    [SkippableFact]
    public async Task Generate_HasRespondersAndNonResponders_WithEarlyOnsetAndWearOff()
    {
        var db = App.Services.GetRequiredService<Database>();
        await DemoDataCommand.GenerateAsync(db, TimeProvider.System, 400, seed: 11, CancellationToken.None);
        await using var connection = await App.OpenDatabaseAsync();
        var firstSessions = (await connection.QueryAsync<(long PatientId, DateOnly Date)>(
            "SELECT patient_id, MIN(session_date) FROM treatment_session GROUP BY patient_id")).ToDictionary(r => r.PatientId, r => r.Date);
        var secondSessions = (await connection.QueryAsync<(long PatientId, DateOnly Date)>("""
            SELECT t.patient_id, MIN(t.session_date) FROM treatment_session t
            WHERE t.session_date > (SELECT MIN(f.session_date) FROM treatment_session f WHERE f.patient_id = t.patient_id)
            GROUP BY t.patient_id
            """)).ToDictionary(r => r.PatientId, r => r.Date);
        var scores = (await connection.QueryAsync<(long PatientId, DateTimeOffset At, decimal Value)>(
            "SELECT patient_id, answered_at, value FROM observation WHERE kind = 'painScore'"))
            .ToLookup(s => s.PatientId, s => (Day: DateOnly.FromDateTime(s.At.UtcDateTime), s.Value));

        // Relief in a window of days after the first session, against the weeks before it.
        double? Relief(long patient, int fromDay, int toDay)
        {
            var first = firstSessions[patient];
            var end = secondSessions.TryGetValue(patient, out var second) ? second : DateOnly.MaxValue;
            var mine = scores[patient].ToList();
            var before = mine.Where(s => s.Day < first).Select(s => (double)s.Value).ToList();
            var after = mine.Where(s => s.Day.DayNumber - first.DayNumber >= fromDay && s.Day.DayNumber - first.DayNumber <= toDay && s.Day < end)
                .Select(s => (double)s.Value).ToList();
            return before.Count >= 2 && after.Count >= 2 && before.Average() > 0 ? 1 - after.Average() / before.Average() : null;
        }

        var early = firstSessions.Keys.Select(p => (Patient: p, Relief: Relief(p, 3, 28))).Where(r => r.Relief is not null).ToList();
        Assert.True(early.Count >= 40, $"enough patients with scores around their first session ({early.Count})");
        var responders = early.Where(r => r.Relief >= 0.3).ToList();
        var nonResponders = early.Count(r => r.Relief < 0.1);
        Assert.InRange(responders.Count / (double)early.Count, 0.25, 0.75);
        Assert.True(nonResponders / (double)early.Count >= 0.15, $"non-responders: {nonResponders} of {early.Count}");

        // Wear-off: responders still untreated 22–26 weeks on have lost much of their relief.
        var late = responders.Select(r => (r.Relief, Late: Relief(r.Patient, 154, 182))).Where(r => r.Late is not null).ToList();
        Assert.True(late.Count >= 5, $"responders followed to week 26 ({late.Count})");
        Assert.True(late.Average(r => r.Late!.Value) < late.Average(r => r.Relief!.Value) - 0.15, "relief wears off over months");
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

using System.Data.Common;
using Dapper;
using Microsoft.Extensions.Options;
using Outcomes.Api.Data;
using Outcomes.Api.Features.PatientOutcomes;
using Outcomes.Api.Features.Patients;
using Outcomes.Core.Alerts;
using Outcomes.Core.Clinic;

namespace Outcomes.Api.Features.Alerts;

public sealed class AlertScanSql(SqlDialect dialect) : SqlTexts(dialect)
{
    /// <summary>Patients under treatment: a current session recent enough for a window, a gap or a loss to fall in the look-back.</summary>
    public string Patients { get; } = $"""
        SELECT p.id, p.site_id, p.enrolled_on FROM patient_current p
        WHERE p.id > @After
          AND EXISTS (SELECT 1 FROM treatment_session t WHERE t.patient_id = p.id AND t.session_date >= @Since
                      AND {TreatmentSessions.TreatmentSessionSql.IsCurrent("t")})
        ORDER BY p.id
        {dialect.Limit("@Take")};
        """;

    /// <summary>Questionnaire responses since the earliest look-back start of the page: the answers that were due.</summary>
    public string Questionnaires { get; } = PatientSummarySql.QuestionnairesSince(dialect) + ";";

    /// <summary>Each patient's latest current pain score (any recall).</summary>
    public string LatestPain { get; } = PatientSummarySql.LatestPainOf(dialect, "") + ";";

    /// <summary>The current pain scores (any recall) answered from <c>@From</c> until before <c>@Until</c>.</summary>
    public string PainBetween { get; } = $"""
        SELECT o.patient_id, o.kind, o.code, o.qualifier, o.answered_at, o.value
        FROM patient p
        {dialect.DrivingJoin} observation o ON o.patient_id = p.id
        WHERE p.id IN @Ids AND o.kind = 'painScore' AND o.code = 'pain_nrs' AND o.answered_at >= @From AND o.answered_at < @Until
          AND {Observations.ObservationSql.IsCurrent};
        """;
}

internal sealed class ScanPatientRow
{
    public long Id { get; init; }
    public long SiteId { get; init; }
    public DateOnly EnrolledOn { get; init; }
}

/// <summary>
/// Finds the time-based alerts (follow-up overdue, no weekly score, response lost) for every patient under
/// treatment, a page at a time, from the same facts as the patient list: the current pain cycle through the
/// list's kept cycle states (advanced by the scores written since), and of the pain scores only the latest and
/// those of the days the rules look at one by one, so that a scan costs what changed, not every score of the
/// current cycle. Safe to run in several instances at once: each cause has a unique key, and a cause already
/// raised is skipped.
/// </summary>
public sealed class AlertScanner(
    Database db, AlertScanSql sql, AlertSql alertSql, PatientSql patientSql, PatientSummarySql summarySql, AlertWriter writer, GroupCommit commits,
    MeasureCatalog measures, PainCycleCache painCycles, IOptions<AlertOptions> options, IOptions<OutcomesOptions> outcomes, TimeProvider clock)
{
    private const int PageSize = 200;

    /// <returns>How many alerts this scan raised.</returns>
    public async Task<int> ScanAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var lookback = options.Value.LookbackDays;
        // Patients with a session in the last year and the look-back: a gap in weekly scores may come long after a session.
        var since = today.AddDays(-365 - lookback);
        await using var connection = await db.OpenAsync(ct);
        var weeks = (await connection.QueryAsync<(long SiteId, int Weeks)>(db.Command(alertSql.NoWeeklyScoreWeeks, null, ct)))
            .ToDictionary(r => r.SiteId, r => r.Weeks);
        var raised = 0;
        long after = 0;
        while (true)
        {
            var page = (await connection.QueryAsync<ScanPatientRow>(db.Command(sql.Patients, new { After = after, Since = since, Take = PageSize }, ct))).ToList();
            if (page.Count == 0)
            {
                return raised;
            }
            after = page[^1].Id;
            raised += await ScanPageAsync(connection, page, today, now, weeks, ct);
        }
    }

    private async Task<int> ScanPageAsync(
        DbConnection connection, List<ScanPatientRow> page, DateOnly today, DateTimeOffset now, Dictionary<long, int> weeks, CancellationToken ct)
    {
        var ids = page.Select(p => p.Id).ToArray();
        var conditions = (await connection.QueryAsync<ConditionRow>(db.Command(patientSql.ConditionsOf, new { Ids = ids }, ct)))
            .ToLookup(r => r.PatientId, r => EnumCode<Condition>.Parse(r.Condition));
        var sessions = (await connection.QueryAsync<PatientDateRow>(db.Command(summarySql.Sessions, new { Ids = ids }, ct)))
            .ToLookup(r => r.PatientId, r => r.SessionDate);
        var latest = page.ToDictionary(p => p.Id, p => sessions[p.Id].Cast<DateOnly?>().LastOrDefault());
        DateTimeOffset At(DateOnly day) => new(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var from = page.Min(p => DueSchedule.LookBackFrom(p.EnrolledOn, latest[p.Id], today));
        var questionnaires = (await connection.QueryAsync<PatientValueRow>(db.Command(sql.Questionnaires, new { Ids = ids, From = At(from) }, ct)))
            .ToLookup(r => r.PatientId);
        // Of the pain scores, the rules look at the latest and those of the days each patient's rules name
        // (AlertRules.PainDaysLookedAt), not every score since the look-back began.
        var lastPain = (await connection.QueryAsync<PatientValueRow>(db.Command(sql.LatestPain, new { Ids = ids }, ct))).ToDictionary(r => r.PatientId);
        var lookedAt = page.Where(p => latest[p.Id] is not null)
            .Select(p => (p.Id, Days: AlertRules.PainDaysLookedAt(latest[p.Id]!.Value, today, options.Value.LookbackDays)))
            .Where(p => p.Days is not null).ToDictionary(p => p.Id, p => p.Days!.Value);
        var painDays = lookedAt.Count == 0 ? Enumerable.Empty<PatientValueRow>().ToLookup(r => r.PatientId)
            : (await connection.QueryAsync<PatientValueRow>(db.Command(sql.PainBetween, new
            {
                Ids = SqlLimits.Bounded([.. lookedAt.Keys]),
                From = At(lookedAt.Values.Min(d => d.From)),
                Until = At(lookedAt.Values.Max(d => d.Until).AddDays(1)),
            }, ct))).ToLookup(r => r.PatientId);
        var cycles = await PatientSummariesApi.PainCyclesAsync(connection, db, summarySql, measures, painCycles, SqlLimits.Bounded(ids), latest, outcomes.Value.Rule, ct);

        var raised = 0;
        foreach (var p in page)
        {
            static DateOnly Day(PatientValueRow r) => DateOnly.FromDateTime(r.AnsweredAt.UtcDateTime);
            IEnumerable<DateOnly> pain = lookedAt.TryGetValue(p.Id, out var days) ? painDays[p.Id].Select(Day).Where(d => d >= days.From && d <= days.Until) : [];
            var input = DueSchedule.InputFrom(today, p.EnrolledOn, [.. conditions[p.Id]], latest[p.Id],
                [.. questionnaires[p.Id].Select(r => (false, r.Code, Day(r))),
                 .. pain.Concat(lastPain.TryGetValue(p.Id, out var last) ? [Day(last)] : []).Select(d => (true, "pain_nrs", d))]);
            var cycle = cycles.GetValueOrDefault(p.Id);
            var causes = AlertRules.TimeBased(p.Id, input, cycle, weeks.GetValueOrDefault(p.SiteId, AlertRules.DefaultNoWeeklyScoreWeeks),
                options.Value.LookbackDays);
            foreach (var cause in causes)
            {
                if (await RaiseAsync(cause, p, now, ct))
                {
                    raised++;
                }
            }
        }
        if (raised > 0)
        {
            writer.Committed();
        }
        return raised;
    }

    private async Task<bool> RaiseAsync(AlertCause cause, ScanPatientRow patient, DateTimeOffset now, CancellationToken ct)
    {
        try
        {
            return await commits.RunAsync((c, tx) => writer.RaiseAsync(c, tx, cause, patient.Id, patient.SiteId, null, now), ct) is not null;
        }
        catch (DbException e) when (db.Dialect.IsUniqueViolation(e))
        {
            // Another instance raised it in the same moment.
            return false;
        }
    }
}

/// <summary>Runs the scan every <see cref="AlertOptions.ScanSeconds"/>.</summary>
public sealed class AlertScanLoop(AlertScanner scanner, IOptions<AlertOptions> options, DatabaseHealth health, ILogger<AlertScanLoop> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.ScanSeconds <= 0)
        {
            return;
        }
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.ScanSeconds));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                if ((await health.SchemaForRequestAsync(stoppingToken)).IsCurrent)
                {
                    await scanner.ScanAsync(stoppingToken);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Nothing is lost: the causes are still there at the next scan, and their keys keep them to one alert each.
                logger.LogWarning(e, "The scan for time-based alerts failed");
            }
        }
    }
}

using Dapper;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Audit;
using Outcomes.Api.Features.Cohorts;
using Outcomes.Api.Features.Observations;
using Outcomes.Api.Features.Patients;
using Outcomes.Api.Infrastructure;
using Outcomes.Core.Clinic;
using Outcomes.Core.Outcomes;

namespace Outcomes.Api.Features.PatientOutcomes;

/// <summary>One line of a practitioner's patient list.</summary>
/// <param name="LatestPainScore">The latest weekly pain score (7-day average), and when it was given.</param>
/// <param name="WeeksSinceLastSession">Whole weeks since the latest treatment session.</param>
/// <param name="CurrentCycleStatus">Pain response in the cycle of the latest session.</param>
/// <param name="SeriousSideEffects">Current serious side-effect reports.</param>
/// <param name="SeriousWithdrawalsAwaitingReview">Serious reports the patient withdrew, awaiting a practitioner's review.</param>
/// <param name="OpenSeriousAlerts">Serious side-effect alerts nobody has acknowledged yet (see GET /alerts).</param>
/// <param name="UnitsLast12Weeks">Per product, the units of the current sessions of the last 12 weeks, and the product's ceiling for them.</param>
/// <param name="Due">Submissions due now (see <c>GET /patients/{id}/due</c>).</param>
public sealed record PatientSummary(
    long Id,
    string ExternalReference,
    IReadOnlyList<Condition> Conditions,
    decimal? LatestPainScore,
    DateTimeOffset? LatestPainScoreAt,
    DateOnly? LastSession,
    int? WeeksSinceLastSession,
    ResponseStatus? CurrentCycleStatus,
    int? CurrentCycleOnsetDays,
    int SeriousSideEffects,
    int SeriousWithdrawalsAwaitingReview,
    int OpenSeriousAlerts,
    IReadOnlyList<ProductUnits> UnitsLast12Weeks,
    IReadOnlyList<DueItem> Due);

/// <summary>Units of one product given to the patient in the last 12 weeks, beside the product's cumulative plausibility ceiling.</summary>
public sealed record ProductUnits(Product Product, decimal Units, decimal Ceiling);

public sealed class PatientSummarySql(SqlDialect dialect) : SqlTexts(dialect)
{
    public string Sessions { get; } = $"""
        SELECT t.patient_id, t.session_date, t.product, t.total_units FROM treatment_session t
        WHERE t.patient_id IN @Ids AND {TreatmentSessions.TreatmentSessionSql.IsCurrent("t")}
        ORDER BY t.patient_id, t.session_date;
        """;

    private const string Current = ObservationSql.IsCurrent;

    // Both read the page's patients by their id: the page drives the loop (DrivingJoin), so that
    // SQLite seeks each patient's rows instead of scanning one kind of every patient (the plan it
    // chose from the (kind, code, patient_id) index, which grew with the whole database).
    // The latest score is found per patient by walking that patient's scores backwards on the
    // (patient_id, kind, code, answered_at) index to the first current one, instead of numbering all of them.
    public string LatestPain { get; } = LatestPainOf(dialect, "AND l.qualifier = 'average7Days'") + ";";

    /// <summary>
    /// What is due reads: the questionnaires since the baseline window, and one current pain score (any
    /// recall) of this week, if there is one: the latest, found on the (patient_id, kind, code, answered_at)
    /// index as the latest score is. Not every score of the week, which a busy week would make many.
    /// </summary>
    public string Recent { get; } = $"""
        {QuestionnairesSince(dialect)}
        UNION ALL
        {LatestPainOf(dialect, "AND l.answered_at >= @PainFrom AND l.answered_at < @PainUntil")};
        """;

    /// <summary>
    /// Each patient's (of <c>@Ids</c>) latest current pain score meeting <paramref name="condition"/> (on the <c>l</c>
    /// alias), or none: found by walking the patient's scores backwards on the (patient_id, kind, code, answered_at)
    /// index to the first current one, instead of numbering all of them. Also the alert scan's.
    /// </summary>
    internal static string LatestPainOf(SqlDialect dialect, string condition) => $"""
        SELECT p.id AS patient_id, o.kind, o.code, o.qualifier, o.answered_at, o.value
        FROM patient p
        {dialect.DrivingJoin} observation o ON o.id = (
            SELECT l.id FROM observation l
            WHERE l.patient_id = p.id AND l.kind = 'painScore' AND l.code = 'pain_nrs' {condition}
              AND l.entered_in_error = 0 AND NOT EXISTS (SELECT 1 FROM observation s WHERE s.supersedes_id = l.id)
            ORDER BY l.answered_at DESC, l.id DESC
            {dialect.Limit("1")})
        WHERE p.id IN @Ids
        """;

    /// <summary>
    /// The current questionnaire responses of the patients of <c>@Ids</c> since <c>@From</c>. The kind is written as a
    /// list on purpose: with a plain equality SQLite's planner chose the covering (kind, code, patient_id, …) index
    /// and read every patient's questionnaires for each patient of the page (measured: 34 pages a second instead of
    /// hundreds); the list makes it seek (patient_id, kind) per patient. The plan is in bench/README. Also the alert scan's.
    /// </summary>
    internal static string QuestionnairesSince(SqlDialect dialect) => $"""
        SELECT o.patient_id, o.kind, o.code, o.qualifier, o.answered_at, o.value
        FROM patient p
        {dialect.DrivingJoin} observation o ON o.patient_id = p.id
        WHERE p.id IN @Ids AND o.kind IN ('questionnaire', 'questionnaire') AND o.answered_at >= @From AND {Current}
        """;

    /// <summary>
    /// Each patient's stored pain series (one packed row, kept by <c>SeriesRefresher</c>) with its tail, its
    /// build number and point counts, and whether it is stale, in one statement, so all come from one
    /// snapshot; a stale patient's scores are read instead.
    /// </summary>
    public string PainSeries { get; } = SeriesRows($"{StoredSeries.WholeText(dialect, "s")} AS points, t.points AS tail");

    /// <summary>
    /// <see cref="PainSeries"/> without the series' text: what a kept cycle state is advanced from when the points
    /// written since lie in the tail (the usual case), without reading the whole history.
    /// </summary>
    public string PainSeriesHeads { get; } = SeriesRows("t.points AS tail");

    private static string SeriesRows(string texts) => $"""
        SELECT p.id AS patient_id, (SELECT COUNT(*) FROM series_stale st WHERE st.patient_id = p.id) AS stale,
               s.build_number, s.point_count AS series_count, t.point_count AS tail_count, {texts}
        FROM patient p
        LEFT JOIN measure_series s ON s.patient_id = p.id AND s.kind = @Kind AND s.measure_key = @MeasureKey
        LEFT JOIN measure_series_tail t ON t.patient_id = p.id AND t.kind = @Kind AND t.measure_key = @MeasureKey
        WHERE p.id IN @Ids;
        """;

    /// <summary>The weekly pain scores since <c>@From</c> of the patients whose stored series is stale (just written to).</summary>
    public string PainScores { get; } = $"""
        SELECT o.patient_id, o.answered_at, o.value
        FROM patient p
        {dialect.DrivingJoin} observation o ON o.patient_id = p.id
        WHERE p.id IN @Ids AND o.kind = 'painScore' AND o.code = 'pain_nrs' AND o.qualifier = 'average7Days'
          AND o.answered_at >= @From AND o.value IS NOT NULL AND {Current}
        ORDER BY o.patient_id, o.answered_at, o.id;
        """;
}

internal sealed class PatientDateRow
{
    public long PatientId { get; init; }
    public DateOnly SessionDate { get; init; }
    public string Product { get; init; } = "";
    public decimal TotalUnits { get; init; }
}

internal sealed class PainSeriesRow
{
    public long PatientId { get; init; }
    public long Stale { get; init; }
    public long? BuildNumber { get; init; }
    public long? SeriesCount { get; init; }
    public long? TailCount { get; init; }
    public string? Points { get; init; }
    public string? Tail { get; init; }
}

internal sealed class PainScoreRow
{
    public long PatientId { get; init; }
    public DateTimeOffset AnsweredAt { get; init; }
    public decimal Value { get; init; }
}

internal sealed class PatientValueRow
{
    public long PatientId { get; init; }
    public string Kind { get; init; } = "";
    public string Code { get; init; } = "";
    public string? Qualifier { get; init; }
    public DateTimeOffset AnsweredAt { get; init; }
    public decimal Value { get; init; }
}

public static class PatientSummariesApi
{
    public static RouteHandlerBuilder MapPatientSummaries(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/v1/patients/summaries", ListSummaries)
            .WithTags("Patient outcomes")
            .RequireAuthorization(Policies.Clinician)
            .WithName("ListPatientSummaries")
            .WithSummary("The patient list with each patient's state at a glance")
            .WithDescription("Practitioners see their own site. Same filters and keyset paging as GET /patients; per patient the latest "
                + "pain score, the current cycle's pain response, weeks since the last session, serious side effects, open serious "
                + "alerts and what is due. "
                + "A fixed number of queries per page, whatever its size.");

    public static async Task<Results<Ok<Page<PatientSummary>>, ValidationProblem>> ListSummaries(
        [AsParameters] PatientListQuery query,
        HttpContext http, Database db, PatientSql patientSql, PatientSummarySql sql, Alerts.AlertSql alertSql, AuditLog audit,
        MeasureCatalog measures, PatientSummaryCache cache, PainCycleCache cycles, IOptions<OutcomesOptions> options, TimeProvider clock,
        CancellationToken ct)
    {
        var errors = PatientsApi.ValidateListQuery(query);
        if (!errors.IsEmpty)
        {
            return Problems.Invalid(errors);
        }
        var user = CurrentUser.From(http.User);
        await using var connection = await db.OpenAsync(ct);
        // The page carries each patient's change counter, read before anything else of theirs: a line
        // computed below from newer data is kept under an older counter (and computed again), never the reverse.
        var (rows, next) = await PatientsApi.ListPageAsync(connection, db, patientSql, user, query, ct);
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var lines = new Dictionary<long, PatientSummary>(rows.Count);
        var missing = new List<PatientRow>();
        foreach (var row in rows)
        {
            if (cache.TryGet(row.Id, row.ChangeGeneration, today, out var line))
            {
                lines[row.Id] = line;
            }
            else
            {
                missing.Add(row);
            }
        }
        if (missing.Count > 0)
        {
            var computed = await ComputeAsync(connection, db, patientSql, sql, alertSql, measures, cycles, options.Value.Rule, missing, today, ct);
            foreach (var row in missing)
            {
                lines[row.Id] = computed[row.Id];
                cache.Set(row.Id, row.ChangeGeneration, today, computed[row.Id]);
            }
        }

        await audit.AppendAsync(connection, AuditActions.List, "patient_summary", null, null, ct);
        return TypedResults.Ok(new Page<PatientSummary>([.. rows.Select(r => lines[r.Id])], Paging.IdCursor(next)));
    }

    /// <summary>The lines of some patients, from their records: a fixed number of queries, whatever their number.</summary>
    private static async Task<Dictionary<long, PatientSummary>> ComputeAsync(
        System.Data.Common.DbConnection connection, Database db, PatientSql patientSql, PatientSummarySql sql, Alerts.AlertSql alertSql,
        MeasureCatalog measures, PainCycleCache kept, BaselineRule rule, List<PatientRow> rows, DateOnly today, CancellationToken ct)
    {
        var patients = await PatientsApi.WithConditionsAsync(connection, db, patientSql, rows, ct);
        var ids = SqlLimits.Bounded(patients.Select(p => p.Id).ToArray());

        var sessionRows = (await connection.QueryAsync<PatientDateRow>(db.Command(sql.Sessions, new { Ids = ids }, ct))).ToList();
        var sessions = sessionRows.ToLookup(r => r.PatientId, r => r.SessionDate);
        var lastSessions = patients.ToDictionary(p => p.Id, p => sessions[p.Id].Cast<DateOnly?>().LastOrDefault());
        // Units per product in the sessions of the last 12 weeks, to set against the product's cumulative ceiling.
        var recentUnits = sessionRows.Where(r => r.SessionDate > today.AddDays(-SessionRules.CumulativeWindowDays) && r.SessionDate <= today)
            .ToLookup(r => r.PatientId);
        var latest = (await connection.QueryAsync<PatientValueRow>(db.Command(sql.LatestPain, new { Ids = ids }, ct)))
            .ToDictionary(r => r.PatientId);
        var since = patients.Min(p => DueSchedule.LookBackFrom(p.EnrolledOn, lastSessions[p.Id], today));
        var recent = (await connection.QueryAsync<PatientValueRow>(db.Command(sql.Recent, new
        {
            Ids = ids,
            From = new DateTimeOffset(since.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero),
            PainFrom = new DateTimeOffset(DueSchedule.WeekStart(today).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero),
            PainUntil = new DateTimeOffset(DueSchedule.WeekStart(today).AddDays(7).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero),
        }, ct))).ToLookup(r => r.PatientId);
        var cycles = await PainCyclesAsync(connection, db, sql, measures, kept, ids, lastSessions, rule, ct);

        var openAlerts = (await connection.QueryAsync<Alerts.OpenAlertsRow>(db.Command(alertSql.OpenSerious, new { Ids = ids }, ct)))
            .ToDictionary(r => r.PatientId, r => r.OpenAlerts);

        return patients.ToDictionary(p => p.Id, p =>
        {
            var mine = recent[p.Id].ToList();
            var lastSession = lastSessions[p.Id];
            var cycle = cycles.GetValueOrDefault(p.Id);
            var due = DueSchedule.Due(DueSchedule.InputFrom(today, p.EnrolledOn, p.Conditions, lastSession,
                mine.Select(r => (r.Kind == "painScore", r.Code, DateOnly.FromDateTime(r.AnsweredAt.UtcDateTime)))));
            var latestPain = latest.GetValueOrDefault(p.Id);
            return new PatientSummary(p.Id, p.ExternalReference, p.Conditions, latestPain?.Value, latestPain?.AnsweredAt,
                lastSession, lastSession is { } ls ? (today.DayNumber - ls.DayNumber) / 7 : null,
                cycle?.Status, cycle?.OnsetDays, p.SeriousSideEffects, p.SeriousWithdrawalsAwaitingReview, openAlerts.GetValueOrDefault(p.Id),
                [.. recentUnits[p.Id].GroupBy(r => r.Product).OrderBy(g => g.Key, StringComparer.Ordinal)
                    .Select(g => new ProductUnits(EnumCode<Product>.Parse(g.Key), g.Sum(r => r.TotalUnits), SessionRules.CeilingOf(EnumCode<Product>.Parse(g.Key)).Cumulative))],
                due);
        });
    }

    private static readonly MeasureDefinition _pain = new("pain_nrs", "Pain", Core.Instruments.Direction.HigherIsWorse, "score", 2m, 30m);

    /// <summary>
    /// The pain cycle of each patient's latest session (none without a session). From the stored series where
    /// it is current: advanced from the state kept for the patient by the points appended since, under the same
    /// build of the series and the same session (so its cost is what was written since, not what the cycle
    /// holds), else read from the baseline window's first day on; from the observations where a write has made
    /// the series stale. The same state every way (PainCycleStateTests). The patient list's status, and the alert
    /// scan's loss of response.
    /// </summary>
    internal static async Task<Dictionary<long, CycleState>> PainCyclesAsync(
        System.Data.Common.DbConnection connection, Database db, PatientSummarySql sql, MeasureCatalog measures, PainCycleCache kept,
        long[] ids, Dictionary<long, DateOnly?> sessions, BaselineRule rule, CancellationToken ct)
    {
        var (kind, key) = (await measures.ResolveAsync("pain_nrs", ct, connection))!.Source.SeriesKey();
        var cycles = new Dictionary<long, CycleState>(ids.Length);
        var stale = new List<long>();
        // First without the series' texts: a kept state whose new points all lie in the tail is advanced from the
        // tail alone. The rest (nothing kept, another build, a fold since) are read with their series.
        var needSeries = new List<long>();
        foreach (var row in await connection.QueryAsync<PainSeriesRow>(db.Command(sql.PainSeriesHeads, new { Ids = ids, Kind = kind, MeasureKey = key }, ct)))
        {
            if (sessions.GetValueOrDefault(row.PatientId) is not { } session)
            {
                continue;
            }
            if (row.Stale > 0)
            {
                stale.Add(row.PatientId);
            }
            else if (FromSeries(kept, row, session, rule, withSeriesText: row.SeriesCount is null) is { } state)
            {
                cycles[row.PatientId] = state;
            }
            else
            {
                needSeries.Add(row.PatientId);
            }
        }
        if (needSeries.Count > 0)
        {
            foreach (var row in await connection.QueryAsync<PainSeriesRow>(db.Command(sql.PainSeries, new { Ids = needSeries, Kind = kind, MeasureKey = key }, ct)))
            {
                // Marked in between: read from the observations below, as any stale patient.
                if (row.Stale > 0)
                {
                    stale.Add(row.PatientId);
                }
                else
                {
                    cycles[row.PatientId] = FromSeries(kept, row, sessions[row.PatientId]!.Value, rule, withSeriesText: true)!;
                }
            }
        }
        if (stale.Count > 0)
        {
            // From the earliest of their baseline windows: not the whole history.
            var from = stale.Min(id => rule.WindowStart(sessions[id]!.Value));
            var scores = (await connection.QueryAsync<PainScoreRow>(db.Command(sql.PainScores, new
            {
                Ids = stale,
                From = new DateTimeOffset(from.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero),
            }, ct))).ToLookup(r => r.PatientId);
            foreach (var id in stale)
            {
                // The state passes over the scores before the patient's own window.
                var state = new CycleState(_pain, sessions[id]!.Value, rule);
                state.AddRange(scores[id].Select(s => new Point(DateOnly.FromDateTime(s.AnsweredAt.UtcDateTime), s.Value)));
                cycles[id] = state;
            }
        }
        return cycles;
    }

    /// <summary>
    /// A patient's cycle from one row of the stored series (one snapshot): the kept state advanced by the points
    /// after those it read, or, with the series' text, read from the baseline window on; null when the row lacks
    /// the series' text that it needs. The state is kept for the next page.
    /// </summary>
    private static CycleState? FromSeries(PainCycleCache kept, PainSeriesRow row, DateOnly session, BaselineRule rule, bool withSeriesText)
    {
        var count = (row.SeriesCount ?? 0) + (row.TailCount ?? 0);
        CycleState state;
        if (kept.TryGet(row.PatientId, session, row.BuildNumber, count, out var before, out var read)
            && (withSeriesText || read >= (row.SeriesCount ?? 0)))
        {
            state = before;
            if (read < count)
            {
                state = before.Clone();
                state.AddRange(PointSeries.DecodeLast(withSeriesText ? row.Points : null, row.Tail, checked((int)(count - read))));
            }
        }
        else if (withSeriesText)
        {
            state = new CycleState(_pain, session, rule);
            state.AddRange(PointSeries.DecodeFrom(row.Points, row.Tail, rule.WindowStart(session)));
        }
        else
        {
            return null;
        }
        kept.Set(row.PatientId, row.BuildNumber, count, state);
        return state;
    }
}

/// <summary>The <c>PatientList</c> settings.</summary>
public sealed class PatientListOptions
{
    public const string Section = "PatientList";

    /// <summary>Patients whose computed line is kept in memory (about 1 KB each); 0 computes every line on every request.</summary>
    [System.ComponentModel.DataAnnotations.Range(0, 10_000_000)]
    public int CachedLines { get; set; } = 20_000;

    /// <summary>
    /// Patients whose current pain cycle state is kept in memory (about 300 bytes each), to be advanced by the
    /// scores written since rather than read again; 0 reads every line's cycle from its first day.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(0, 10_000_000)]
    public int CachedCycles { get; set; } = 20_000;
}

/// <summary>
/// The patient list's lines as last computed, each under the patient's change counter (<c>patient_change</c>,
/// bumped by a database trigger with every row that changes what the line shows) and the day it was
/// computed for (what is due and the weeks since the last session follow the calendar). A line is used
/// only when both match, so a write by any path or instance, or midnight, makes it computed again.
/// Bounded: at most <see cref="PatientListOptions.CachedLines"/> lines; past that, the cache drops the least recently used.
/// </summary>
public sealed class PatientSummaryCache : IDisposable
{
    private sealed record Line(long Generation, DateOnly Day, PatientSummary Summary);

    private readonly MemoryCache? _lines;

    public PatientSummaryCache(IOptions<PatientListOptions> options) =>
        _lines = options.Value.CachedLines > 0 ? new MemoryCache(new MemoryCacheOptions { SizeLimit = options.Value.CachedLines }) : null;

    public bool TryGet(long patientId, long generation, DateOnly day, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out PatientSummary? summary)
    {
        summary = _lines?.Get(patientId) is Line line && line.Generation == generation && line.Day == day ? line.Summary : null;
        return summary is not null;
    }

    public void Set(long patientId, long generation, DateOnly day, PatientSummary summary) =>
        _lines?.Set(patientId, new Line(generation, day, summary), new MemoryCacheEntryOptions { Size = 1 });

    /// <summary>For tests: forget every line.</summary>
    internal void Clear() => _lines?.Clear();

    public void Dispose() => _lines?.Dispose();
}

/// <summary>
/// Each patient's pain cycle of the latest session as last read for the patient list, with what it was read
/// from: the session, the stored series' build number (migration 0021) and how many points series and tail held
/// together. Under one build number a series only grows at its end (appended values, folded tails), so a state
/// read from its first points is advanced by the rest; another build (an amendment, a withdrawal, an
/// out-of-order value, a rebuild), another session or fewer points, and the state is read again.
/// Bounded: at most <see cref="PatientListOptions.CachedCycles"/> states; past that, the least recently used go.
/// A kept state is never changed: an advance works on a copy.
/// </summary>
public sealed class PainCycleCache : IDisposable
{
    private readonly KeptStates<long, CycleState> _states;

    public PainCycleCache(IOptions<PatientListOptions> options) => _states = new KeptStates<long, CycleState>(options.Value.CachedCycles);

    /// <summary>A state read from the first <paramref name="read"/> points of the same build, for the same session; not when the series holds fewer now.</summary>
    public bool TryGet(long patientId, DateOnly session, long? buildNumber, long points,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out CycleState? state, out long read) =>
        _states.TryGet(patientId, buildNumber, points, s => s.Session == session, out state, out read);

    public void Set(long patientId, long? buildNumber, long points, CycleState state) =>
        _states.Set(patientId, buildNumber, points, state, 1);

    /// <summary>For tests: forget every state.</summary>
    internal void Clear() => _states.Clear();

    public void Dispose() => _states.Dispose();
}

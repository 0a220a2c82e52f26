using System.Globalization;
using System.Runtime.CompilerServices;
using Dapper;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Observations;
using Outcomes.Api.Features.PatientOutcomes;
using Outcomes.Core.Clinic;
using Outcomes.Core.Cohorts;
using Outcomes.Core.Outcomes;

namespace Outcomes.Api.Features.Cohorts;

public sealed class CohortSql(SqlDialect dialect) : SqlTexts(dialect)
{
    // Patient-level filters, applied in SQL so that only the cohort's patients are read.
    private const string PatientFilter = """
        (@SiteId IS NULL OR p.site_id = @SiteId)
        AND (@Sex IS NULL OR p.sex = @Sex)
        AND (@Condition IS NULL OR EXISTS (SELECT 1 FROM patient_condition pc WHERE pc.patient_id = p.id AND pc.condition = @Condition))
        AND EXISTS (SELECT 1 FROM treatment_session t0 WHERE t0.patient_id = p.id)
        """;

    private const string Current = ObservationSql.IsCurrent;

    public string Patients { get; } = $"SELECT p.id, p.site_id, p.sex, p.birth_year FROM patient p WHERE {PatientFilter} ORDER BY p.id;";

    // The other streams take the cohort's patients as one list subquery, evaluated once.
    private const string InCohort = $"IN (SELECT p.id FROM patient p WHERE {PatientFilter})";

    public string Conditions { get; } = $"""
        SELECT c.patient_id, c.condition FROM patient_condition c
        WHERE c.patient_id {InCohort} ORDER BY c.patient_id;
        """;

    public string Sessions { get; } = $"""
        SELECT t.patient_id, t.session_date, t.practitioner_id, t.product, t.guidance, t.total_units
        FROM treatment_session t
        WHERE t.patient_id {InCohort} ORDER BY t.patient_id, t.session_date, t.id;
        """;

    public string Points { get; } = $"""
        SELECT o.patient_id, {dialect.UtcDay("o.answered_at")} AS day, o.value
        FROM observation o
        WHERE o.patient_id {InCohort} AND o.kind = @Kind AND o.code = @Code
          AND (@Qualifier IS NULL OR o.qualifier = @Qualifier) AND (@BodySide IS NULL OR o.body_side = @BodySide)
          AND o.value IS NOT NULL AND {Current}
        ORDER BY o.patient_id, o.answered_at;
        """;

    /// <summary>
    /// For response rates only: the measure's values in each session's baseline window or in its
    /// follow-up window, found from the sessions by index range (a few rows per session instead of
    /// every weekly score). Onset, loss and duration need them all (<see cref="Points"/>).
    /// </summary>
    public string WindowPoints { get; } = $"""
        SELECT w.patient_id, {dialect.UtcDay("w.answered_at")} AS day, w.value
        FROM ({Range(dialect, "BaselineFrom", "BaselineUntil")} UNION {Range(dialect, "WindowFrom", "WindowUntil")}) w
        WHERE (@Qualifier IS NULL OR w.qualifier = @Qualifier) AND (@BodySide IS NULL OR w.body_side = @BodySide)
          AND w.value IS NOT NULL AND w.entered_in_error = 0
          AND NOT EXISTS (SELECT 1 FROM observation s WHERE s.supersedes_id = w.id)
        ORDER BY w.patient_id, w.answered_at;
        """;

    /// <summary>The measure's rows in one day range around each cohort session, by index range seek from the session.</summary>
    private static string Range(SqlDialect dialect, string from, string until) => $"""
        SELECT o.id, o.patient_id, o.answered_at, o.value, o.qualifier, o.body_side, o.entered_in_error
        FROM treatment_session t
        {dialect.DrivingJoin} observation o ON o.patient_id = t.patient_id AND o.kind = @Kind AND o.code = @Code
            AND o.answered_at >= {dialect.AddDays("t.session_date", from)} AND o.answered_at < {dialect.AddDays("t.session_date", until)}
        WHERE t.patient_id {InCohort}
        """;

    public string SideEffects { get; } = $"""
        SELECT o.patient_id, {dialect.UtcDay("o.answered_at")} AS day, o.serious
        FROM observation o
        WHERE o.patient_id {InCohort} AND o.kind = 'sideEffect' AND {Current}
        ORDER BY o.patient_id;
        """;
}

internal sealed class CohortPatientRow
{
    public long Id { get; init; }
    public long SiteId { get; init; }
    public string Sex { get; init; } = "";
    public int BirthYear { get; init; }
}

internal sealed class CohortConditionRow
{
    public long PatientId { get; init; }
    public string Condition { get; init; } = "";
}

internal sealed class CohortSessionRow
{
    public long PatientId { get; init; }
    public DateOnly SessionDate { get; init; }
    public long PractitionerId { get; init; }
    public string Product { get; init; } = "";
    public string Guidance { get; init; } = "";
    public decimal TotalUnits { get; init; }
}

internal sealed class CohortPointRow
{
    public long PatientId { get; init; }
    public DateOnly Day { get; init; }
    public decimal Value { get; init; }
}

internal sealed class CohortSideEffectRow
{
    public long PatientId { get; init; }
    public DateOnly Day { get; init; }
    public bool Serious { get; init; }
}

/// <summary>
/// Streams a cohort one patient at a time: five ordered, unbuffered queries (patients, conditions,
/// sessions, the measure's current values, side effects), merged on patient id, so memory holds one
/// patient's history, never the cohort's observations.
/// </summary>
public sealed class CohortReader(Database db, CohortSql sql)
{
    /// <param name="windows">When given, only the values in each session's baseline window and this
    /// follow-up window are read: enough for response rates, a fraction of the rows.</param>
    public async IAsyncEnumerable<PatientHistory> ReadAsync(
        CohortFilter filter, MeasureSource measure, (BaselineRule Baseline, FollowUpWindow Window)? windows,
        [EnumeratorCancellation] CancellationToken ct)
    {
        var patientParameters = new
        {
            filter.SiteId,
            Sex = filter.Sex is { } sex ? EnumCode<Sex>.Of(sex) : null,
            Condition = filter.Condition is { } c ? EnumCode<Condition>.Of(c) : null,
        };
        var pointParameters = new DynamicParameters(new
        {
            patientParameters.SiteId,
            patientParameters.Sex,
            patientParameters.Condition,
            Kind = EnumCode<ObservationKind>.Of(measure.Kind),
            measure.Code,
            measure.Qualifier,
            measure.BodySide,
        });
        if (windows is var (baseline, window))
        {
            // Half-open day ranges: [session - baseline days, session + 1) and [window start, window end + 1).
            Days(pointParameters, "BaselineFrom", -baseline.WindowDays);
            Days(pointParameters, "BaselineUntil", 1);
            Days(pointParameters, "WindowFrom", window.Week * 7 - window.EarlyDays);
            Days(pointParameters, "WindowUntil", window.Week * 7 + window.LateDays + 1);
        }

        await using var c1 = await db.OpenAsync(ct);
        await using var c2 = await db.OpenAsync(ct);
        await using var c3 = await db.OpenAsync(ct);
        await using var c4 = await db.OpenAsync(ct);
        await using var c5 = await db.OpenAsync(ct);
        await using var conditions = new Merge<CohortConditionRow>(c2.QueryUnbufferedAsync<CohortConditionRow>(sql.Conditions, patientParameters, commandTimeout: db.CommandTimeoutSeconds), r => r.PatientId, ct);
        await using var sessions = new Merge<CohortSessionRow>(c3.QueryUnbufferedAsync<CohortSessionRow>(sql.Sessions, patientParameters, commandTimeout: db.CommandTimeoutSeconds), r => r.PatientId, ct);
        await using var points = new Merge<CohortPointRow>(c4.QueryUnbufferedAsync<CohortPointRow>(windows is null ? sql.Points : sql.WindowPoints, pointParameters, commandTimeout: db.CommandTimeoutSeconds), r => r.PatientId, ct);
        await using var effects = new Merge<CohortSideEffectRow>(c5.QueryUnbufferedAsync<CohortSideEffectRow>(sql.SideEffects, patientParameters, commandTimeout: db.CommandTimeoutSeconds), r => r.PatientId, ct);

        await foreach (var p in c1.QueryUnbufferedAsync<CohortPatientRow>(sql.Patients, patientParameters, commandTimeout: db.CommandTimeoutSeconds).WithCancellation(ct))
        {
            var patient = new CohortPatient(p.Id, p.SiteId, EnumCode<Sex>.Parse(p.Sex), p.BirthYear,
                [.. (await conditions.TakeAsync(p.Id)).Select(r => EnumCode<Condition>.Parse(r.Condition))]);
            yield return new PatientHistory(
                patient,
                [.. (await sessions.TakeAsync(p.Id)).Select(s => new CohortSession(s.SessionDate, s.PractitionerId,
                    EnumCode<Product>.Parse(s.Product), EnumCode<Guidance>.Parse(s.Guidance), s.TotalUnits))],
                [.. (await points.TakeAsync(p.Id)).Select(r => new Point(r.Day, r.Value))],
                [.. (await effects.TakeAsync(p.Id)).Select(r => new SideEffectReport(r.Day, r.Serious))]);
        }
    }

    private static void Days(DynamicParameters parameters, string name, int days)
    {
        parameters.Add($"{name}Modifier", string.Create(CultureInfo.InvariantCulture, $"{days:+0;-0;+0} days"));
        parameters.Add($"{name}Days", days);
    }

    /// <summary>An ordered stream read in step with the patient stream.</summary>
    private sealed class Merge<T>(IAsyncEnumerable<T> source, Func<T, long> key, CancellationToken ct) : IAsyncDisposable
    {
        private readonly IAsyncEnumerator<T> _rows = source.GetAsyncEnumerator(ct);
        private bool _started;
        private bool _has;

        public async Task<List<T>> TakeAsync(long patientId)
        {
            if (!_started)
            {
                _has = await _rows.MoveNextAsync();
                _started = true;
            }
            while (_has && key(_rows.Current) < patientId)
            {
                _has = await _rows.MoveNextAsync();
            }
            var taken = new List<T>();
            while (_has && key(_rows.Current) == patientId)
            {
                taken.Add(_rows.Current);
                _has = await _rows.MoveNextAsync();
            }
            return taken;
        }

        public ValueTask DisposeAsync() => _rows.DisposeAsync();
    }
}

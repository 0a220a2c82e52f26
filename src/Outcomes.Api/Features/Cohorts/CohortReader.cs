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
    private static readonly string _patientFilter = $"""
        (@SiteId IS NULL OR p.site_id = @SiteId)
        AND (@Sex IS NULL OR p.sex = @Sex)
        AND (@Condition IS NULL OR EXISTS (SELECT 1 FROM patient_condition_current pc WHERE pc.patient_id = p.id AND pc.condition = @Condition))
        AND EXISTS (SELECT 1 FROM treatment_session t0 WHERE t0.patient_id = p.id AND {TreatmentSessions.TreatmentSessionSql.IsCurrent("t0")})
        """;

    private const string Current = ObservationSql.IsCurrent;

    // Patients as currently recorded (corrections applied: migration 0012).
    public string Patients { get; } = $"SELECT p.id, p.site_id, p.sex, p.birth_year FROM patient_current p WHERE {_patientFilter} ORDER BY p.id;";

    // The other streams take the cohort's patients as one list subquery, evaluated once.
    private static readonly string _inCohort = $"IN (SELECT p.id FROM patient_current p WHERE {_patientFilter})";

    public string Conditions { get; } = $"""
        SELECT c.patient_id, c.condition FROM patient_condition_current c
        WHERE c.patient_id {_inCohort} ORDER BY c.patient_id;
        """;

    /// <summary>
    /// The measure's current values, one packed row per patient (<see cref="SeriesRefresher"/> keeps
    /// them current), instead of one row per weekly score.
    /// </summary>
    public string Series { get; } = $"""
        SELECT s.patient_id, s.point_count, s.points
        FROM measure_series s
        WHERE s.kind = @Kind AND s.measure_key = @MeasureKey AND s.patient_id {_inCohort}
        ORDER BY s.patient_id;
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

internal sealed class CohortSeriesRow
{
    public long PatientId { get; init; }
    public int PointCount { get; init; }
    public string Points { get; init; } = "";
}

/// <summary>
/// Streams a cohort one patient at a time: five ordered, unbuffered queries (patients, conditions,
/// the session series, the measure's series, the side-effect series), merged on patient id, so memory holds one
/// patient's history, never the cohort's observations. Stale series are rebuilt first, on the primary;
/// the streams are read where analytics read (<see cref="Database.OpenAnalyticsAsync"/>), a replica
/// if one is configured, which answers as of its own, slightly older, committed state.
/// </summary>
public sealed class CohortReader(Database db, CohortSql sql, SeriesRefresher series)
{
    public async IAsyncEnumerable<PatientHistory> ReadAsync(
        CohortFilter filter, MeasureSource measure, [EnumeratorCancellation] CancellationToken ct)
    {
        await series.RefreshAsync(ct);
        var patientParameters = new
        {
            filter.SiteId,
            Sex = filter.Sex is { } sex ? EnumCode<Sex>.Of(sex) : null,
            Condition = filter.Condition is { } c ? EnumCode<Condition>.Of(c) : null,
        };
        var (kind, measureKey) = measure.SeriesKey();

        await using var c1 = await db.OpenAnalyticsAsync(ct);
        await using var c2 = await db.OpenAnalyticsAsync(ct);
        await using var c3 = await db.OpenAnalyticsAsync(ct);
        await using var c4 = await db.OpenAnalyticsAsync(ct);
        await using var c5 = await db.OpenAnalyticsAsync(ct);
        // One stored series per patient, of the given kind, for the cohort's patients.
        Merge<CohortSeriesRow> Series(System.Data.Common.DbConnection connection, string seriesKind, string key) =>
            new(connection.QueryUnbufferedAsync<CohortSeriesRow>(sql.Series, new
            {
                patientParameters.SiteId, patientParameters.Sex, patientParameters.Condition, Kind = seriesKind, MeasureKey = key,
            }, commandTimeout: db.CommandTimeoutSeconds), r => r.PatientId, ct);
        await using var conditions = new Merge<CohortConditionRow>(c2.QueryUnbufferedAsync<CohortConditionRow>(sql.Conditions, patientParameters, commandTimeout: db.CommandTimeoutSeconds), r => r.PatientId, ct);
        await using var sessions = Series(c3, StoredSeries.SessionKind, StoredSeries.SessionKey);
        await using var points = Series(c4, kind, measureKey);
        await using var effects = Series(c5, StoredSeries.SideEffectKind, StoredSeries.SideEffectKey);

        await foreach (var p in c1.QueryUnbufferedAsync<CohortPatientRow>(sql.Patients, patientParameters, commandTimeout: db.CommandTimeoutSeconds).WithCancellation(ct))
        {
            var patient = new CohortPatient(p.Id, p.SiteId, EnumCode<Sex>.Parse(p.Sex), p.BirthYear,
                [.. (await conditions.TakeAsync(p.Id)).Select(r => EnumCode<Condition>.Parse(r.Condition))]);
            var seriesRows = await points.TakeAsync(p.Id);
            var effectRows = await effects.TakeAsync(p.Id);
            var sessionRows = await sessions.TakeAsync(p.Id);
            yield return new PatientHistory(
                patient,
                sessionRows.Count == 0 ? [] : SessionSeries.Decode(sessionRows[0].Points),
                seriesRows.Count == 0 ? [] : PointSeries.Decode(seriesRows[0].Points, seriesRows[0].PointCount),
                effectRows.Count == 0 ? [] : [.. PointSeries.Decode(effectRows[0].Points, effectRows[0].PointCount).Select(e => new SideEffectReport(e.Day, e.Value == 1))]);
        }
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

using System.Runtime.CompilerServices;
using Dapper;
using Microsoft.Extensions.Options;
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
    /// The cohort's patients, each with its change counter (<c>patient_change</c>, 0 before any change),
    /// read before anything else of the cohort so that what is read afterwards is at least as new.
    /// </summary>
    public string Generations { get; } = $"""
        SELECT p.id AS patient_id, COALESCE(c.generation, 0) AS generation
        FROM patient_current p
        LEFT JOIN patient_change c ON c.patient_id = p.id
        WHERE {_patientFilter}
        ORDER BY p.id;
        """;

    // The same streams for a list of patients (those whose computed cycles are not kept).
    public string PatientsByIds { get; } = "SELECT p.id, p.site_id, p.sex, p.birth_year FROM patient_current p WHERE p.id IN @Ids ORDER BY p.id;";

    public string ConditionsByIds { get; } = "SELECT c.patient_id, c.condition FROM patient_condition_current c WHERE c.patient_id IN @Ids ORDER BY c.patient_id;";

    public string SeriesByIds { get; } = $"""
        SELECT {SeriesColumns(StoredSeries.WholeText(dialect, "s"))}
        WHERE s.kind = @Kind AND s.measure_key = @MeasureKey AND s.patient_id IN @Ids
        ORDER BY s.patient_id;
        """;

    /// <summary><see cref="SeriesByIds"/> with only the open segment's last <c>@EndCharacters</c> characters (see <see cref="SeriesEnds"/>).</summary>
    public string SeriesEndsByIds { get; } = $"""
        SELECT {SeriesColumns(End(dialect))}
        WHERE s.kind = @Kind AND s.measure_key = @MeasureKey AND s.patient_id IN @Ids
        ORDER BY s.patient_id;
        """;

    // A series with its tail (the points appended since it was last folded, migration 0020), in one statement so both are of one snapshot.
    private static string SeriesColumns(string points) => $"""
        s.patient_id, s.build_number, s.point_count, {points} AS points, t.point_count AS tail_count, t.points AS tail
        FROM measure_series s
        LEFT JOIN measure_series_tail t ON t.patient_id = s.patient_id AND t.kind = s.kind AND t.measure_key = s.measure_key
        """;

    /// <summary>
    /// The measure's current values, one packed row per patient (<see cref="SeriesRefresher"/> keeps
    /// them current), instead of one row per weekly score.
    /// </summary>
    public string Series { get; } = $"""
        SELECT {SeriesColumns(StoredSeries.WholeText(dialect, "s"))}
        WHERE s.kind = @Kind AND s.measure_key = @MeasureKey AND s.patient_id {_inCohort}
        ORDER BY s.patient_id;
        """;

    /// <summary>
    /// <see cref="Series"/> with only the last <c>@EndCharacters</c> characters of each series' open segment (all of a
    /// shorter one; migration 0022), and its tail: enough for a patient whose progress is kept, to which only the points
    /// appended since are new, unless a fold closed the segment they went to (then the series is read whole).
    /// </summary>
    public string SeriesEnds { get; } = $"""
        SELECT {SeriesColumns(End(dialect))}
        WHERE s.kind = @Kind AND s.measure_key = @MeasureKey AND s.patient_id {_inCohort}
        ORDER BY s.patient_id;
        """;

    private static string End(SqlDialect dialect) =>
        dialect.Provider == DatabaseProvider.SqlServer ? "RIGHT(s.points, @EndCharacters)" : "substr(s.points, -@EndCharacters)";
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
    public long BuildNumber { get; init; }
    public int PointCount { get; init; }
    public string Points { get; init; } = "";
    public int? TailCount { get; init; }
    public string? Tail { get; init; }

    public List<Point> Decoded() => PointSeries.Decode(Points, Tail, PointCount + (TailCount ?? 0));
}

/// <summary>
/// Streams a cohort one patient at a time: five ordered, unbuffered queries (patients, conditions,
/// the session series, the measure's series, the side-effect series), merged on patient id, so memory holds one
/// patient's history, never the cohort's observations. Stale series are rebuilt first, on the primary;
/// the streams are read where analytics read (<see cref="Database.OpenAnalyticsAsync"/>), a replica
/// if one is configured, which answers as of its own, slightly older, committed state.
/// With a scope whose progress is kept (<see cref="CohortProgressCache"/>), the measure's series are read as their
/// last characters only (<see cref="CohortSql.SeriesEnds"/>): a patient whose kept progress read the series up to
/// points that lie there gets the points after them and that progress (<see cref="PatientHistory.Before"/>), never the
/// rest of the series; any other patient's series is read whole, by id.
/// </summary>
public sealed class CohortReader(Database db, CohortSql sql, SeriesRefresher series, CohortProgressCache progress, IOptions<CohortOptions> options)
{
    /// <param name="kept">The scope to read the measure's series' ends for (see the class); null reads them whole.</param>
    public async IAsyncEnumerable<PatientHistory> ReadAsync(
        CohortFilter filter, MeasureSource measure, CohortCycleCache.Scope? kept, [EnumeratorCancellation] CancellationToken ct)
    {
        await series.RefreshAsync(ct);
        var patientParameters = PatientParameters.Of(filter);
        var (kind, measureKey) = measure.SeriesKey();
        var endCharacters = options.Value.SeriesEndCharacters;

        await using var c1 = await db.OpenAnalyticsAsync(ct);
        await using var c2 = await db.OpenAnalyticsAsync(ct);
        await using var c3 = await db.OpenAnalyticsAsync(ct);
        await using var c4 = await db.OpenAnalyticsAsync(ct);
        await using var c5 = await db.OpenAnalyticsAsync(ct);
        // One stored series per patient, of the given kind, for the cohort's patients.
        Merge<CohortSeriesRow> Series(System.Data.Common.DbConnection connection, string text, string seriesKind, string key) =>
            new(connection.QueryUnbufferedAsync<CohortSeriesRow>(text, new
            {
                patientParameters.SiteId, patientParameters.Sex, patientParameters.Condition, Kind = seriesKind, MeasureKey = key,
                EndCharacters = endCharacters,
            }, commandTimeout: db.CommandTimeoutSeconds), r => r.PatientId, ct);
        await using var conditions = new Merge<CohortConditionRow>(c2.QueryUnbufferedAsync<CohortConditionRow>(sql.Conditions, patientParameters, commandTimeout: db.CommandTimeoutSeconds), r => r.PatientId, ct);
        await using var sessions = Series(c3, sql.Series, StoredSeries.SessionKind, StoredSeries.SessionKey);
        await using var points = Series(c4, kept is null ? sql.Series : sql.SeriesEnds, kind, measureKey);
        await using var effects = Series(c5, sql.Series, StoredSeries.SideEffectKind, StoredSeries.SideEffectKey);
        // For the series whose end does not do, opened at the first.
        System.Data.Common.DbConnection? whole = null;
        try
        {
            await foreach (var p in c1.QueryUnbufferedAsync<CohortPatientRow>(sql.Patients, patientParameters, commandTimeout: db.CommandTimeoutSeconds).WithCancellation(ct))
            {
                var history = History(p, await conditions.TakeAsync(p.Id), await sessions.TakeAsync(p.Id), await effects.TakeAsync(p.Id));
                if (FromRow(history, (await points.TakeAsync(p.Id)).FirstOrDefault(), kept, endCharacters) is { } read)
                {
                    yield return read;
                }
                else
                {
                    whole ??= await db.OpenAnalyticsAsync(ct);
                    var rows = await whole.QueryAsync<CohortSeriesRow>(db.Command(sql.SeriesByIds, new { Ids = new[] { p.Id }, Kind = kind, MeasureKey = measureKey }, ct));
                    yield return WithSeries(history, rows.FirstOrDefault());
                }
            }
        }
        finally
        {
            if (whole is not null)
            {
                await whole.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// The cohort's patients with their change counters, in patient order. Read on the primary and before the
    /// series are refreshed, so every history read afterwards is at least as new as the counter beside it.
    /// </summary>
    public async Task<List<(long PatientId, long Generation)>> GenerationsAsync(CohortFilter filter, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        var rows = await connection.QueryAsync<(long, long)>(db.Command(sql.Generations, PatientParameters.Of(filter), ct));
        return rows.AsList();
    }

    /// <summary>The histories of the given patients (a few: those whose computed cycles are not kept), in patient order.</summary>
    /// <param name="kept">As for <see cref="ReadAsync"/>.</param>
    public async IAsyncEnumerable<PatientHistory> ReadByIdsAsync(
        IReadOnlyList<long> patientIds, MeasureSource measure, CohortCycleCache.Scope? kept, [EnumeratorCancellation] CancellationToken ct)
    {
        await series.RefreshAsync(ct);
        var (kind, measureKey) = measure.SeriesKey();
        var endCharacters = options.Value.SeriesEndCharacters;
        await using var connection = await db.OpenAnalyticsAsync(ct);
        foreach (var chunk in patientIds.Order().Chunk(SqlLimits.MaxListItems))
        {
            var ids = SqlLimits.Bounded(chunk);
            async Task<Dictionary<long, CohortSeriesRow>> SeriesAsync(string text, IEnumerable<long> of, string seriesKind, string key) =>
                (await connection.QueryAsync<CohortSeriesRow>(db.Command(text, new { Ids = of, Kind = seriesKind, MeasureKey = key, EndCharacters = endCharacters }, ct)))
                    .ToDictionary(r => r.PatientId);
            var patients = await connection.QueryAsync<CohortPatientRow>(db.Command(sql.PatientsByIds, new { Ids = ids }, ct));
            var conditions = (await connection.QueryAsync<CohortConditionRow>(db.Command(sql.ConditionsByIds, new { Ids = ids }, ct))).ToLookup(r => r.PatientId);
            var sessions = await SeriesAsync(sql.SeriesByIds, ids, StoredSeries.SessionKind, StoredSeries.SessionKey);
            var points = await SeriesAsync(kept is null ? sql.SeriesByIds : sql.SeriesEndsByIds, ids, kind, measureKey);
            var effects = await SeriesAsync(sql.SeriesByIds, ids, StoredSeries.SideEffectKind, StoredSeries.SideEffectKey);
            var histories = new List<PatientHistory>();
            var wanting = new List<int>();
            foreach (var p in patients)
            {
                var history = History(p, [.. conditions[p.Id]], [.. OneOf(sessions, p.Id)], [.. OneOf(effects, p.Id)]);
                if (FromRow(history, points.GetValueOrDefault(p.Id), kept, endCharacters) is { } read)
                {
                    histories.Add(read);
                }
                else
                {
                    histories.Add(history);
                    wanting.Add(histories.Count - 1);
                }
            }
            if (wanting.Count > 0)
            {
                var whole = await SeriesAsync(sql.SeriesByIds, SqlLimits.Bounded([.. wanting.Select(i => histories[i].Patient.Id)]), kind, measureKey);
                foreach (var i in wanting)
                {
                    histories[i] = WithSeries(histories[i], whole.GetValueOrDefault(histories[i].Patient.Id));
                }
            }
            foreach (var history in histories)
            {
                yield return history;
            }
        }
    }

    private static IEnumerable<CohortSeriesRow> OneOf(Dictionary<long, CohortSeriesRow> rows, long patientId) =>
        rows.TryGetValue(patientId, out var row) ? [row] : [];

    /// <summary>The patient-level filters every cohort statement takes, as the database stores them.</summary>
    private sealed record PatientParameters(long? SiteId, string? Sex, string? Condition)
    {
        public static PatientParameters Of(CohortFilter filter) => new(
            filter.SiteId,
            filter.Sex is { } sex ? EnumCode<Sex>.Of(sex) : null,
            filter.Condition is { } c ? EnumCode<Condition>.Of(c) : null);
    }

    /// <summary>A patient's history without the measure's values (see <see cref="WithSeries"/> and <see cref="FromEnd"/>).</summary>
    private static PatientHistory History(
        CohortPatientRow p, List<CohortConditionRow> conditions, List<CohortSeriesRow> sessionRows, List<CohortSeriesRow> effectRows) =>
        new(new CohortPatient(p.Id, p.SiteId, EnumCode<Sex>.Parse(p.Sex), p.BirthYear, [.. conditions.Select(r => EnumCode<Condition>.Parse(r.Condition))]),
            sessionRows.Count == 0 ? [] : SessionSeries.Decode(sessionRows[0].Points),
            [],
            effectRows.Count == 0 ? [] : [.. effectRows[0].Decoded().Select(e => new SideEffectReport(e.Day, e.Value == 1))]);

    private long _fromEnd;
    private long _whole;

    /// <summary>How many measure series were read as their ends and how many whole since the start (for tests).</summary>
    internal (long FromEnd, long Whole) SeriesReads => (Interlocked.Read(ref _fromEnd), Interlocked.Read(ref _whole));

    /// <summary>The history with every value of the measure's series, read whole (none when the patient has no series).</summary>
    private PatientHistory WithSeries(PatientHistory history, CohortSeriesRow? row)
    {
        if (row is null)
        {
            return history;
        }
        Interlocked.Increment(ref _whole);
        return history with { Points = row.Decoded(), SeriesBuild = row.BuildNumber };
    }

    /// <summary>
    /// The history with the measure's values from the row the stream read: the whole series (no scope), or its end
    /// (<see cref="FromEnd"/>); null when the end does not do and the series must be read whole.
    /// </summary>
    private PatientHistory? FromRow(PatientHistory history, CohortSeriesRow? row, CohortCycleCache.Scope? kept, int endCharacters) =>
        kept is null ? WithSeries(history, row) : FromEnd(history, row, kept, endCharacters);

    /// <summary>
    /// The history from the end of the measure's series (<paramref name="row"/>, read with <see cref="CohortSql.SeriesEnds"/>):
    /// the points after those the kept progress read, with it; null when no progress is kept for this build and these
    /// sessions, or the points after it are not all in the end read, or not in day order after it (the series is read whole).
    /// </summary>
    private PatientHistory? FromEnd(PatientHistory history, CohortSeriesRow? row, CohortCycleCache.Scope scope, int endCharacters)
    {
        if (row is null)
        {
            return history;
        }
        var count = row.PointCount + (row.TailCount ?? 0);
        if (!progress.TryKept(history.Patient.Id, scope, history.Sessions, row.BuildNumber, count, out var before, out var read)
            || !PointSeries.TryDecodeLast(PointSeries.WholePairsOf(row.Points, whole: row.Points.Length < endCharacters), row.Tail, checked((int)(count - read)), out var added)
            || !PointSeries.InDayOrder(added, after: before.LastDay))
        {
            return null;
        }
        Interlocked.Increment(ref _fromEnd);
        return history with { Points = added, SeriesBuild = row.BuildNumber, Before = before };
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

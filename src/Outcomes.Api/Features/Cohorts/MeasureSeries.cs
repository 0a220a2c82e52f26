using Dapper;
using Microsoft.Extensions.Options;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Observations;
using Outcomes.Api.Features.PatientOutcomes;
using Outcomes.Core.Clinic;
using Outcomes.Core.Cohorts;
using Outcomes.Core.Outcomes;

namespace Outcomes.Api.Features.Cohorts;

public sealed class SeriesSql(SqlDialect dialect) : SqlTexts(dialect)
{
    public string Stale { get; } = "SELECT patient_id, generation FROM series_stale ORDER BY patient_id;";

    /// <summary>The current observations of some patients (every measure, and side effects), in the order answered.</summary>
    public string CurrentValues { get; } = $"""
        SELECT o.id, o.patient_id, o.kind, o.code, o.qualifier, o.body_side, o.answered_at, o.value, o.serious
        FROM observation o
        WHERE o.patient_id IN @Ids AND (o.kind = 'sideEffect' OR o.value IS NOT NULL) AND {ObservationSql.IsCurrent}
        ORDER BY o.patient_id, o.answered_at, o.id;
        """;

    public string Sessions { get; } = $"""
        SELECT t.patient_id, t.session_date, t.practitioner_id, t.product, t.guidance, t.total_units
        FROM treatment_session t
        WHERE t.patient_id IN @Ids AND {TreatmentSessions.TreatmentSessionSql.IsCurrent("t")}
        ORDER BY t.patient_id, t.session_date, t.id;
        """;

    public string DeleteSeries { get; } = """
        DELETE FROM measure_series_tail WHERE patient_id IN @Ids;
        DELETE FROM measure_series_segment WHERE series_id IN (SELECT id FROM measure_series WHERE patient_id IN @Ids);
        DELETE FROM measure_series WHERE patient_id IN @Ids;
        """;

    /// <summary>How many tails have at least <c>@MinPoints</c> points: those the next fold takes.</summary>
    public string TailCount { get; } = "SELECT COUNT(*) FROM measure_series_tail WHERE point_count >= @MinPoints;";

    /// <summary>
    /// Folds every tail of at least <c>@MinPoints</c> points (the points appended since, migration 0020)
    /// into its series' open segment, and closes each open segment that then holds <c>@SegmentPoints</c> points or
    /// more (migration 0022: moved whole into the next closed segment, the open one left empty), in the write
    /// transaction of <see cref="SeriesRefresher"/>; shorter tails stay, and every reader reads a series with its
    /// tail. A fold thus rewrites at most an open segment and a tail, however long the history. SQLite has one
    /// writer, so no append lands between the statements; on SQL Server the tail table is locked for the
    /// transaction, so an append waits and then starts a new tail.
    /// </summary>
    public string FoldTails { get; } = dialect.Provider == DatabaseProvider.SqlServer
        ? """
          UPDATE m SET points = CASE WHEN m.points = '' THEN t.points ELSE m.points + '|' + t.points END,
                       point_count = m.point_count + t.point_count, last_observation_id = t.last_observation_id
          FROM measure_series m
          JOIN measure_series_tail t WITH (TABLOCKX, HOLDLOCK) ON t.patient_id = m.patient_id AND t.kind = m.kind AND t.measure_key = m.measure_key
          WHERE t.point_count >= @MinPoints;
          INSERT INTO measure_series_segment (series_id, seq, point_count, points)
          SELECT m.id, (SELECT COUNT(*) FROM measure_series_segment g WHERE g.series_id = m.id), m.point_count - m.closed_count, m.points
          FROM measure_series m
          JOIN measure_series_tail t ON t.patient_id = m.patient_id AND t.kind = m.kind AND t.measure_key = m.measure_key
          WHERE t.point_count >= @MinPoints AND m.point_count - m.closed_count >= @SegmentPoints;
          UPDATE m SET closed_count = m.point_count, points = ''
          FROM measure_series m
          JOIN measure_series_tail t ON t.patient_id = m.patient_id AND t.kind = m.kind AND t.measure_key = m.measure_key
          WHERE t.point_count >= @MinPoints AND m.point_count - m.closed_count >= @SegmentPoints;
          DELETE FROM measure_series_tail WHERE point_count >= @MinPoints;
          """
        : """
          UPDATE measure_series
          SET points = CASE WHEN measure_series.points = '' THEN t.points ELSE measure_series.points || '|' || t.points END,
              point_count = measure_series.point_count + t.point_count,
              last_observation_id = t.last_observation_id
          FROM measure_series_tail t
          WHERE t.patient_id = measure_series.patient_id AND t.kind = measure_series.kind AND t.measure_key = measure_series.measure_key
            AND t.point_count >= @MinPoints;
          INSERT INTO measure_series_segment (series_id, seq, point_count, points)
          SELECT m.id, (SELECT COUNT(*) FROM measure_series_segment g WHERE g.series_id = m.id), m.point_count - m.closed_count, m.points
          FROM measure_series m
          JOIN measure_series_tail t ON t.patient_id = m.patient_id AND t.kind = m.kind AND t.measure_key = m.measure_key
          WHERE t.point_count >= @MinPoints AND m.point_count - m.closed_count >= @SegmentPoints;
          UPDATE measure_series
          SET closed_count = measure_series.point_count, points = ''
          FROM measure_series_tail t
          WHERE t.patient_id = measure_series.patient_id AND t.kind = measure_series.kind AND t.measure_key = measure_series.measure_key
            AND t.point_count >= @MinPoints AND measure_series.point_count - measure_series.closed_count >= @SegmentPoints;
          DELETE FROM measure_series_tail WHERE point_count >= @MinPoints;
          """;

    /// <summary>Takes the next build number (migration 0021), in the rebuild's write transaction, for the series it writes.</summary>
    public string NextBuild { get; } = "UPDATE series_build SET number = number + 1 WHERE id = 1;";

    /// <summary>
    /// Writes a rebuilt series under the build number just taken (<see cref="NextBuild"/>): its open segment
    /// (<c>@Points</c>), the points after the <c>@ClosedCount</c> of its closed segments (<see cref="InsertSegment"/>).
    /// </summary>
    public string InsertSeries { get; } = """
        INSERT INTO measure_series (patient_id, kind, measure_key, point_count, closed_count, points, last_observation_id, build_number)
        SELECT @PatientId, @Kind, @MeasureKey, @PointCount, @ClosedCount, @Points, @LastObservationId, b.number FROM series_build b WHERE b.id = 1;
        """;

    /// <summary>Writes one closed segment of a series just written by <see cref="InsertSeries"/> (migration 0022).</summary>
    public string InsertSegment { get; } = """
        INSERT INTO measure_series_segment (series_id, seq, point_count, points)
        SELECT m.id, @Seq, @PointCount, @Points FROM measure_series m
        WHERE m.patient_id = @PatientId AND m.kind = @Kind AND m.measure_key = @MeasureKey;
        """;

    /// <summary>Clears a mark only if no observation of the patient was written since it was read.</summary>
    public string ClearStale { get; } = "DELETE FROM series_stale WHERE patient_id = @PatientId AND generation = @Generation;";

    public string StaleCount { get; } = "SELECT COUNT(*) FROM series_stale;";

    /// <summary>
    /// Takes the refresh lease for this connection's session: at most one instance rebuilds series at
    /// a time, whichever process it runs in. Answers 0 or 1 when granted, a negative number when not
    /// within <c>@TimeoutMs</c>. SQL Server: an application lock (<c>sp_getapplock</c>), released with
    /// the session if the process dies. SQLite admits one writer at a time and its processes share
    /// nothing else, so the process-local lock is all there is: granted at once.
    /// </summary>
    public string TakeRefreshLease { get; } = dialect.Provider == DatabaseProvider.SqlServer
        ? """
          DECLARE @result INT;
          EXEC @result = sp_getapplock @Resource = @Resource, @LockMode = 'Exclusive', @LockOwner = 'Session', @LockTimeout = @TimeoutMs;
          SELECT @result;
          """
        : "SELECT 0 WHERE @Resource IS NOT NULL OR @TimeoutMs IS NOT NULL;";

    public string ReleaseRefreshLease { get; } = dialect.Provider == DatabaseProvider.SqlServer
        ? "EXEC sp_releaseapplock @Resource = @Resource, @LockOwner = 'Session';"
        : "SELECT 0 WHERE @Resource IS NOT NULL;";
}

/// <summary>Another instance held the refresh lease for longer than the command timeout (answered as 503).</summary>
public sealed class SeriesRefreshBusyException()
    : Exception("Another instance is rebuilding the measure series; the lease did not come within the command timeout.");

internal sealed class StaleRow
{
    public long PatientId { get; init; }
    public long Generation { get; init; }
}

/// <summary>A closed segment of a rebuilt series, as <see cref="SeriesSql.InsertSegment"/> writes it.</summary>
internal sealed record SegmentRow(long PatientId, string Kind, string MeasureKey, int Seq, int PointCount, string Points);

/// <summary>A measure value with its patient: the same row, and the same day, as one patient's outcomes read.</summary>
internal sealed class PatientPointRow : PointRow
{
    public long Id { get; init; }

    public long PatientId { get; init; }

    public bool Serious { get; init; }
}

/// <summary>The <c>Cohorts:Series</c> settings.</summary>
public sealed class SeriesOptions
{
    /// <summary>Seconds between background rebuilds of stale series; 0 leaves them to the next cohort query.</summary>
    [System.ComponentModel.DataAnnotations.Range(0, 86400)]
    public int RefreshSeconds { get; set; } = 30;

    /// <summary>
    /// A refresh folds a series' tail (its appended points) into the series once the tail holds this
    /// many points; shorter tails stay where they are, read with their series. At 128 points a tail is
    /// about 2 KB, within one database page, so an append stays a small write; 1 folds every tail.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(1, 100_000)]
    public int FoldAtPoints { get; set; } = 128;

    /// <summary>
    /// A series' open segment is closed once it holds this many points (migration 0022), so that a fold rewrites at
    /// most this many points and a tail however long the history; a rebuild writes closed segments of exactly this
    /// many. At 1,024 points an open segment is at most about 14 KB; a whole series is read as its closed segments
    /// and the open one joined.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(1, 1_000_000)]
    public int SegmentPoints { get; set; } = 1024;
}

/// <summary>
/// Keeps <c>measure_series</c> current: one row per patient and measure holding its current values,
/// so that a cohort reads one row per patient instead of every weekly score. Every observation
/// insert either appends to its series or marks its patient stale, in the writer's transaction (a
/// database trigger, so no write path can forget it; migrations 0018 and 0020): a new value that comes
/// after the series' last point is appended to the series' tail row (folded into the series' open segment by
/// <see cref="RefreshAsync"/> once the tail is long, the open segment closed once it is long, migration 0022: so that
/// neither a write nor a refresh rewrites a long series), anything else (an amendment, a withdrawal, an out-of-order
/// value, a measure's first value, a session) marks. <see cref="RefreshAsync"/> rebuilds the marked patients from the observations
/// and clears each mark only if no write came in meanwhile. A rebuild writes its series under the next build number
/// (migration 0021), so that a reader which keeps something computed from a series knows it only grew since. Cohort queries refresh first, so they
/// never read a stale series; a background loop refreshes too, so that they rarely have work to do.
/// </summary>
public sealed class SeriesRefresher(Database db, SeriesSql sql, IOptions<SeriesOptions> options, ILogger<SeriesRefresher> logger) : IDisposable
{
    /// <summary>Patients rebuilt per transaction: keeps the write lock short and the id list under SQL Server's parameter limit.</summary>
    internal const int BatchSize = 250;

    private readonly SemaphoreSlim _one = new(1, 1);

    /// <summary>For tests: runs between a batch's read and its write, where a concurrent write can land.</summary>
    internal Func<Task>? AfterRead { get; set; }

    public void Dispose() => _one.Dispose();

    /// <summary>The name of the lease that instances take before rebuilding (<see cref="SeriesSql.TakeRefreshLease"/>).</summary>
    internal const string LeaseResource = "outcomes:series-refresh";

    /// <summary>
    /// Rebuilds every stale series; returns how many patients it rebuilt, or null when
    /// <paramref name="wait"/> is false and another instance holds the lease (it is doing the work).
    /// One refresh at a time in this process, and one at a time across instances, so that no patient
    /// is rebuilt twice at once and two rebuilds never lock against each other.
    /// </summary>
    /// <exception cref="SeriesRefreshBusyException">Waiting, and the lease did not come within the command timeout.</exception>
    public async Task<int?> RefreshAsync(CancellationToken ct, bool wait = true)
    {
        if (!await _one.WaitAsync(wait ? Timeout.InfiniteTimeSpan : TimeSpan.Zero, ct))
        {
            return null;
        }
        try
        {
            await using var connection = await db.OpenAsync(ct);
            var lease = new { Resource = LeaseResource, TimeoutMs = wait ? db.CommandTimeoutSeconds * 1000 : 0 };
            if (await connection.ExecuteScalarAsync<int>(db.Command(sql.TakeRefreshLease, lease, ct)) < 0)
            {
                return wait ? throw new SeriesRefreshBusyException() : null;
            }
            try
            {
                var stale = (await connection.QueryAsync<StaleRow>(db.Command(sql.Stale, null, ct))).AsList();
                for (var i = 0; i < stale.Count; i += BatchSize)
                {
                    await RebuildAsync(connection, stale.GetRange(i, Math.Min(BatchSize, stale.Count - i)), ct);
                }
                if (stale.Count > 0)
                {
                    logger.LogInformation("Rebuilt the measure series of {Patients} patients", stale.Count);
                }
                await FoldTailsAsync(connection, ct);
                return stale.Count;
            }
            finally
            {
                // Not the request's token: the lease must go back even when the request was cancelled.
                await connection.ExecuteAsync(db.Command(sql.ReleaseRefreshLease, new { Resource = LeaseResource }, CancellationToken.None));
            }
        }
        finally
        {
            _one.Release();
        }
    }

    /// <summary>
    /// Folds the long tails into their series (<see cref="SeriesOptions.FoldAtPoints"/>): a fold rewrites the
    /// series' open segment (at most <see cref="SeriesOptions.SegmentPoints"/> points, <see cref="SeriesSql.FoldTails"/>),
    /// so a tail folded once it is long costs each append a share of one short rewrite, however long the history.
    /// </summary>
    private async Task FoldTailsAsync(System.Data.Common.DbConnection connection, CancellationToken ct)
    {
        var parameters = new { MinPoints = options.Value.FoldAtPoints, options.Value.SegmentPoints };
        if (await connection.ExecuteScalarAsync<long>(db.Command(sql.TailCount, parameters, ct)) == 0)
        {
            return;
        }
        using var writeTurn = await db.EnterWriteAsync(connection, ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync(db.Command(sql.FoldTails, parameters, ct, tx));
        await tx.CommitAsync(ct);
    }

    private async Task RebuildAsync(System.Data.Common.DbConnection connection, List<StaleRow> batch, CancellationToken ct)
    {
        var ids = SqlLimits.Bounded(batch.ConvertAll(r => r.PatientId).ToArray());
        // Read outside the write transaction: a write that commits after this read bumps the
        // patient's generation, so the conditional clear below leaves the mark for the next round.
        var values = await connection.QueryAsync<PatientPointRow>(db.Command(sql.CurrentValues, new { Ids = ids }, ct));
        // One series per measure; side effects as one more, each report's value 1 when serious, else 0.
        var segmentPoints = options.Value.SegmentPoints;
        var segments = new List<SegmentRow>();
        var series = values
            .GroupBy(v => (v.PatientId, v.Kind, Key: v.Kind == StoredSeries.SideEffectKind ? StoredSeries.SideEffectKey : MeasureCatalog.KeyOf(v.Kind, v.Code, v.Qualifier, v.BodySide)!))
            .Select(g =>
            {
                var points = g.Select(v => v.Kind == StoredSeries.SideEffectKind ? v.ToPoint() with { Value = v.Serious ? 1 : 0 } : v.ToPoint()).ToList();
                // Closed segments of exactly SegmentPoints points, the rest open (migration 0022).
                var closed = points.Count / segmentPoints * segmentPoints;
                for (var from = 0; from < closed; from += segmentPoints)
                {
                    segments.Add(new SegmentRow(g.Key.PatientId, g.Key.Kind, g.Key.Key, from / segmentPoints, segmentPoints,
                        PointSeries.Encode(points.GetRange(from, segmentPoints))));
                }
                // The last point's observation: a new value after it is appended by the database's trigger (migration 0018).
                return new
                {
                    g.Key.PatientId, g.Key.Kind, MeasureKey = g.Key.Key, PointCount = points.Count, ClosedCount = closed,
                    Points = PointSeries.Encode(points.GetRange(closed, points.Count - closed)), LastObservationId = (long?)g.Last().Id,
                };
            })
            .ToList();
        var sessions = await connection.QueryAsync<CohortSessionRow>(db.Command(sql.Sessions, new { Ids = ids }, ct));
        foreach (var g in sessions.GroupBy(r => r.PatientId))
        {
            var packed = g.Select(r => new CohortSession(r.SessionDate, r.PractitionerId, EnumCode<Product>.Parse(r.Product),
                EnumCode<Guidance>.Parse(r.Guidance), r.TotalUnits)).ToList();
            series.Add(new
            {
                PatientId = g.Key, Kind = StoredSeries.SessionKind, MeasureKey = StoredSeries.SessionKey, PointCount = packed.Count,
                ClosedCount = 0, Points = SessionSeries.Encode(packed), LastObservationId = (long?)null,
            });
        }
        if (AfterRead is { } hook)
        {
            await hook();
        }

        using var writeTurn = await db.EnterWriteAsync(connection, ct);

        await using var tx = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync(db.Command(sql.DeleteSeries, new { Ids = ids }, ct, tx));
        if (series.Count > 0)
        {
            await connection.ExecuteAsync(db.Command(sql.NextBuild, null, ct, tx));
            await connection.ExecuteAsync(db.Command(sql.InsertSeries, series, ct, tx));
            if (segments.Count > 0)
            {
                await connection.ExecuteAsync(db.Command(sql.InsertSegment, segments, ct, tx));
            }
        }
        await connection.ExecuteAsync(db.Command(sql.ClearStale, batch, ct, tx));
        await tx.CommitAsync(ct);
    }
}

/// <summary>Refreshes the measure series every <see cref="SeriesOptions.RefreshSeconds"/> seconds.</summary>
public sealed class SeriesRefreshLoop(SeriesRefresher refresher, IOptions<SeriesOptions> options, ILogger<SeriesRefreshLoop> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.RefreshSeconds <= 0)
        {
            return;
        }
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.RefreshSeconds));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                // Without waiting: if another instance holds the lease, it is doing this round's work.
                await refresher.RefreshAsync(stoppingToken, wait: false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The next cohort query refreshes before it reads; a failed background round loses nothing.
                logger.LogWarning(e, "Background refresh of the measure series failed");
            }
        }
    }
}

/// <summary>The kinds and keys of the series that are not measures.</summary>
public static class StoredSeries
{
    /// <summary>A patient's side-effect reports: day, and 1 for a serious one (<see cref="PointSeries"/>).</summary>
    public static readonly string SideEffectKind = EnumCode<ObservationKind>.Of(ObservationKind.SideEffect);

    public const string SideEffectKey = "sideEffect";

    /// <summary>A patient's treatment sessions (<see cref="SessionSeries"/>).</summary>
    public const string SessionKind = "session";

    public const string SessionKey = "session";

    /// <summary>
    /// The whole text of the stored series aliased <paramref name="alias"/> (migration 0022): its closed segments in
    /// order, then its open segment (<c>points</c>), joined by <c>|</c>, in the same statement and so of one snapshot;
    /// just the open segment when nothing is closed (short series, sessions); null when the alias is a missing
    /// outer-joined row.
    /// </summary>
    internal static string WholeText(SqlDialect dialect, string alias) => dialect.Provider == DatabaseProvider.SqlServer
        ? $"""
           CASE WHEN {alias}.closed_count = 0 THEN {alias}.points
                ELSE (SELECT STRING_AGG(g.points, '|') WITHIN GROUP (ORDER BY g.seq) FROM measure_series_segment g WHERE g.series_id = {alias}.id)
                     + CASE WHEN {alias}.points = '' THEN '' ELSE '|' + {alias}.points END END
           """
        : $"""
           CASE WHEN {alias}.closed_count = 0 THEN {alias}.points
                ELSE (SELECT group_concat(g.points, '|' ORDER BY g.seq) FROM measure_series_segment g WHERE g.series_id = {alias}.id)
                     || CASE WHEN {alias}.points = '' THEN '' ELSE '|' || {alias}.points END END
           """;
}

public static class MeasureSourceKeys
{
    /// <summary>The kind and measure key under which a measure's series is stored.</summary>
    public static (string Kind, string MeasureKey) SeriesKey(this MeasureSource source)
    {
        var kind = EnumCode<ObservationKind>.Of(source.Kind);
        return (kind, MeasureCatalog.KeyOf(kind, source.Code, source.Qualifier, source.BodySide)
            ?? throw new InvalidOperationException("Side effects have no series."));
    }
}

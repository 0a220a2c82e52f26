using System.ComponentModel;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Audit;
using Outcomes.Api.Features.Cohorts;
using Outcomes.Api.Features.Observations;
using Outcomes.Api.Features.Patients;
using Outcomes.Api.Infrastructure;
using Outcomes.Core.Clinic;
using Outcomes.Core.Instruments;
using Outcomes.Core.Outcomes;

namespace Outcomes.Api.Features.PatientOutcomes;

/// <summary>A treatment session on the trend's time axis.</summary>
public sealed record SessionMark(long Id, DateOnly Date, Product Product, Guidance Guidance, decimal TotalUnits);

/// <param name="Weekly">True when <paramref name="Series"/> holds ISO-week means (pain), false for single values.</param>
/// <param name="Cycles">Per cycle, the least-squares slope per week with its 95% interval and the number of points.</param>
public sealed record TrendResponse(
    string Measure,
    string Name,
    string? Unit,
    Direction Direction,
    bool Weekly,
    IReadOnlyList<SeriesPoint> Series,
    IReadOnlyList<SessionMark> Sessions,
    IReadOnlyList<CycleTrend> Cycles);

public sealed record MeasureOutcomes(
    string Measure,
    string Name,
    string? Unit,
    Direction Direction,
    decimal? ImportantChange,
    decimal? ImportantChangePercent,
    IReadOnlyList<CycleOutcome> Cycles);

/// <param name="Today">The day (UTC) windows were judged against.</param>
/// <param name="Baseline">The baseline rule in force.</param>
public sealed record OutcomesResponse(long PatientId, DateOnly Today, BaselineRule Baseline, IReadOnlyList<SessionMark> Sessions, IReadOnlyList<MeasureOutcomes> Measures);

public sealed class PatientOutcomesSql(SqlDialect dialect) : SqlTexts(dialect)
{
    public string Sessions { get; } = $"""
        SELECT t.id, t.session_date, t.product, t.guidance, t.total_units FROM treatment_session t
        WHERE t.patient_id = @PatientId AND {TreatmentSessions.TreatmentSessionSql.IsCurrent("t")}
        ORDER BY t.session_date, t.id;
        """;

    private const string Current = ObservationSql.IsCurrent;

    public string MeasurePoints { get; } = $"""
        SELECT o.answered_at, o.value
        FROM observation o
        WHERE o.patient_id = @PatientId AND o.kind = @Kind AND o.code = @Code
          AND (@Qualifier IS NULL OR o.qualifier = @Qualifier)
          AND (@BodySide IS NULL OR o.body_side = @BodySide)
          AND o.value IS NOT NULL AND {Current}
        ORDER BY o.answered_at, o.id;
        """;

    public string AllPoints { get; } = $"""
        SELECT o.kind, o.code, o.qualifier, o.body_side, o.answered_at, o.value
        FROM observation o
        WHERE o.patient_id = @PatientId AND o.kind <> 'sideEffect' AND o.value IS NOT NULL AND {Current}
        ORDER BY o.answered_at, o.id;
        """;

    /// <summary>
    /// Whether the patient's stored series are stale (see <c>SeriesRefresher</c>), and one measure's
    /// stored series: the same points <see cref="MeasurePoints"/> reads. One statement, so both come
    /// from one snapshot.
    /// </summary>
    public string StoredPoints { get; } = """
        SELECT (SELECT COUNT(*) FROM series_stale WHERE patient_id = @PatientId) AS stale,
               (SELECT points FROM measure_series WHERE patient_id = @PatientId AND kind = @Kind AND measure_key = @MeasureKey) AS points,
               (SELECT points FROM measure_series_tail WHERE patient_id = @PatientId AND kind = @Kind AND measure_key = @MeasureKey) AS tail;
        """;

    /// <summary>
    /// Whether the series are stale, on every row, and every measure's stored series: the same points
    /// <see cref="AllPoints"/> reads, grouped by measure. At least one row (with no measure when the
    /// patient has no stored series).
    /// </summary>
    public string AllStoredPoints { get; } = $"""
        SELECT s.stale, m.measure_key, m.points, t.points AS tail
        FROM (SELECT COUNT(*) AS stale FROM series_stale WHERE patient_id = @PatientId) s
        LEFT JOIN measure_series m ON m.patient_id = @PatientId
            AND m.kind NOT IN ('{StoredSeries.SessionKind}', '{StoredSeries.SideEffectKind}')
        LEFT JOIN measure_series_tail t ON t.patient_id = m.patient_id AND t.kind = m.kind AND t.measure_key = m.measure_key;
        """;
}

internal sealed class StoredPointsRow
{
    public long Stale { get; init; }

    public string? MeasureKey { get; init; }

    public string? Points { get; init; }

    /// <summary>The points appended since the series was last folded (migration 0020), or null.</summary>
    public string? Tail { get; init; }
}

internal sealed class SessionRow
{
    public long Id { get; init; }
    public DateOnly SessionDate { get; init; }
    public string Product { get; init; } = "";
    public string Guidance { get; init; } = "";
    public decimal TotalUnits { get; init; }

    public SessionMark ToMark() =>
        new(Id, SessionDate, EnumCode<Product>.Parse(Product), EnumCode<Guidance>.Parse(Guidance), TotalUnits);
}

internal class PointRow
{
    public string Kind { get; init; } = "";
    public string Code { get; init; } = "";
    public string? Qualifier { get; init; }
    public string? BodySide { get; init; }
    public DateTimeOffset AnsweredAt { get; init; }
    public decimal Value { get; init; }

    public Point ToPoint() => new(DateOnly.FromDateTime(AnsweredAt.UtcDateTime), Value);
}

public static class PatientOutcomesApi
{
    public static RouteGroupBuilder MapPatientOutcomes(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/patients/{patientId:long}").WithTags("Patient outcomes")
            .RequireAuthorization(Policies.PatientRecord);

        group.MapGet("/trend", GetTrend)
            .WithName("GetTrend")
            .WithSummary("One measure's series with the treatment sessions and each cycle's slope")
            .WithDescription("The patient, practitioners of the patient's site, and admins. Pain is aggregated per ISO week (UTC); "
                + "other measures are single values. Current versions only.");

        group.MapGet("/trend.png", GetTrendPng)
            .Produces(StatusCodes.Status200OK, contentType: "image/png")
            .WithName("GetTrendPng")
            .WithSummary("A measure's trend as a PNG chart")
            .WithDescription("The measure's series (pain as weekly means) with sessions marked and each cycle's baseline and its 30% and 50% "
                + "improvement lines (below the baseline where lower is better, above it where higher is). Same access as the JSON.");

        group.MapGet("/trend.svg", GetTrendSvg)
            .Produces(StatusCodes.Status200OK, contentType: "image/svg+xml")
            .WithName("GetTrendSvg")
            .WithSummary("A measure's trend as an SVG chart")
            .WithDescription("As the PNG, in SVG.");

        group.MapGet("/outcomes", GetOutcomes)
            .WithName("GetOutcomes")
            .WithSummary("Per treatment cycle and measure: baseline, follow-up windows, change, responders, onset, loss, duration")
            .WithDescription("The patient, practitioners of the patient's site, and admins. Every measure the patient has values for, "
                + "or one (measure), and every cycle or the latest few (cycles). Weeks 2, 6, 12 and 24 (3 days early, 7 days late); "
                + "responder at 30% and 50% relief and the measure's important change, direction-aware; a cycle without a baseline "
                + "says so. Compressed (br, gzip) for clients that accept it.");

        return group;
    }

    public static async Task<Results<Ok<TrendResponse>, ValidationProblem, NotFoundProblem>> GetTrend(
        [Description("The patient's id.")] long patientId,
        [Description("Measure key: pain_nrs (default), an instrument code, a movement code, or ppt:{muscle}:{side}.")] string? measure,
        HttpContext http, OutcomesReader reader, CancellationToken ct)
    {
        var result = await reader.TrendAsync(CurrentUser.From(http.User), patientId, measure ?? "pain_nrs", ct);
        return result switch
        {
            { Trend: { } trend } => TypedResults.Ok(trend),
            { UnknownMeasure: true } => Problems.Invalid("measure", $"'{measure}' is not a measure key"),
            _ => Problems.NotFound("patient"),
        };
    }

    public static async Task<Results<FileContentHttpResult, ValidationProblem, NotFoundProblem>> GetTrendPng(
        [Description("The patient's id.")] long patientId,
        [Description("Measure key, as for the JSON trend: pain_nrs (default), an instrument code, a movement code, or ppt:{muscle}:{side}.")] string? measure,
        HttpContext http, OutcomesReader reader, CancellationToken ct) =>
        await ChartAsync(patientId, measure, http, reader, TrendChart.Format.Png, ct);

    public static async Task<Results<FileContentHttpResult, ValidationProblem, NotFoundProblem>> GetTrendSvg(
        [Description("The patient's id.")] long patientId,
        [Description("Measure key, as for the JSON trend.")] string? measure,
        HttpContext http, OutcomesReader reader, CancellationToken ct) =>
        await ChartAsync(patientId, measure, http, reader, TrendChart.Format.Svg, ct);

    private static async Task<Results<FileContentHttpResult, ValidationProblem, NotFoundProblem>> ChartAsync(
        long patientId, string? measure, HttpContext http, OutcomesReader reader, TrendChart.Format format, CancellationToken ct)
    {
        var result = await reader.TrendAsync(CurrentUser.From(http.User), patientId, measure ?? "pain_nrs", ct, withCycles: true);
        return result switch
        {
            { Trend: { } trend, Cycles: { } cycles } => Chart(trend, cycles, format),
            { UnknownMeasure: true } => Problems.Invalid("measure", $"'{measure}' is not a measure key"),
            _ => Problems.NotFound("patient"),
        };
    }

    private static FileContentHttpResult Chart(TrendResponse trend, IReadOnlyList<CycleOutcome> cycles, TrendChart.Format format)
    {
        var (bytes, contentType) = TrendChart.Render(trend, cycles, format);
        return TypedResults.File(bytes, contentType);
    }

    public static async Task<Results<Ok<OutcomesResponse>, ValidationProblem, NotFoundProblem>> GetOutcomes(
        [Description("The patient's id.")] long patientId,
        [Description("Only this measure (a measure key, as for the trend); every measure when left out.")] string? measure,
        [Description("Only the latest this many cycles, 1 to 1000 (each still judged against its own next session); every cycle when left out.")] int? cycles,
        HttpContext http, OutcomesReader reader, CancellationToken ct)
    {
        if (cycles is not null and not (>= 1 and <= 1000))
        {
            return Problems.Invalid("cycles", "must be 1 to 1000");
        }
        var result = await reader.OutcomesAsync(CurrentUser.From(http.User), patientId, ct, measure, cycles);
        return result switch
        {
            { UnknownMeasure: true } => Problems.Invalid("measure", "is not a measure key"),
            { Outcomes: { } outcomes } => TypedResults.Ok(outcomes),
            _ => Problems.NotFound("patient"),
        };
    }
}

/// <param name="Cycles">With <c>withCycles</c>: the measure's outcomes per cycle, from the same values as the trend.</param>
public sealed record TrendResult(TrendResponse? Trend, bool UnknownMeasure = false, IReadOnlyList<CycleOutcome>? Cycles = null);

public sealed record OutcomesResult(OutcomesResponse? Outcomes, bool UnknownMeasure = false);

/// <summary>Reads one patient's values (and nobody else's) and hands them to the Core computations.</summary>
public sealed class OutcomesReader(
    Database db, PatientOutcomesSql sql, PatientAccess access, AuditLog audit, MeasureCatalog measures,
    IOptions<OutcomesOptions> options, TimeProvider clock)
{
    /// <param name="withCycles">Also the measure's outcomes per cycle (the chart's baseline lines), from the values read once.</param>
    public async Task<TrendResult> TrendAsync(CurrentUser user, long patientId, string key, CancellationToken ct, bool withCycles = false)
    {
        await using var connection = await db.OpenAsync(ct);
        if (await access.SiteOrRefuseAsync(connection, user, patientId, AuditActions.Read, "trend", ct) is null)
        {
            return new TrendResult(null);
        }
        if (await measures.ResolveAsync(key, ct, connection) is not { } measure)
        {
            return new TrendResult(null, UnknownMeasure: true);
        }
        var sessions = await SessionsAsync(connection, patientId, ct);
        var points = await PointsAsync(connection, patientId, measure.Source, ct);
        var dates = sessions.Select(s => s.Date).ToList();
        await audit.AppendAsync(connection, AuditActions.Read, "trend", key, patientId, ct);
        var d = measure.Definition;
        return new TrendResult(
            new TrendResponse(d.Key, d.Name, d.Unit, d.Direction, measure.Weekly,
                measure.Weekly ? Trends.Weekly(points) : Trends.Daily(points), sessions, Trends.PerCycle(dates, points, measure.Weekly)),
            Cycles: withCycles ? CycleOutcomes.Compute(d, dates, points, Today(), options.Value.Rule) : null);
    }

    /// <param name="only">One measure key, or null for every measure the patient has.</param>
    /// <param name="latest">The latest this many cycles, or null for all.</param>
    public async Task<OutcomesResult> OutcomesAsync(CurrentUser user, long patientId, CancellationToken ct, string? only = null, int? latest = null)
    {
        await using var connection = await db.OpenAsync(ct);
        if (await access.SiteOrRefuseAsync(connection, user, patientId, AuditActions.Read, "outcomes", ct) is null)
        {
            return new OutcomesResult(null);
        }
        var sessions = await SessionsAsync(connection, patientId, ct);
        var dates = sessions.Select(s => s.Date).ToList();
        IEnumerable<(string Key, List<Point> Points)> byMeasure;
        if (only is not null)
        {
            if (await measures.ResolveAsync(only, ct, connection) is not { } one)
            {
                return new OutcomesResult(null, UnknownMeasure: true);
            }
            var points = await PointsAsync(connection, patientId, one.Source, ct);
            byMeasure = points.Count == 0 ? [] : [(one.Definition.Key, points)];
        }
        else
        {
            byMeasure = (await AllPointsAsync(connection, patientId, ct))
                .OrderBy(m => m.Key == "pain_nrs" ? 0 : 1).ThenBy(m => m.Key, StringComparer.Ordinal);
        }
        var today = Today();
        var results = new List<MeasureOutcomes>();
        foreach (var (key, points) in byMeasure)
        {
            if (await measures.ResolveAsync(key, ct, connection) is not { } measure)
            {
                continue;
            }
            var d = measure.Definition;
            var cycles = CycleOutcomes.Compute(d, dates, points, today, options.Value.Rule);
            results.Add(new MeasureOutcomes(d.Key, d.Name, d.Unit, d.Direction, d.ImportantChange, d.ImportantChangePercent,
                latest is { } n && cycles.Count > n ? [.. cycles.Skip(cycles.Count - n)] : cycles));
        }
        await audit.AppendAsync(connection, AuditActions.Read, "outcomes", only, patientId, ct);
        var marks = latest is { } m && sessions.Count > m ? [.. sessions.Skip(sessions.Count - m)] : sessions;
        return new OutcomesResult(new OutcomesResponse(patientId, today, options.Value.Rule, marks, results));
    }

    private DateOnly Today() => DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);

    private async Task<List<SessionMark>> SessionsAsync(System.Data.Common.DbConnection connection, long patientId, CancellationToken ct) =>
        [.. (await connection.QueryAsync<SessionRow>(db.Command(sql.Sessions, new { PatientId = patientId }, ct))).Select(r => r.ToMark())];

    /// <summary>
    /// One measure's current values: one stored row when the patient's series are current, else
    /// (right after a write, until the next rebuild) every value from the observations.
    /// </summary>
    private async Task<List<Point>> PointsAsync(System.Data.Common.DbConnection connection, long patientId, MeasureSource source, CancellationToken ct)
    {
        var (kind, measureKey) = source.SeriesKey();
        var stored = await connection.QuerySingleAsync<StoredPointsRow>(
            db.Command(sql.StoredPoints, new { PatientId = patientId, Kind = kind, MeasureKey = measureKey }, ct));
        if (stored.Stale == 0)
        {
            return PointSeries.Decode(stored.Points, stored.Tail);
        }
        return [.. (await connection.QueryAsync<PointRow>(db.Command(sql.MeasurePoints, new
        {
            PatientId = patientId,
            Kind = EnumCode<ObservationKind>.Of(source.Kind),
            source.Code,
            source.Qualifier,
            source.BodySide,
        }, ct))).Select(r => r.ToPoint())];
    }

    /// <summary>Every measure's current values by measure key, from the stored series when current (as <see cref="PointsAsync"/>).</summary>
    private async Task<List<(string Key, List<Point> Points)>> AllPointsAsync(System.Data.Common.DbConnection connection, long patientId, CancellationToken ct)
    {
        var stored = (await connection.QueryAsync<StoredPointsRow>(db.Command(sql.AllStoredPoints, new { PatientId = patientId }, ct))).AsList();
        if (stored[0].Stale == 0)
        {
            return [.. stored.Where(r => r.MeasureKey is not null).Select(r => (r.MeasureKey!, PointSeries.Decode(r.Points, r.Tail)))];
        }
        var rows = await connection.QueryAsync<PointRow>(db.Command(sql.AllPoints, new { PatientId = patientId }, ct));
        return [.. rows.GroupBy(r => MeasureCatalog.KeyOf(r.Kind, r.Code, r.Qualifier, r.BodySide))
            .Where(g => g.Key is not null)
            .Select(g => (g.Key!, g.Select(r => r.ToPoint()).ToList()))];
    }
}

using System.ComponentModel;
using System.Text.Json;
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

    /// <summary>What a kept trend or outcomes answer must have been computed under (<see cref="AnswerGenerations"/>).</summary>
    public string AnswerGenerations { get; } = """
        SELECT COALESCE((SELECT c.generation FROM patient_change c WHERE c.patient_id = @PatientId), 0) AS patient_generation,
               COALESCE((SELECT MAX(i.id) FROM instrument i), 0) AS instrument_generation;
        """;

    private const string OneMeasure = "m.kind = @Kind AND m.measure_key = @MeasureKey";

    private static string EveryMeasure => $"m.kind NOT IN ('{StoredSeries.SessionKind}', '{StoredSeries.SideEffectKind}')";

    /// <summary>
    /// Whether the patient's stored series are stale (see <c>SeriesRefresher</c>), and one measure's stored series
    /// (the same points <see cref="MeasurePoints"/> reads) with its tail, build number and point counts: one row,
    /// from one snapshot (the series' columns null when the patient has none of the measure).
    /// </summary>
    public string StoredPoints { get; } = SeriesRows(OneMeasure, $"{StoredSeries.WholeText(dialect, "m")} AS points, t.points AS tail");

    /// <summary><see cref="StoredPoints"/> without the series' text: what a kept progress is advanced from when its new points lie in the tail.</summary>
    public string StoredHeads { get; } = SeriesRows(OneMeasure, "t.points AS tail");

    /// <summary>
    /// As <see cref="StoredPoints"/>, for every measure the patient has a stored series of (the same points
    /// <see cref="AllPoints"/> reads, grouped by measure); at least one row, with no measure when there is none.
    /// </summary>
    public string AllStoredPoints { get; } = SeriesRows(EveryMeasure, $"{StoredSeries.WholeText(dialect, "m")} AS points, t.points AS tail");

    /// <summary><see cref="AllStoredPoints"/> without the series' texts.</summary>
    public string AllStoredHeads { get; } = SeriesRows(EveryMeasure, "t.points AS tail");

    private static string SeriesRows(string measures, string texts) => $"""
        SELECT s.stale, m.kind, m.measure_key, m.build_number, m.point_count AS series_count, t.point_count AS tail_count, {texts}
        FROM (SELECT COUNT(*) AS stale FROM series_stale WHERE patient_id = @PatientId) s
        LEFT JOIN measure_series m ON m.patient_id = @PatientId AND {measures}
        LEFT JOIN measure_series_tail t ON t.patient_id = m.patient_id AND t.kind = m.kind AND t.measure_key = m.measure_key;
        """;
}

internal sealed class StoredPointsRow
{
    public long Stale { get; init; }

    public string? Kind { get; init; }

    public string? MeasureKey { get; init; }

    public long? BuildNumber { get; init; }

    public long? SeriesCount { get; init; }

    public long? TailCount { get; init; }

    /// <summary>The series' text; null from the heads statements.</summary>
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

    public static async Task<Results<JsonOk<TrendResponse>, ValidationProblem, NotFoundProblem>> GetTrend(
        [Description("The patient's id.")] long patientId,
        [Description("Measure key: pain_nrs (default), an instrument code, a movement code, or ppt:{muscle}:{side}.")] string? measure,
        HttpContext http, OutcomesReader reader, CancellationToken ct)
    {
        var result = await reader.TrendJsonAsync(CurrentUser.From(http.User), patientId, measure ?? "pain_nrs", ct);
        return result switch
        {
            { Body: { } body } => body,
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

    public static async Task<Results<JsonOk<OutcomesResponse>, ValidationProblem, NotFoundProblem>> GetOutcomes(
        [Description("The patient's id.")] long patientId,
        [Description("Only this measure (a measure key, as for the trend); every measure when left out.")] string? measure,
        [Description("Only the latest this many cycles, 1 to 1000 (each still judged against its own next session); every cycle when left out.")] int? cycles,
        HttpContext http, OutcomesReader reader, CancellationToken ct)
    {
        if (cycles is not null and not (>= 1 and <= 1000))
        {
            return Problems.Invalid("cycles", "must be 1 to 1000");
        }
        var result = await reader.OutcomesJsonAsync(CurrentUser.From(http.User), patientId, ct, measure, cycles);
        return result switch
        {
            { UnknownMeasure: true } => Problems.Invalid("measure", "is not a measure key"),
            { Body: { } body } => body,
            _ => Problems.NotFound("patient"),
        };
    }
}

/// <param name="Cycles">With <c>withCycles</c>: the measure's outcomes per cycle, from the same values as the trend.</param>
public sealed record TrendResult(TrendResponse? Trend, bool UnknownMeasure = false, IReadOnlyList<CycleOutcome>? Cycles = null);

/// <param name="Body">The answer; null when the patient is not found (or not the caller's to read) or the measure is unknown.</param>
public sealed record AnswerResult<T>(JsonOk<T>? Body, bool UnknownMeasure = false) where T : class;

/// <summary>
/// Reads one patient's values (and nobody else's) and hands them to the Core computations, through a
/// <see cref="MeasureProgress"/> per measure: kept between reads (<see cref="MeasureProgressCache"/>) and advanced by
/// the values appended since, so that a read costs what was written since the last one, not the patient's history.
/// </summary>
public sealed class OutcomesReader(
    Database db, PatientOutcomesSql sql, PatientAccess access, AuditLog audit, MeasureCatalog measures,
    MeasureProgressCache kept, PatientAnswerCache answers, IOptions<OutcomesOptions> options,
    IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, TimeProvider clock)
{
    /// <summary>The trend of one measure, as the chart draws it.</summary>
    /// <param name="withCycles">Also the measure's outcomes per cycle (the chart's baseline lines), from the values read once.</param>
    public async Task<TrendResult> TrendAsync(CurrentUser user, long patientId, string key, CancellationToken ct, bool withCycles = false)
    {
        await using var connection = await db.OpenAsync(ct);
        if (await access.SiteOrRefuseAsync(connection, user, patientId, AuditActions.Read, "trend", ct) is null)
        {
            return new TrendResult(null);
        }
        if (await ComputeTrendAsync(connection, patientId, key, ct) is not { } computed)
        {
            return new TrendResult(null, UnknownMeasure: true);
        }
        await audit.AppendAsync(connection, AuditActions.Read, "trend", key, patientId, ct);
        return new TrendResult(computed.Trend, Cycles: withCycles ? computed.Progress.Outcomes(Today()) : null);
    }

    /// <summary>The trend of one measure as the API answers it: streamed, or written as kept (<see cref="AnswerAsync"/>).</summary>
    public async Task<AnswerResult<TrendResponse>> TrendJsonAsync(CurrentUser user, long patientId, string key, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        if (await access.SiteOrRefuseAsync(connection, user, patientId, AuditActions.Read, "trend", ct) is null)
        {
            return new AnswerResult<TrendResponse>(null);
        }
        var body = await AnswerAsync(connection, new PatientAnswerCache.Key(patientId, "trend", key, null), Today(),
            async () => (await ComputeTrendAsync(connection, patientId, key, ct))?.Trend, ("trend", key), ct);
        return new AnswerResult<TrendResponse>(body, UnknownMeasure: body is null);
    }

    /// <summary>The trend and the measure's progress it was computed from; null for an unknown measure key.</summary>
    private async Task<(TrendResponse Trend, MeasureProgress Progress)?> ComputeTrendAsync(
        System.Data.Common.DbConnection connection, long patientId, string key, CancellationToken ct)
    {
        if (await measures.ResolveAsync(key, ct, connection) is not { } measure)
        {
            return null;
        }
        var sessions = await SessionsAsync(connection, patientId, ct);
        var progress = await ProgressAsync(connection, patientId, measure, Days(sessions), ct);
        var d = measure.Definition;
        return (new TrendResponse(d.Key, d.Name, d.Unit, d.Direction, measure.Weekly, progress.Series(), sessions, progress.CycleTrends()), progress);
    }

    /// <summary>The outcomes per cycle as the API answers them: streamed, or written as kept (<see cref="AnswerAsync"/>).</summary>
    /// <param name="only">One measure key, or null for every measure the patient has.</param>
    /// <param name="latest">The latest this many cycles, or null for all.</param>
    public async Task<AnswerResult<OutcomesResponse>> OutcomesJsonAsync(
        CurrentUser user, long patientId, CancellationToken ct, string? only = null, int? latest = null)
    {
        await using var connection = await db.OpenAsync(ct);
        if (await access.SiteOrRefuseAsync(connection, user, patientId, AuditActions.Read, "outcomes", ct) is null)
        {
            return new AnswerResult<OutcomesResponse>(null);
        }
        var today = Today();
        var body = await AnswerAsync(connection, new PatientAnswerCache.Key(patientId, "outcomes", only, latest), today,
            () => ComputeOutcomesAsync(connection, patientId, only, latest, today, ct), ("outcomes", only), ct);
        return new AnswerResult<OutcomesResponse>(body, UnknownMeasure: body is null);
    }

    /// <summary>The outcomes answer; null when <paramref name="only"/> is not a measure key.</summary>
    private async Task<OutcomesResponse?> ComputeOutcomesAsync(
        System.Data.Common.DbConnection connection, long patientId, string? only, int? latest, DateOnly today, CancellationToken ct)
    {
        var sessions = await SessionsAsync(connection, patientId, ct);
        var days = Days(sessions);
        List<MeasureProgress> byMeasure;
        if (only is not null)
        {
            if (await measures.ResolveAsync(only, ct, connection) is not { } one)
            {
                return null;
            }
            var progress = await ProgressAsync(connection, patientId, one, days, ct);
            byMeasure = progress.Count == 0 ? [] : [progress];
        }
        else
        {
            byMeasure = [.. (await AllProgressAsync(connection, patientId, days, ct))
                .OrderBy(m => m.Measure.Key == "pain_nrs" ? 0 : 1).ThenBy(m => m.Measure.Key, StringComparer.Ordinal)];
        }
        var results = new List<MeasureOutcomes>();
        foreach (var progress in byMeasure)
        {
            var d = progress.Measure;
            var cycles = progress.Outcomes(today);
            results.Add(new MeasureOutcomes(d.Key, d.Name, d.Unit, d.Direction, d.ImportantChange, d.ImportantChangePercent,
                latest is { } n && cycles.Count > n ? [.. cycles.Skip(cycles.Count - n)] : cycles));
        }
        var marks = latest is { } m && sessions.Count > m ? [.. sessions.Skip(sessions.Count - m)] : sessions;
        return new OutcomesResponse(patientId, today, options.Value.Rule, marks, results);
    }

    /// <summary>
    /// An answer: the JSON kept (<see cref="PatientAnswerCache"/>) when the patient's change counter, the instruments and
    /// the day are those it was computed under; else computed, and streamed the first time it is computed under them,
    /// serialized and kept the second. The counters are read before the values, so an answer is never kept under newer
    /// counters than it saw. Either way the read's audit event is committed before the answer is given; null (nothing
    /// audited) when <paramref name="compute"/> finds nothing to answer.
    /// </summary>
    private async Task<JsonOk<T>?> AnswerAsync<T>(System.Data.Common.DbConnection connection, PatientAnswerCache.Key key, DateOnly today,
        Func<Task<T?>> compute, (string Resource, string? Detail) audited, CancellationToken ct) where T : class
    {
        var generations = answers.Enabled
            ? await connection.QuerySingleAsync<AnswerGenerations>(db.Command(sql.AnswerGenerations, new { key.PatientId }, ct))
            : null;
        byte[]? keptJson = null;
        var kept = generations is null ? PatientAnswerCache.Kept.Nothing : answers.TryGet(key, generations, today, out keptJson);
        JsonOk<T> body;
        if (kept == PatientAnswerCache.Kept.Json)
        {
            body = new JsonOk<T>(keptJson!);
        }
        else if (await compute() is not { } computed)
        {
            return null;
        }
        else if (kept == PatientAnswerCache.Kept.ComputedOnce)
        {
            var serialized = JsonSerializer.SerializeToUtf8Bytes(computed, json.Value.SerializerOptions);
            answers.Set(key, generations!, today, serialized);
            body = new JsonOk<T>(serialized);
        }
        else
        {
            if (generations is not null)
            {
                answers.Seen(key, generations, today);
            }
            body = new JsonOk<T>(computed);
        }
        await audit.AppendAsync(connection, AuditActions.Read, audited.Resource, audited.Detail, key.PatientId, ct);
        return body;
    }

    private DateOnly Today() => DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);

    private static DateOnly[] Days(List<SessionMark> sessions) => [.. sessions.Select(s => s.Date).Distinct().Order()];

    private async Task<List<SessionMark>> SessionsAsync(System.Data.Common.DbConnection connection, long patientId, CancellationToken ct) =>
        [.. (await connection.QueryAsync<SessionRow>(db.Command(sql.Sessions, new { PatientId = patientId }, ct))).Select(r => r.ToMark())];

    /// <summary>
    /// One measure's progress: from the stored series when the patient's series are current (the kept progress
    /// advanced by the points appended since, read from the tail alone when they all lie there), else (right after a
    /// write that could not be appended, until the next rebuild) from every value in the observations.
    /// </summary>
    private async Task<MeasureProgress> ProgressAsync(
        System.Data.Common.DbConnection connection, long patientId, ResolvedMeasure measure, DateOnly[] sessions, CancellationToken ct)
    {
        var (kind, measureKey) = measure.Source.SeriesKey();
        var args = new { PatientId = patientId, Kind = kind, MeasureKey = measureKey };
        var head = await connection.QuerySingleAsync<StoredPointsRow>(db.Command(sql.StoredHeads, args, ct));
        if (head.Stale == 0 && FromSeries(patientId, measure, sessions, head, withSeriesText: false) is { } advanced)
        {
            return advanced;
        }
        if (head.Stale == 0)
        {
            var stored = await connection.QuerySingleAsync<StoredPointsRow>(db.Command(sql.StoredPoints, args, ct));
            // Marked in between: read from the observations, as any stale patient.
            if (stored.Stale == 0)
            {
                return FromSeries(patientId, measure, sessions, stored, withSeriesText: true)!;
            }
        }
        var rows = await connection.QueryAsync<PointRow>(db.Command(sql.MeasurePoints, new
        {
            PatientId = patientId,
            Kind = EnumCode<ObservationKind>.Of(measure.Source.Kind),
            measure.Source.Code,
            measure.Source.Qualifier,
            measure.Source.BodySide,
        }, ct));
        return Read(measure, sessions, rows.Select(r => r.ToPoint()));
    }

    /// <summary>Every measure's progress the patient has values of, from the stored series when current (as <see cref="ProgressAsync"/>).</summary>
    private async Task<List<MeasureProgress>> AllProgressAsync(System.Data.Common.DbConnection connection, long patientId, DateOnly[] sessions, CancellationToken ct)
    {
        var args = new { PatientId = patientId };
        var heads = (await connection.QueryAsync<StoredPointsRow>(db.Command(sql.AllStoredHeads, args, ct))).AsList();
        if (heads[0].Stale == 0)
        {
            var result = new List<MeasureProgress>();
            var needSeries = new Dictionary<(string, string), ResolvedMeasure>();
            foreach (var row in heads.Where(r => r.MeasureKey is not null))
            {
                if (await measures.ResolveAsync(row.MeasureKey!, ct, connection) is not { } measure)
                {
                    continue;
                }
                if (FromSeries(patientId, measure, sessions, row, withSeriesText: false) is { } advanced)
                {
                    result.Add(advanced);
                }
                else
                {
                    needSeries[(row.Kind!, row.MeasureKey!)] = measure;
                }
            }
            if (needSeries.Count == 0)
            {
                return result;
            }
            var stored = (await connection.QueryAsync<StoredPointsRow>(db.Command(sql.AllStoredPoints, args, ct))).AsList();
            // Marked in between: read from the observations, as any stale patient.
            if (stored[0].Stale == 0)
            {
                foreach (var row in stored)
                {
                    if (row.MeasureKey is not null && needSeries.TryGetValue((row.Kind!, row.MeasureKey), out var measure))
                    {
                        result.Add(FromSeries(patientId, measure, sessions, row, withSeriesText: true)!);
                    }
                }
                return result;
            }
        }
        var rows = await connection.QueryAsync<PointRow>(db.Command(sql.AllPoints, args, ct));
        var all = new List<MeasureProgress>();
        foreach (var group in rows.GroupBy(r => MeasureCatalog.KeyOf(r.Kind, r.Code, r.Qualifier, r.BodySide)).Where(g => g.Key is not null))
        {
            if (await measures.ResolveAsync(group.Key!, ct, connection) is { } measure)
            {
                all.Add(Read(measure, sessions, group.Select(r => r.ToPoint())));
            }
        }
        return all;
    }

    /// <summary>
    /// A measure's progress from one row of its stored series (one snapshot): the kept progress advanced by the points
    /// after those it read, or, with the series' text, read from the first point; null when the row lacks the series'
    /// text that it needs. The progress is kept for the next read.
    /// </summary>
    private MeasureProgress? FromSeries(long patientId, ResolvedMeasure measure, DateOnly[] sessions, StoredPointsRow row, bool withSeriesText)
    {
        if (row.MeasureKey is null)
        {
            return Read(measure, sessions, []);
        }
        var count = (row.SeriesCount ?? 0) + (row.TailCount ?? 0);
        var rule = options.Value.Rule;
        var key = new MeasureProgressCache.Key(patientId, row.Kind!, row.MeasureKey);
        MeasureProgress? progress = null;
        if (kept.TryGet(key, row.BuildNumber, count, measure, rule, sessions, out var before, out var read)
            && (withSeriesText || read >= (row.SeriesCount ?? 0)))
        {
            progress = before;
            if (read < count)
            {
                var added = PointSeries.DecodeLast(withSeriesText ? row.Points : null, row.Tail, checked((int)(count - read)));
                // Stored series are in day order; should one not be, it is read again from its first point.
                progress = PointSeries.InDayOrder(added, after: before.LastDay) ? before.Advanced(added) : null;
            }
        }
        if (progress is null)
        {
            if (!withSeriesText)
            {
                return null;
            }
            progress = Read(measure, sessions, PointSeries.Decode(row.Points, row.Tail));
        }
        kept.Set(key, row.BuildNumber, count, progress);
        return progress;
    }

    /// <summary>A new progress over the values given, read in day order (values of one day in the order given).</summary>
    private MeasureProgress Read(ResolvedMeasure measure, DateOnly[] sessions, IEnumerable<Point> values)
    {
        var points = values as List<Point> ?? [.. values];
        var progress = new MeasureProgress(measure.Definition, sessions, options.Value.Rule, trend: measure.Weekly);
        progress.AddRange(PointSeries.InDayOrder(points) ? points : points.OrderBy(p => p.Day));
        return progress;
    }
}

/// <summary>
/// Each patient's <see cref="MeasureProgress"/> per measure as last read for a trend or outcomes, with what it was read
/// from: the stored series' build number (migration 0021) and how many points series and tail held together. Under
/// one build number a series only grows at its end (appended values, folded tails), so a progress read from its first
/// points is advanced by the rest; another build (an amendment, a withdrawal, an out-of-order value, a rebuild), fewer
/// points, other sessions, another measure definition or baseline rule, and it is read again. A kept progress is never
/// changed: an advance works on a copy. Bounded by an estimate of the memory it takes
/// (<see cref="OutcomesOptions.KeptProgressMegabytes"/>); past that, the least recently used go.
/// </summary>
public sealed class MeasureProgressCache : IDisposable
{
    public readonly record struct Key(long PatientId, string Kind, string MeasureKey);

    private readonly KeptStates<Key, MeasureProgress> _kept;

    public MeasureProgressCache(IOptions<OutcomesOptions> options) =>
        _kept = new KeptStates<Key, MeasureProgress>(options.Value.KeptProgressMegabytes * 1024L);

    /// <summary>A progress read from the first <paramref name="read"/> points of the same build for the same measure, rule and sessions; not when the series holds fewer now.</summary>
    public bool TryGet(Key key, long? buildNumber, long points, ResolvedMeasure measure, BaselineRule rule, DateOnly[] sessions,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out MeasureProgress? progress, out long read) =>
        _kept.TryGet(key, buildNumber, points,
            p => p.Measure == measure.Definition && p.Rule == rule && p.Weekly == measure.Weekly && p.Sessions.SequenceEqual(sessions),
            out progress, out read);

    public void Set(Key key, long? buildNumber, long points, MeasureProgress progress) =>
        _kept.Set(key, buildNumber, points, progress, Kilobytes(progress));

    /// <summary>
    /// An estimate of the memory a kept progress takes, in KB: some 40 bytes a point of its series and slopes, 320
    /// bytes a cycle (its state and windows), and the entry itself.
    /// </summary>
    internal static long Kilobytes(MeasureProgress progress) => 1 + (long)progress.Size * 40 / 1024;

    /// <summary>For tests: forget every progress.</summary>
    internal void Clear() => _kept.Clear();

    public void Dispose() => _kept.Dispose();
}

using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text.Json;
using Dapper;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;
using Microsoft.Extensions.Options;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Audit;
using Outcomes.Api.Features.Sites;
using Outcomes.Api.Infrastructure;

namespace Outcomes.Api.Features.Fhir;

public sealed class FhirOptions
{
    public const string Section = "Fhir";

    /// <summary>Where Bulk Data exports write their NDJSON files; shared storage when several instances serve the API.</summary>
    public string? ExportDirectory { get; set; }

    /// <summary>How long an export's files are kept after it finishes.</summary>
    [Range(1, 24 * 30)]
    public int ExportRetentionHours { get; set; } = 24;

    /// <summary>Rows read per query while exporting: what bounds the export's memory, whatever the database's size.</summary>
    [Range(10, 10_000)]
    public int ExportPageSize { get; set; } = 1000;

    public string ExportRoot => ExportDirectory is { Length: > 0 } dir ? dir : Path.Combine(Path.GetTempPath(), "outcomes-fhir-export");
}

public static class ExportStatus
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
}

public sealed class BulkExportSql(SqlDialect dialect) : SqlTexts(dialect)
{
    private const string Columns = """
        id, level, group_id, types, since, de_identified, request_url, requested_at, requested_by, requested_role, status,
        claimed_until, progress, finished_at, error, output
        """;

    public string Insert { get; } = """
        INSERT INTO fhir_export_job (id, level, group_id, types, since, de_identified, request_url, requested_at, requested_by, requested_role, status)
        VALUES (@Id, @Level, @GroupId, @Types, @Since, @DeIdentified, @RequestUrl, @RequestedAt, @RequestedBy, @RequestedRole, 'queued');
        """;

    public string ById { get; } = $"SELECT {Columns} FROM fhir_export_job WHERE id = @Id;";

    /// <summary>The oldest job waiting, or one whose runner stopped renewing its lease (a crash).</summary>
    public string Next { get; } = $"""
        SELECT {Columns} FROM fhir_export_job
        WHERE status = 'queued' OR (status = 'running' AND claimed_until < @Now)
        ORDER BY requested_at
        {dialect.Limit("@Take")};
        """;

    public string Claim { get; } = """
        UPDATE fhir_export_job SET status = 'running', claimed_until = @Until, progress = @Progress
        WHERE id = @Id AND (status = 'queued' OR (status = 'running' AND claimed_until < @Now));
        """;

    /// <summary>Renews the lease and says how far the export is; 0 rows when the job was cancelled meanwhile.</summary>
    public string Progress { get; } = """
        UPDATE fhir_export_job SET claimed_until = @Until, progress = @Progress WHERE id = @Id AND status = 'running';
        """;

    public string Complete { get; } = """
        UPDATE fhir_export_job SET status = 'completed', finished_at = @Now, output = @Output, claimed_until = NULL, progress = NULL
        WHERE id = @Id AND status = 'running';
        """;

    public string Fail { get; } = """
        UPDATE fhir_export_job SET status = 'failed', finished_at = @Now, error = @Error, claimed_until = NULL
        WHERE id = @Id AND status = 'running';
        """;

    public string Cancel { get; } = """
        UPDATE fhir_export_job SET status = 'cancelled', finished_at = @Now, claimed_until = NULL
        WHERE id = @Id AND status IN ('queued', 'running');
        """;

    public string Expired { get; } = $"""
        SELECT id FROM fhir_export_job WHERE files_removed = 0 AND finished_at IS NOT NULL AND finished_at < @Before
        ORDER BY finished_at
        {dialect.Limit("@Take")};
        """;

    public string FilesRemoved { get; } = "UPDATE fhir_export_job SET files_removed = 1 WHERE id = @Id;";
}

internal sealed class ExportJobRow
{
    public string Id { get; init; } = "";
    public string Level { get; init; } = "";
    public long? GroupId { get; init; }
    public string Types { get; init; } = "";
    public DateTimeOffset? Since { get; init; }
    public bool DeIdentified { get; init; }
    public string RequestUrl { get; init; } = "";
    public DateTimeOffset RequestedAt { get; init; }
    public string RequestedBy { get; init; } = "";
    public string RequestedRole { get; init; } = "";
    public string Status { get; init; } = "";
    public DateTimeOffset? ClaimedUntil { get; init; }
    public string? Progress { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public string? Error { get; init; }
    public string? Output { get; init; }

    public IReadOnlyList<string> TypeList => Types.Split(',', StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>One NDJSON file of a finished export.</summary>
public sealed record ExportFile(string Type, string File, long Count);

/// <summary>Wakes the export worker when a job is queued.</summary>
public sealed class BulkExportSignal : IDisposable
{
    private readonly SemaphoreSlim _signal = new(0);

    public void Dispose() => _signal.Dispose();

    public void Raise()
    {
        if (_signal.CurrentCount == 0)
        {
            _signal.Release();
        }
    }

    public Task WaitAsync(TimeSpan timeout, CancellationToken ct) => _signal.WaitAsync(timeout, ct);
}

/// <summary>
/// FHIR Bulk Data Access 2.0's asynchronous request pattern: kick-off (202 and a status URL), polling (202 with
/// progress, then 200 and the manifest), cancellation (DELETE), and the files. Admins export the records as they are;
/// auditors get a de-identified export (<see cref="Deidentification"/>). Only the requester reads a job and its files.
/// </summary>
public static class BulkExportApi
{
    public static readonly string[] Types = ["Patient", "Observation", "QuestionnaireResponse", "Procedure"];

    public static void MapBulkExport(this RouteGroupBuilder fhir)
    {
        fhir.MapGet("/$export", (HttpContext http, BulkExportService exports, CancellationToken ct) => exports.KickOffAsync(http, "system", null, ct))
            .RequireAuthorization(Policies.Auditor);
        fhir.MapGet("/Patient/$export", (HttpContext http, BulkExportService exports, CancellationToken ct) => exports.KickOffAsync(http, "patient", null, ct))
            .RequireAuthorization(Policies.Auditor);
        fhir.MapGet("/Group/{id}/$export", (string id, HttpContext http, BulkExportService exports, CancellationToken ct) =>
            long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var groupId)
                ? exports.KickOffAsync(http, "group", groupId, ct)
                : Task.FromResult<IResult>(FhirOutcomes.NotFound("Group", id)))
            .RequireAuthorization(Policies.Auditor);
        fhir.MapGet("/$export-status/{jobId}", (string jobId, HttpContext http, BulkExportService exports, CancellationToken ct) => exports.StatusAsync(http, jobId, ct))
            .RequireAuthorization(Policies.Auditor);
        fhir.MapDelete("/$export-status/{jobId}", (string jobId, HttpContext http, BulkExportService exports, CancellationToken ct) => exports.CancelAsync(http, jobId, ct))
            .RequireAuthorization(Policies.Auditor);
        fhir.MapGet("/$export-file/{jobId}/{file}", (string jobId, string file, HttpContext http, BulkExportService exports, CancellationToken ct) =>
                exports.FileAsync(http, jobId, file, ct))
            .RequireAuthorization(Policies.Auditor);
    }
}

public sealed class BulkExportService(
    Database db, BulkExportSql sql, SiteSql sites, GroupCommit commits, AuditLog audit, BulkExportSignal signal, TimeProvider clock, IOptions<FhirOptions> options)
{
    private static readonly string[] _outputFormats = [FhirJson.NdjsonMediaType, "application/ndjson", "ndjson"];

    public async Task<IResult> KickOffAsync(HttpContext http, string level, long? groupId, CancellationToken ct)
    {
        var search = FhirSearch.Read(http.Request, "_type", "_since", "_outputFormat");
        var prefer = http.Request.Headers["Prefer"].ToString();
        if (!prefer.Split(',', ';').Any(p => p.Trim() == "respond-async"))
        {
            search.Error("Prefer", "must be respond-async: a Bulk Data export answers asynchronously");
        }
        if (search.One("_outputFormat") is { } format && !_outputFormats.Contains(format, StringComparer.Ordinal))
        {
            search.Error("_outputFormat", "must be application/fhir+ndjson");
        }
        var types = BulkExportApi.Types.ToList();
        if (search.Values("_type") is { Count: > 0 } typeGroups)
        {
            var wanted = typeGroups.SelectMany(g => g).Select(t => t.Trim()).Distinct(StringComparer.Ordinal).ToList();
            foreach (var unknown in wanted.Where(t => !BulkExportApi.Types.Contains(t, StringComparer.Ordinal)))
            {
                search.Error("_type", $"'{unknown}' is not exported; the types are {string.Join(", ", BulkExportApi.Types)}");
            }
            types = [.. BulkExportApi.Types.Where(wanted.Contains)];
        }
        DateTimeOffset? since = null;
        if (search.One("_since") is { } sinceText)
        {
            if (sinceText.Contains('T', StringComparison.Ordinal) && new FhirDateTime(sinceText).TryToDateTimeOffset(out var parsed)
                && FhirDateTime.IsValidValue(sinceText))
            {
                since = parsed;
            }
            else
            {
                search.Error("_since", "must be an instant with its time zone, e.g. 2026-01-01T00:00:00Z");
            }
        }
        if (search.Errors.Count > 0)
        {
            return FhirApi.SearchErrors(search);
        }
        var user = CurrentUser.From(http.User);
        await using var connection = await db.OpenAsync(ct);
        if (groupId is { } group && await connection.ExecuteScalarAsync<int>(db.Command(sites.SiteExists, new { Id = group }, ct)) == 0)
        {
            return FhirOutcomes.NotFound("Group", FhirMapping.Id(group));
        }
        var id = Guid.NewGuid().ToString("D");
        var requestUrl = $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}{http.Request.Path}{http.Request.QueryString}";
        await commits.RunAsync(async (c, tx) =>
        {
            await c.ExecuteAsync(db.Command(sql.Insert, new
            {
                Id = id,
                Level = level,
                GroupId = groupId,
                Types = string.Join(',', types),
                Since = since?.ToUniversalTime(),
                DeIdentified = !user.IsAdmin,
                RequestUrl = requestUrl,
                RequestedAt = clock.GetUtcNow(),
                RequestedBy = user.Subject,
                RequestedRole = user.Role,
            }, CancellationToken.None, tx));
            await audit.InsertAsync(c, tx, audit.Entry(user.IsAdmin ? "fhir_export" : "fhir_export_deidentified", "fhir_export_job", id, null,
                detail: $"{level}{(groupId is null ? "" : " " + groupId.Value.ToString(CultureInfo.InvariantCulture))}: {string.Join(',', types)}"), CancellationToken.None);
            return 1;
        }, ct);
        signal.Raise();
        http.Response.Headers["Content-Location"] = $"{FhirApi.BaseUrl(http)}/$export-status/{id}";
        var accepted = new OperationOutcome();
        accepted.Issue.Add(new OperationOutcome.IssueComponent
        {
            Severity = OperationOutcome.IssueSeverity.Information,
            Code = OperationOutcome.IssueType.Informational,
            Diagnostics = "Export queued; poll the Content-Location URL for its status.",
        });
        return new FhirResult(StatusCodes.Status202Accepted, accepted);
    }

    private async Task<ExportJobRow?> OwnJobAsync(HttpContext http, string jobId, CancellationToken ct)
    {
        if (!Guid.TryParseExact(jobId, "D", out _))
        {
            return null;
        }
        await using var connection = await db.OpenAsync(ct);
        var job = await connection.QuerySingleOrDefaultAsync<ExportJobRow>(db.Command(sql.ById, new { Id = jobId }, ct));
        // Only the requester sees a job; anyone else is told it does not exist.
        return job is not null && job.RequestedBy == CurrentUser.From(http.User).Subject ? job : null;
    }

    public async Task<IResult> StatusAsync(HttpContext http, string jobId, CancellationToken ct)
    {
        var job = await OwnJobAsync(http, jobId, ct);
        if (job is null || job.Status == ExportStatus.Cancelled)
        {
            return FhirOutcomes.Error(StatusCodes.Status404NotFound, "No such export (or it was cancelled).", OperationOutcome.IssueType.NotFound);
        }
        switch (job.Status)
        {
            case ExportStatus.Queued or ExportStatus.Running:
                http.Response.Headers["X-Progress"] = job.Progress ?? "queued";
                http.Response.Headers.RetryAfter = "2";
                return Results.StatusCode(StatusCodes.Status202Accepted);
            case ExportStatus.Failed:
                return FhirOutcomes.Error(StatusCodes.Status500InternalServerError, $"The export failed: {job.Error}", OperationOutcome.IssueType.Exception);
        }
        var baseUrl = FhirApi.BaseUrl(http);
        var files = JsonSerializer.Deserialize<List<ExportFile>>(job.Output ?? "[]", ManifestJson.Web) ?? [];
        http.Response.Headers.Expires = (job.FinishedAt!.Value + TimeSpan.FromHours(options.Value.ExportRetentionHours)).ToString("R", CultureInfo.InvariantCulture);
        return Results.Json(new
        {
            transactionTime = job.RequestedAt.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
            request = job.RequestUrl,
            requiresAccessToken = true,
            output = files.Select(f => new { type = f.Type, url = $"{baseUrl}/$export-file/{job.Id}/{f.File}", count = f.Count }),
            deleted = Array.Empty<object>(),
            error = Array.Empty<object>(),
            extension = new Dictionary<string, object>
            {
                [FhirSystems.Extension("de-identified")] = job.DeIdentified,
            },
        }, ManifestJson.Web, "application/json");
    }

    public async Task<IResult> CancelAsync(HttpContext http, string jobId, CancellationToken ct)
    {
        if (await OwnJobAsync(http, jobId, ct) is not { } job)
        {
            return FhirOutcomes.Error(StatusCodes.Status404NotFound, "No such export.", OperationOutcome.IssueType.NotFound);
        }
        var cancelled = await commits.RunAsync((c, tx) => c.ExecuteAsync(db.Command(sql.Cancel, new { job.Id, Now = clock.GetUtcNow() }, CancellationToken.None, tx)), ct);
        if (cancelled == 0)
        {
            return FhirOutcomes.Error(StatusCodes.Status404NotFound, "The export has already finished or was cancelled.", OperationOutcome.IssueType.NotFound);
        }
        signal.Raise();
        return Results.StatusCode(StatusCodes.Status202Accepted);
    }

    public async Task<IResult> FileAsync(HttpContext http, string jobId, string file, CancellationToken ct)
    {
        var job = await OwnJobAsync(http, jobId, ct);
        var files = job is { Status: ExportStatus.Completed, Output: { } output } ? JsonSerializer.Deserialize<List<ExportFile>>(output, ManifestJson.Web) ?? [] : [];
        var entry = files.FirstOrDefault(f => f.File == file);
        var path = entry is null ? null : Path.Combine(options.Value.ExportRoot, job!.Id, entry.File);
        if (path is null || !File.Exists(path))
        {
            return FhirOutcomes.Error(StatusCodes.Status404NotFound, "No such file (exports are kept for a limited time).", OperationOutcome.IssueType.NotFound);
        }
        await using (var connection = await db.OpenAsync(ct))
        {
            await audit.AppendAsync(connection, "fhir_export_download", "fhir_export_job", job!.Id, null, ct, detail: entry!.File);
        }
        return Results.File(path, FhirJson.NdjsonMediaType, enableRangeProcessing: true);
    }
}

/// <summary>Web-style JSON for the manifest (camelCase, as Bulk Data's examples).</summary>
internal static class ManifestJson
{
    public static JsonSerializerOptions Web { get; } = new(JsonSerializerDefaults.Web);
}

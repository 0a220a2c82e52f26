using System.ComponentModel;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Patients;
using Outcomes.Api.Infrastructure;
using Outcomes.Core.Validation;

namespace Outcomes.Api.Features.Audit;

/// <summary>One audit event. Events are appended only: no endpoint changes or deletes one, and the database refuses to.</summary>
/// <param name="Actor">The token's subject.</param>
/// <param name="Outcome">success, not_found (refused or unknown), denied, unauthenticated.</param>
/// <param name="Detail">For cohort queries and exports, the filters they ran with.</param>
public sealed record AuditEventResponse(
    long Id,
    DateTimeOffset OccurredAt,
    string Actor,
    string Role,
    string Action,
    string ResourceType,
    string? ResourceId,
    long? PatientId,
    string Outcome,
    string? RequestId,
    string? Detail);

public sealed record AuditQuery(
    [property: Description("Events at or after this instant.")] DateTimeOffset? From,
    [property: Description("Events before this instant.")] DateTimeOffset? To,
    [property: Description("Only this actor (token subject).")] string? Actor,
    [property: Description("Only events about this patient.")] long? PatientId,
    [property: Description("Only this action, e.g. read, create, cohort_outcomes.")] string? Action,
    [property: Description(Paging.CursorDescription)] string? Cursor,
    [property: Description("Page size, 1 to 200 (default 50).")] int? Limit);

/// <summary>Who saw or changed a patient's record: what a patient may see of the audit trail.</summary>
public sealed record AccessLogEntry(DateTimeOffset OccurredAt, string Actor, string Role, string Action, string ResourceType, string Outcome);

public sealed class AuditQuerySql(SqlDialect dialect) : SqlTexts(dialect)
{
    private const string Columns =
        "id, occurred_at, actor, role, action, resource_type, resource_id, patient_id, outcome, request_id, detail";

    public string Page { get; } = $"""
        SELECT {Columns} FROM audit_event
        WHERE id > @After
          AND (@From IS NULL OR occurred_at >= @From)
          AND (@To IS NULL OR occurred_at < @To)
          AND (@Actor IS NULL OR actor = @Actor)
          AND (@PatientId IS NULL OR patient_id = @PatientId)
          AND (@Action IS NULL OR action = @Action)
        ORDER BY id
        {dialect.Limit("@Take")};
        """;

    public string OfPatient { get; } = $"""
        SELECT {Columns} FROM audit_event
        WHERE patient_id = @PatientId AND id > @After
        ORDER BY id
        {dialect.Limit("@Take")};
        """;
}

internal sealed class AuditRow
{
    public long Id { get; init; }
    public DateTimeOffset OccurredAt { get; init; }
    public string Actor { get; init; } = "";
    public string Role { get; init; } = "";
    public string Action { get; init; } = "";
    public string ResourceType { get; init; } = "";
    public string? ResourceId { get; init; }
    public long? PatientId { get; init; }
    public string Outcome { get; init; } = "";
    public string? RequestId { get; init; }
    public string? Detail { get; init; }

    public AuditEventResponse ToResponse() =>
        new(Id, OccurredAt, Actor, Role, Action, ResourceType, ResourceId, PatientId, Outcome, RequestId, Detail);
}

public static class AuditApi
{
    public static IEndpointRouteBuilder MapAudit(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/audit-events", ListEvents)
            .WithTags("Audit")
            .RequireAuthorization(Policies.Auditor)
            .WithName("ListAuditEvents")
            .WithSummary("The audit trail, keyset-paged and filtered")
            .WithDescription("Auditors and admins. Every read or write of a patient's data, every cohort query and export, every refused "
                + "or failed authorization and every admin change. Querying it is itself audited.");

        app.MapGet("/api/v1/patients/{patientId:long}/access-log", AccessLog)
            .WithTags("Audit")
            .RequireAuthorization(Policies.PatientRecord)
            .WithName("GetAccessLog")
            .WithSummary("Who accessed this patient's record")
            .WithDescription("The patient, practitioners of the patient's site, and admins.");
        return app;
    }

    public static async Task<Results<Ok<Page<AuditEventResponse>>, ValidationProblem>> ListEvents(
        [AsParameters] AuditQuery query, Database db, AuditQuerySql sql, AuditLog audit, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        errors.Check(Paging.IsValidLimit(query.Limit), "limit", $"must be between 1 and {Paging.MaxLimit}");
        errors.Check(Paging.TryReadIdCursor(query.Cursor, out var after), "cursor", Paging.BadCursor);
        if (!errors.IsEmpty)
        {
            return Problems.Invalid(errors);
        }
        var limit = query.Limit ?? Paging.DefaultLimit;
        await using var connection = await db.OpenAsync(ct);
        var rows = (await connection.QueryAsync<AuditRow>(db.Command(sql.Page, new
        {
            After = after,
            From = query.From?.ToUniversalTime(),
            To = query.To?.ToUniversalTime(),
            query.Actor,
            query.PatientId,
            query.Action,
            Take = limit + 1,
        }, ct))).ToList();
        var next = Paging.IdCursor(Paging.TrimToPage(rows, limit, r => (long?)r.Id));
        await audit.AppendAsync(connection, AuditActions.List, "audit_event", null, null, ct);
        return TypedResults.Ok(new Page<AuditEventResponse>([.. rows.Select(r => r.ToResponse())], next));
    }

    public static async Task<Results<Ok<Page<AccessLogEntry>>, ValidationProblem, NotFoundProblem>> AccessLog(
        [Description("The patient's id.")] long patientId,
        [Description(Paging.CursorDescription)] string? cursor,
        [Description("Page size, 1 to 200 (default 50).")] int? limit,
        HttpContext http, Database db, AuditQuerySql sql, PatientAccess access, AuditLog audit, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        errors.Check(Paging.IsValidLimit(limit), "limit", $"must be between 1 and {Paging.MaxLimit}");
        errors.Check(Paging.TryReadIdCursor(cursor, out var after), "cursor", Paging.BadCursor);
        if (!errors.IsEmpty)
        {
            return Problems.Invalid(errors);
        }
        await using var connection = await db.OpenAsync(ct);
        if (await access.SiteOrRefuseAsync(connection, CurrentUser.From(http.User), patientId, AuditActions.Read, "access_log", ct) is null)
        {
            return Problems.NotFound("patient");
        }
        var take = limit ?? Paging.DefaultLimit;
        var rows = (await connection.QueryAsync<AuditRow>(db.Command(sql.OfPatient,
            new { PatientId = patientId, After = after, Take = take + 1 }, ct))).ToList();
        var next = Paging.IdCursor(Paging.TrimToPage(rows, take, r => (long?)r.Id));
        await audit.AppendAsync(connection, AuditActions.Read, "access_log", null, patientId, ct);
        return TypedResults.Ok(new Page<AccessLogEntry>(
            [.. rows.Select(r => new AccessLogEntry(r.OccurredAt, r.Actor, r.Role, r.Action, r.ResourceType, r.Outcome))], next));
    }
}

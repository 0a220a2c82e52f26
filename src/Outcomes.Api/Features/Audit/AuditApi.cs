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
/// <param name="ActorPractitionerId">For a practitioner, the practitioner record their token names.</param>
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
    string? Detail,
    long? ActorPractitionerId);

public sealed record AuditQuery(
    [property: Description("Events at or after this instant.")] DateTimeOffset? From,
    [property: Description("Events before this instant.")] DateTimeOffset? To,
    [property: Description("Only this actor (token subject).")] string? Actor,
    [property: Description("Only events about this patient.")] long? PatientId,
    [property: Description("Only this action, e.g. read, create, cohort_outcomes.")] string? Action,
    [property: Description(Paging.CursorDescription)] string? Cursor,
    [property: Description("Page size, 1 to 200 (default 50).")] int? Limit);

/// <summary>Who saw or changed a patient's record: what a patient may see of the audit trail.</summary>
/// <param name="Who">Who it was, in words: a practitioner by name and site, the patient, an administrator or auditor.</param>
/// <param name="Description">What happened, in words a patient understands, e.g. "Dr A. Example, practitioner at Northside Pain Clinic, read your outcomes".</param>
public sealed record AccessLogEntry(
    DateTimeOffset OccurredAt, string Actor, string Role, string Action, string ResourceType, string Outcome, string Who, string Description);

public sealed class AuditQuerySql(SqlDialect dialect) : SqlTexts(dialect)
{
    private const string Columns =
        "a.id, a.occurred_at, a.actor, a.role, a.action, a.resource_type, a.resource_id, a.patient_id, a.outcome, a.request_id, a.detail, a.actor_practitioner_id";

    public string Page { get; } = $"""
        SELECT {Columns} FROM audit_event a
        WHERE a.id > @After
          AND (@From IS NULL OR a.occurred_at >= @From)
          AND (@To IS NULL OR a.occurred_at < @To)
          AND (@Actor IS NULL OR a.actor = @Actor)
          AND (@PatientId IS NULL OR a.patient_id = @PatientId)
          AND (@Action IS NULL OR a.action = @Action)
        ORDER BY a.id
        {dialect.Limit("@Take")};
        """;

    public string OfPatient { get; } = $"""
        SELECT {Columns}, pr.display_name AS practitioner_name, s.name AS site_name
        FROM audit_event a
        LEFT JOIN practitioner pr ON pr.id = a.actor_practitioner_id
        LEFT JOIN site s ON s.id = pr.site_id
        WHERE a.patient_id = @PatientId AND a.id > @After
        ORDER BY a.id
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
    public long? ActorPractitionerId { get; init; }
    public string? PractitionerName { get; init; }
    public string? SiteName { get; init; }

    public AuditEventResponse ToResponse() =>
        new(Id, OccurredAt, Actor, Role, Action, ResourceType, ResourceId, PatientId, Outcome, RequestId, Detail, ActorPractitionerId);

    public AccessLogEntry ToAccessLogEntry()
    {
        var who = AccessLogWords.Who(Role, Actor, PractitionerName, SiteName);
        return new AccessLogEntry(OccurredAt, Actor, Role, Action, ResourceType, Outcome, who, AccessLogWords.Describe(who, Action, ResourceType, Outcome));
    }
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
            [.. rows.Select(r => r.ToAccessLogEntry())], next));
    }
}

/// <summary>The access log in words a patient understands: who, at which site, did what.</summary>
public static class AccessLogWords
{
    public static string Who(string role, string actor, string? practitionerName, string? siteName) => role switch
    {
        Roles.Practitioner when practitionerName is not null => $"{practitionerName}, practitioner at {siteName}",
        Roles.Practitioner => $"a practitioner whose sign-in names no practitioner record ({actor})",
        Roles.Patient => "the patient",
        Roles.Admin => $"an administrator ({actor})",
        Roles.Auditor => $"an auditor ({actor})",
        "(none)" => "someone without a valid sign-in",
        _ => "the system",
    };

    public static string Describe(string who, string action, string resourceType, string outcome)
    {
        var what = resourceType switch
        {
            "patient" => "the record",
            "patient_summary" => "the patient list",
            "patient_history" => "the record's history",
            "observation" => "a submission (score, questionnaire, measurement or side effect)",
            "treatment_session" => "a treatment session",
            "trend" or "trend_chart" => "the trend",
            "outcomes" => "the outcomes",
            "due" => "what is due",
            "access_log" => "this access log",
            "import" => "imported data",
            _ => resourceType.Replace('_', ' '),
        };
        var verb = action switch
        {
            AuditActions.Read => "read",
            AuditActions.List => "listed",
            AuditActions.Create => "recorded",
            "amend" or "correct" => "corrected",
            "mark_entered_in_error" => "withdrew",
            "review_withdrawal" => "reviewed the withdrawal of",
            _ => action.Replace('_', ' '),
        };
        if (action == AuditActions.Create && resourceType == "patient")
        {
            (verb, what) = ("enrolled", "the patient");
        }
        // "Dr A, practitioner at North, read ...": an apposition is closed by a comma.
        var subject = $"{char.ToUpperInvariant(who[0])}{who[1..]}{(who.Contains(',', StringComparison.Ordinal) ? "," : "")}";
        return outcome == AuditOutcomes.Success
            ? $"{subject} {verb} {what}"
            : $"{subject} tried to {(action == AuditActions.Read ? "read" : verb)} {what} and was refused";
    }
}

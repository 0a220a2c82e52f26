using System.ComponentModel;
using System.Data.Common;
using System.Globalization;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Audit;
using Outcomes.Api.Infrastructure;
using Outcomes.Core.Alerts;
using Outcomes.Core.Clinic;
using Outcomes.Core.Validation;

namespace Outcomes.Api.Features.Alerts;

/// <param name="At">When it was acknowledged.</param>
/// <param name="Role">The role of who acknowledged it.</param>
/// <param name="PractitionerId">The practitioner record of who acknowledged it, when a practitioner did.</param>
public sealed record AcknowledgementResponse(DateTimeOffset At, string Role, long? PractitionerId, string? Note);

/// <summary>One alert: what happened to which patient, when; no free text, no external reference.</summary>
/// <param name="ObservationId">The side-effect report behind a seriousSideEffect alert.</param>
/// <param name="SessionDate">The treatment session whose cycle the alert is about (time-based kinds).</param>
/// <param name="Week">The follow-up week of a followUpOverdue alert.</param>
/// <param name="OccurredOn">The day the cause arose (the report's day, the day a window closed, ...).</param>
/// <param name="Acknowledgement">Null while the alert is open.</param>
public sealed record AlertResponse(
    long Id, AlertKind Kind, long PatientId, long SiteId, long? ObservationId, DateOnly? SessionDate, int? Week, DateOnly OccurredOn,
    DateTimeOffset CreatedAt, AcknowledgementResponse? Acknowledgement);

/// <param name="Note">Optional: what was done (at most 500 characters). Not sent to webhooks.</param>
public sealed record AcknowledgeRequest(string? Note);

/// <param name="NoWeeklyScoreWeeks">Weeks without a weekly pain score before a noWeeklyScore alert (1 to 12; default 2).</param>
public sealed record AlertSettings(int? NoWeeklyScoreWeeks);

public sealed record AlertSettingsResponse(long SiteId, int NoWeeklyScoreWeeks);

public static class AlertsApi
{
    private const string Resource = "alert";
    public const int MaxNoteLength = 500;

    public static IEndpointRouteBuilder MapAlerts(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/alerts").WithTags("Alerts").RequireAuthorization(Policies.Clinician);

        group.MapGet("", ListAlerts)
            .WithName("ListAlerts")
            .WithSummary("The alert feed")
            .WithDescription("Practitioners see their own site's alerts, admins all. Kinds: seriousSideEffect (at once, with the report), "
                + "followUpOverdue, noWeeklyScore and responseLost (found by the scan). Filter by status (open, acknowledged), kind and "
                + "patientId; keyset-paged. Every read is audited.");

        group.MapPost("/{alertId:long}/acknowledgement", Acknowledge)
            .WithName("AcknowledgeAlert")
            .WithSummary("Acknowledge an alert")
            .WithDescription("Practitioners of the alert's site and admins. Records who and when, with an optional note; 201 the first time, "
                + "200 with the first acknowledgement after that (idempotent). Audited.");

        app.MapGet("/api/v1/sites/{siteId:long}/alert-settings", GetSettings)
            .WithTags("Alerts")
            .RequireAuthorization(Policies.Admin)
            .WithName("GetAlertSettings")
            .WithSummary("A site's alert settings")
            .WithDescription("Admins only.");

        app.MapPut("/api/v1/sites/{siteId:long}/alert-settings", PutSettings)
            .WithTags("Alerts")
            .RequireAuthorization(Policies.Admin)
            .WithName("PutAlertSettings")
            .WithSummary("Change a site's alert settings")
            .WithDescription("Admins only; audited.");
        return app;
    }

    public static async Task<Results<Ok<Page<AlertResponse>>, ValidationProblem>> ListAlerts(
        [Description("open or acknowledged.")] string? status,
        [Description("seriousSideEffect, followUpOverdue, noWeeklyScore or responseLost.")] string? kind,
        [Description("Only this patient's alerts.")] long? patientId,
        [Description("Only this site's alerts (practitioners: their own site only).")] long? siteId,
        [Description(Paging.CursorDescription)] string? cursor,
        [Description("Page size, 1 to 200 (default 50).")] int? limit,
        HttpContext http, Database db, AlertSql sql, AuditLog audit, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        errors.Check(status is null or "open" or "acknowledged", "status", "must be open or acknowledged");
        errors.Check(kind is null || EnumCode<AlertKind>.TryParse(kind, out _), "kind", $"must be one of {string.Join(", ", EnumCode<AlertKind>.All)}");
        errors.Check(Paging.TryReadIdCursor(cursor, out var after), "cursor", Paging.BadCursor);
        errors.Check(Paging.IsValidLimit(limit), "limit", $"must be 1 to {Paging.MaxLimit}");
        errors.Check(patientId is null or > 0, "patientId", "must be a patient id (a positive whole number)");
        errors.Check(siteId is null or > 0, "siteId", "must be a site id (a positive whole number)");
        if (!errors.IsEmpty)
        {
            return Problems.Invalid(errors);
        }
        var user = CurrentUser.From(http.User);
        var take = limit ?? Paging.DefaultLimit;
        await using var connection = await db.OpenAsync(ct);
        var rows = (await connection.QueryAsync<AlertRow>(db.Command(sql.Feed, new
        {
            After = after,
            SiteId = user.ConfineToSite(siteId),
            Kind = kind,
            PatientId = patientId,
            Status = status,
            Take = take + 1,
        }, ct))).ToList();
        var next = Paging.TrimToPage(rows, take, r => (long?)r.Id);
        await audit.AppendAsync(connection, AuditActions.List, Resource, null, patientId, ct);
        return TypedResults.Ok(new Page<AlertResponse>([.. rows.Select(r => r.ToResponse())], Paging.IdCursor(next)));
    }

    public static async Task<Results<Created<AcknowledgementResponse>, Ok<AcknowledgementResponse>, ValidationProblem, NotFoundProblem>> Acknowledge(
        [Description("The alert's id.")] long alertId, AcknowledgeRequest? request, HttpContext http, Database db, AlertSql sql, AuditLog audit,
        TimeProvider clock, GroupCommit commits, CancellationToken ct)
    {
        var note = request?.Note;
        var errors = new ValidationErrors();
        if (note is not null)
        {
            errors.Text(note, "note", MaxNoteLength);
        }
        if (!errors.IsEmpty)
        {
            return Problems.Invalid(errors);
        }
        var user = CurrentUser.From(http.User);
        await using var connection = await db.OpenAsync(ct);
        var alert = await connection.QuerySingleOrDefaultAsync<AlertRow>(db.Command(sql.ById, new { Id = alertId }, ct));
        if (alert is null || (user.Role == Roles.Practitioner && user.SiteId != alert.SiteId))
        {
            await audit.AppendAsync(connection, "acknowledge", Resource, alertId, null, ct, outcome: AuditOutcomes.NotFound);
            return Problems.NotFound(Resource);
        }
        if (alert.AcknowledgedAt is not null)
        {
            await audit.AppendAsync(connection, AuditActions.Read, Resource, alertId, alert.PatientId, ct);
            return TypedResults.Ok(alert.ToResponse().Acknowledgement!);
        }
        var now = clock.GetUtcNow();
        var entry = audit.Entry("acknowledge", Resource, alertId, alert.PatientId);
        try
        {
            await commits.RunAsync(async (c, tx) =>
            {
                await c.ExecuteAsync(db.Command(sql.InsertAcknowledgement, new
                {
                    AlertId = alertId, AcknowledgedAt = now, AcknowledgedBy = user.Subject, AcknowledgedRole = user.Role, user.PractitionerId, Note = note,
                }, CancellationToken.None, tx));
                return await audit.InsertAsync(c, tx, entry, CancellationToken.None);
            }, ct);
        }
        catch (DbException e) when (db.Dialect.IsUniqueViolation(e))
        {
            // Acknowledged by someone else at the same moment: theirs is the acknowledgement.
            var first = await connection.QuerySingleAsync<AlertRow>(db.Command(sql.ById, new { Id = alertId }, ct));
            return TypedResults.Ok(first.ToResponse().Acknowledgement!);
        }
        return TypedResults.Created($"/api/v1/alerts/{alertId}/acknowledgement", new AcknowledgementResponse(now, user.Role, user.PractitionerId, note));
    }

    public static async Task<Results<Ok<AlertSettingsResponse>, NotFoundProblem>> GetSettings(
        [Description("The site's id.")] long siteId, Database db, AlertSql sql, Sites.SiteSql sites, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        if (await connection.ExecuteScalarAsync<long>(db.Command(sites.SiteExists, new { Id = siteId }, ct)) == 0)
        {
            return Problems.NotFound("site");
        }
        var weeks = await connection.ExecuteScalarAsync<int?>(db.Command(sql.SettingOfSite, new { Id = siteId }, ct));
        return TypedResults.Ok(new AlertSettingsResponse(siteId, weeks ?? AlertRules.DefaultNoWeeklyScoreWeeks));
    }

    public static async Task<Results<Ok<AlertSettingsResponse>, ValidationProblem, NotFoundProblem>> PutSettings(
        [Description("The site's id.")] long siteId, AlertSettings request, HttpContext http, Database db, AlertSql sql, Sites.SiteSql sites,
        AuditLog audit, TimeProvider clock, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        if (errors.Required(request.NoWeeklyScoreWeeks, "noWeeklyScoreWeeks"))
        {
            errors.Check(request.NoWeeklyScoreWeeks is >= 1 and <= 12, "noWeeklyScoreWeeks", "must be 1 to 12 weeks");
        }
        if (!errors.IsEmpty)
        {
            return Problems.Invalid(errors);
        }
        await using var connection = await db.OpenAsync(ct);
        if (await connection.ExecuteScalarAsync<long>(db.Command(sites.SiteExists, new { Id = siteId }, ct)) == 0)
        {
            return Problems.NotFound("site");
        }
        using var writeTurn = await db.EnterWriteAsync(connection, ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var parameters = new { SiteId = siteId, Weeks = request.NoWeeklyScoreWeeks, UpdatedAt = clock.GetUtcNow(), UpdatedBy = CurrentUser.From(http.User).Subject };
        if (await connection.ExecuteAsync(db.Command(sql.UpdateSetting, parameters, ct, tx)) == 0)
        {
            await connection.ExecuteAsync(db.Command(sql.InsertSetting, parameters, ct, tx));
        }
        await audit.AppendAsync(connection, "update", "alert_settings", siteId.ToString(CultureInfo.InvariantCulture), null, ct, tx);
        await tx.CommitAsync(ct);
        return TypedResults.Ok(new AlertSettingsResponse(siteId, request.NoWeeklyScoreWeeks!.Value));
    }
}

using System.ComponentModel;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Audit;
using Outcomes.Api.Features.Observations;
using Outcomes.Api.Features.Patients;
using Outcomes.Api.Infrastructure;
using Outcomes.Core.Clinic;

namespace Outcomes.Api.Features.Due;

/// <param name="Today">The day (UTC) the schedule was worked out for.</param>
/// <param name="Items">What the patient should submit now; empty when nothing is due.</param>
public sealed record DueResponse(DateOnly Today, IReadOnlyList<DueItem> Items);

public sealed class DueSql(SqlDialect dialect) : SqlTexts(dialect)
{
    public string Patient { get; } = "SELECT p.enrolled_on FROM patient_current p WHERE p.id = @Id;";

    public string Conditions { get; } = "SELECT c.condition FROM patient_condition_current c WHERE c.patient_id = @Id;";

    public string LatestSession { get; } =
        $"SELECT MAX(t.session_date) FROM treatment_session t WHERE t.patient_id = @Id AND {TreatmentSessions.TreatmentSessionSql.IsCurrent("t")};";

    public string Answered { get; } = $"""
        SELECT o.kind, o.code, o.answered_at
        FROM observation o
        WHERE o.patient_id = @Id AND o.kind IN ('painScore', 'questionnaire') AND o.answered_at >= @From
          AND {ObservationSql.IsCurrent};
        """;
}

internal sealed class AnsweredRow
{
    public string Kind { get; init; } = "";
    public string Code { get; init; } = "";
    public DateTimeOffset AnsweredAt { get; init; }
}

public static class DueApi
{
    public static RouteHandlerBuilder MapDue(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/v1/patients/{patientId:long}/due", GetDue)
            .WithTags("Submissions")
            .RequireAuthorization(Policies.PatientRecord)
            .WithName("GetDue")
            .WithSummary("What the patient should submit now")
            .WithDescription("The weekly pain score if none this ISO week (UTC), and the questionnaires of the patient's conditions "
                + "(NDI for neck/shoulder pain, ODI for low back pain, HIT-6 and headache days for headache conditions) at baseline "
                + "and in the week 6, 12 and 24 windows after the latest session, with PGIC at those follow-ups. For reminders.");

    public static async Task<Results<Ok<DueResponse>, NotFoundProblem>> GetDue(
        [Description("The patient's id.")] long patientId,
        HttpContext http, Database db, DueSql sql, PatientAccess access, AuditLog audit, TimeProvider clock, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        if (await access.SiteOrRefuseAsync(connection, CurrentUser.From(http.User), patientId, AuditActions.Read, "due", ct) is null)
        {
            return Problems.NotFound("patient");
        }
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var enrolledOn = await connection.ExecuteScalarAsync<DateOnly>(db.Command(sql.Patient, new { Id = patientId }, ct));
        var conditions = (await connection.QueryAsync<string>(db.Command(sql.Conditions, new { Id = patientId }, ct)))
            .Select(EnumCode<Condition>.Parse).ToList();
        var latestSession = await connection.ExecuteScalarAsync<DateOnly?>(db.Command(sql.LatestSession, new { Id = patientId }, ct));

        var lookBack = DueSchedule.LookBackFrom(enrolledOn, latestSession, today);
        var answered = await connection.QueryAsync<AnsweredRow>(db.Command(sql.Answered, new
        {
            Id = patientId,
            From = new DateTimeOffset(lookBack.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero),
        }, ct));

        var painKind = EnumCode<ObservationKind>.Of(ObservationKind.PainScore);
        var input = DueSchedule.InputFrom(today, enrolledOn, conditions, latestSession,
            answered.Select(a => (a.Kind == painKind, a.Code, DateOnly.FromDateTime(a.AnsweredAt.UtcDateTime))));
        await audit.AppendAsync(connection, AuditActions.Read, "due", null, patientId, ct);
        return TypedResults.Ok(new DueResponse(today, DueSchedule.Due(input)));
    }
}

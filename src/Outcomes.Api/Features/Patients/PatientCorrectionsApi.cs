using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Audit;
using Outcomes.Api.Features.Observations;
using Outcomes.Api.Infrastructure;
using Outcomes.Core.Clinic;
using Outcomes.Core.Validation;

namespace Outcomes.Api.Features.Patients;

/// <summary>The corrected record, in full, and why.</summary>
/// <param name="Version">The version being corrected, as the patient's <c>version</c> shows it (0 as enrolled).</param>
/// <param name="Reason">Why the record is corrected.</param>
public sealed record PatientCorrectionRequest(
    [property: Required] Guid? SubmissionId,
    [property: Required] long? Version,
    [property: Required] string? ExternalReference,
    [property: Required] int? BirthYear,
    [property: Required] Sex? Sex,
    [property: Required] DateOnly? EnrolledOn,
    [property: Required] IReadOnlyList<Condition>? Conditions,
    [property: Required] string? Reason);

/// <summary>The patient as corrected, and what the correction leaves to look at.</summary>
/// <param name="ObservationsBeforeEnrolment">Current observations answered before the corrected enrolment date: kept, and counted here so that someone looks at them.</param>
/// <param name="SessionsBeforeEnrolment">Current treatment sessions dated before the corrected enrolment date, likewise.</param>
public sealed record PatientCorrectionResponse(PatientResponse Patient, int ObservationsBeforeEnrolment, int SessionsBeforeEnrolment);

/// <summary>One version of the correctable part of a patient's record.</summary>
/// <param name="Version">0 as enrolled, else the correction's id.</param>
/// <param name="RecordedBy">Who enrolled the patient or made the correction (the token subject).</param>
public sealed record PatientVersionResponse(
    long Version, string ExternalReference, int BirthYear, Sex Sex, DateOnly EnrolledOn, IReadOnlyList<Condition> Conditions,
    DateTimeOffset RecordedAt, string RecordedBy, string? ChangeReason);

public sealed class PatientCorrectionSql(SqlDialect dialect) : SqlTexts(dialect)
{
    public string Insert { get; } = dialect.InsertReturningId(
        "patient_version",
        "patient_id, based_on, external_ref, birth_year, sex, enrolled_on, change_reason, created_at, created_by, created_role, submission_id, payload_hash",
        "@PatientId, @BasedOn, @ExternalRef, @BirthYear, @Sex, @EnrolledOn, @ChangeReason, @CreatedAt, @CreatedBy, @CreatedRole, @SubmissionId, @PayloadHash");

    public string InsertCondition { get; } = "INSERT INTO patient_version_condition (version_id, condition) VALUES (@VersionId, @Condition);";

    public string BySubmission { get; } =
        "SELECT v.id, v.payload_hash FROM patient_version v WHERE v.patient_id = @PatientId AND v.submission_id = @SubmissionId;";

    /// <summary>The original record, as version 0, and every correction: the history, oldest first.</summary>
    public string Versions { get; } = """
        SELECT 0 AS version, p.external_ref, p.birth_year, p.sex, p.enrolled_on, p.created_at, p.created_by, NULL AS change_reason
        FROM patient p WHERE p.id = @PatientId
        UNION ALL
        SELECT v.id AS version, v.external_ref, v.birth_year, v.sex, v.enrolled_on, v.created_at, v.created_by, v.change_reason
        FROM patient_version v WHERE v.patient_id = @PatientId
        ORDER BY version;
        """;

    public string VersionConditions { get; } = """
        SELECT 0 AS version, c.condition FROM patient_condition c WHERE c.patient_id = @PatientId
        UNION ALL
        SELECT vc.version_id AS version, vc.condition
        FROM patient_version_condition vc JOIN patient_version v ON v.id = vc.version_id
        WHERE v.patient_id = @PatientId;
        """;

    public string ObservationsBefore { get; } = $"""
        SELECT COUNT(*) FROM observation o
        WHERE o.patient_id = @PatientId AND o.answered_at < @EnrolledAt AND {ObservationSql.IsCurrent};
        """;

    public string SessionsBefore { get; } = $"""
        SELECT COUNT(*) FROM treatment_session t
        WHERE t.patient_id = @PatientId AND t.session_date < @EnrolledOn AND {TreatmentSessions.TreatmentSessionSql.IsCurrent("t")};
        """;
}

internal sealed class PatientVersionRow
{
    public long Version { get; init; }
    public string ExternalRef { get; init; } = "";
    public int BirthYear { get; init; }
    public string Sex { get; init; } = "";
    public DateOnly EnrolledOn { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public string CreatedBy { get; init; } = "";
    public string? ChangeReason { get; init; }
}

internal sealed class VersionConditionRow
{
    public long Version { get; init; }
    public string Condition { get; init; } = "";
}

internal sealed class SubmissionRow
{
    public long Id { get; init; }
    public string PayloadHash { get; init; } = "";
}

/// <summary>
/// Corrections of a patient's birth year, sex, enrolment date, conditions and external reference:
/// each a new version with a reason and who made it, never an update; the history keeps every one.
/// </summary>
public static class PatientCorrectionsApi
{
    private const string Resource = "patient";

    public static RouteGroupBuilder MapPatientCorrections(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/patients/{patientId:long}").WithTags("Patients");

        group.MapPost("/corrections", CorrectPatient)
            .RequireAuthorization(Policies.Clinician)
            .WithName("CorrectPatient")
            .WithSummary("Correct a patient's record (birth year, sex, enrolment date, conditions, external reference)")
            .WithDescription("Practitioners of the patient's site and admins. The whole corrected record, the version it corrects and a "
                + "reason; it becomes the current version, and every earlier one stays in the history. A version is corrected once "
                + "(a second correction of it answers 409). Idempotent by submissionId. Observations and sessions dated before a "
                + "corrected enrolment date are kept and counted in the answer.");

        group.MapGet("/history", GetPatientHistory)
            .RequireAuthorization(Policies.PatientRecord)
            .WithName("GetPatientHistory")
            .WithSummary("Every version of a patient's record, oldest first")
            .WithDescription("The patient, practitioners of the patient's site, and admins: as enrolled, then each correction with its reason and who made it.");

        return group;
    }

    public static async Task<Results<Created<PatientCorrectionResponse>, Ok<PatientCorrectionResponse>, ValidationProblem, NotFoundProblem, ConflictProblem>> CorrectPatient(
        [Description("The patient's id.")] long patientId,
        PatientCorrectionRequest request,
        HttpContext http, Database db, PatientSql patients, PatientCorrectionSql sql, PatientAccess access, AuditLog audit, TimeProvider clock,
        CancellationToken ct)
    {
        var user = CurrentUser.From(http.User);
        await using var connection = await db.OpenAsync(ct);
        if (await access.SiteOrRefuseAsync(connection, user, patientId, "correct", Resource, ct) is not { } siteId)
        {
            return Problems.NotFound("patient");
        }
        var errors = new ValidationErrors();
        var reference = request.ExternalReference?.Trim();
        SubmissionValidation.SubmissionId(errors, request.SubmissionId);
        errors.Required(request.Version, "version");
        PatientsApi.ValidateRecord(errors, reference, request.BirthYear, request.Sex, request.EnrolledOn, request.Conditions,
            DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime));
        SubmissionValidation.Reason(errors, request.Reason);
        if (!errors.IsEmpty)
        {
            return Problems.Invalid(errors);
        }

        var submissionId = request.SubmissionId!.Value.ToString("D");
        var conditions = request.Conditions!.Order().ToList();
        var hash = PayloadHash(request, reference!, conditions);
        if (await ReplayAsync(connection, db, sql, patients, patientId, submissionId, hash, ct) is { } replay)
        {
            return replay;
        }
        var current = await connection.QuerySingleAsync<PatientRow>(db.Command(patients.ById, new { Id = patientId }, ct));
        if (current.Version != request.Version)
        {
            return Problems.Conflict($"Version {request.Version} is not the current version of this patient's record ({current.Version}); correct the current version.");
        }
        if (await connection.ExecuteScalarAsync<long>(db.Command(patients.ReferenceTaken, new { SiteId = siteId, ExternalRef = reference, Id = patientId }, ct)) > 0)
        {
            return Problems.Conflict("Another patient at this site has this external reference.");
        }

        using (await db.EnterWriteAsync(connection, ct))
        await using (var tx = await connection.BeginTransactionAsync(ct))
        {
            long versionId;
            try
            {
                versionId = await connection.ExecuteScalarAsync<long>(db.Command(sql.Insert, new
                {
                    PatientId = patientId,
                    BasedOn = request.Version,
                    ExternalRef = reference,
                    request.BirthYear,
                    Sex = EnumCode<Sex>.Of(request.Sex!.Value),
                    request.EnrolledOn,
                    ChangeReason = request.Reason,
                    CreatedAt = clock.GetUtcNow(),
                    CreatedBy = user.Subject,
                    CreatedRole = user.Role,
                    SubmissionId = submissionId,
                    PayloadHash = hash,
                }, ct, tx));
            }
            catch (DbException e) when (db.Dialect.IsUniqueViolation(e))
            {
                // The same submission won a race, or another correction of the same version did.
                await tx.RollbackAsync(ct);
                return await ReplayAsync(connection, db, sql, patients, patientId, submissionId, hash, ct)
                    ?? Problems.Conflict($"Version {request.Version} was corrected by another request at the same time; correct the current version.");
            }
            await connection.ExecuteAsync(db.Command(sql.InsertCondition,
                conditions.Select(c => new { VersionId = versionId, Condition = EnumCode<Condition>.Of(c) }), ct, tx));
            await audit.AppendAsync(connection, "correct", Resource, versionId, patientId, ct, tx);
            await tx.CommitAsync(ct);
        }
        return TypedResults.Created($"/api/v1/patients/{patientId}", await AnswerAsync(connection, db, sql, patients, patientId, ct));
    }

    public static async Task<Results<Ok<IReadOnlyList<PatientVersionResponse>>, NotFoundProblem>> GetPatientHistory(
        [Description("The patient's id.")] long patientId,
        HttpContext http, Database db, PatientCorrectionSql sql, PatientAccess access, AuditLog audit, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        if (await access.SiteOrRefuseAsync(connection, CurrentUser.From(http.User), patientId, AuditActions.Read, "patient_history", ct) is null)
        {
            return Problems.NotFound("patient");
        }
        var versions = await connection.QueryAsync<PatientVersionRow>(db.Command(sql.Versions, new { PatientId = patientId }, ct));
        var conditions = (await connection.QueryAsync<VersionConditionRow>(db.Command(sql.VersionConditions, new { PatientId = patientId }, ct)))
            .ToLookup(c => c.Version, c => EnumCode<Condition>.Parse(c.Condition));
        await audit.AppendAsync(connection, AuditActions.Read, "patient_history", null, patientId, ct);
        return TypedResults.Ok<IReadOnlyList<PatientVersionResponse>>([.. versions.Select(v => new PatientVersionResponse(
            v.Version, v.ExternalRef, v.BirthYear, EnumCode<Sex>.Parse(v.Sex), v.EnrolledOn, [.. conditions[v.Version].Order()],
            v.CreatedAt, v.CreatedBy, v.ChangeReason))]);
    }

    private static async Task<Results<Created<PatientCorrectionResponse>, Ok<PatientCorrectionResponse>, ValidationProblem, NotFoundProblem, ConflictProblem>?> ReplayAsync(
        DbConnection connection, Database db, PatientCorrectionSql sql, PatientSql patients, long patientId, string submissionId, string hash, CancellationToken ct)
    {
        var earlier = await connection.QuerySingleOrDefaultAsync<SubmissionRow>(
            db.Command(sql.BySubmission, new { PatientId = patientId, SubmissionId = submissionId }, ct));
        return earlier is null
            ? null
            : earlier.PayloadHash != hash
                ? Problems.Conflict("This submissionId was already used for a different correction; a retry must resend the same body.")
                : TypedResults.Ok(await AnswerAsync(connection, db, sql, patients, patientId, ct));
    }

    /// <summary>The patient as now recorded, and what lies before the enrolment date now recorded.</summary>
    private static async Task<PatientCorrectionResponse> AnswerAsync(
        DbConnection connection, Database db, PatientCorrectionSql sql, PatientSql patients, long patientId, CancellationToken ct)
    {
        var row = await connection.QuerySingleAsync<PatientRow>(db.Command(patients.ById, new { Id = patientId }, ct));
        var patient = (await PatientsApi.WithConditionsAsync(connection, db, patients, [row], ct))[0];
        var enrolledAt = new DateTimeOffset(patient.EnrolledOn.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var observations = await connection.ExecuteScalarAsync<int>(db.Command(sql.ObservationsBefore, new { PatientId = patientId, EnrolledAt = enrolledAt }, ct));
        var sessions = await connection.ExecuteScalarAsync<int>(db.Command(sql.SessionsBefore, new { PatientId = patientId, patient.EnrolledOn }, ct));
        return new PatientCorrectionResponse(patient, observations, sessions);
    }

    private static string PayloadHash(PatientCorrectionRequest r, string reference, IEnumerable<Condition> conditions)
    {
        var canonical = string.Join('\u001f', r.Version!.Value.ToString(CultureInfo.InvariantCulture), reference,
            r.BirthYear!.Value.ToString(CultureInfo.InvariantCulture), EnumCode<Sex>.Of(r.Sex!.Value),
            r.EnrolledOn!.Value.ToString("O", CultureInfo.InvariantCulture), string.Join(',', conditions.Select(EnumCode<Condition>.Of)), r.Reason);
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }
}

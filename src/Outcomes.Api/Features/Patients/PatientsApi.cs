using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Data.Common;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Audit;
using Outcomes.Api.Features.Observations;
using Outcomes.Api.Infrastructure;
using Outcomes.Core.Clinic;
using Outcomes.Core.Validation;

namespace Outcomes.Api.Features.Patients;

/// <summary>A pseudonymous patient: no name, no full date of birth.</summary>
/// <param name="ExternalReference">The clinic's own reference for the patient, unique within the site.</param>
/// <param name="SiteId">Site the patient is enrolled at. Practitioners may omit it: it defaults to their own site.</param>
/// <param name="BirthYear">Year of birth (not the full date).</param>
/// <param name="Sex">Administrative sex.</param>
/// <param name="EnrolledOn">Date of enrolment.</param>
/// <param name="Conditions">Conditions being treated; at least one.</param>
public sealed record CreatePatientRequest(
    [property: Required] string? ExternalReference,
    long? SiteId,
    [property: Required] int? BirthYear,
    [property: Required] Sex? Sex,
    [property: Required] DateOnly? EnrolledOn,
    [property: Required] IReadOnlyList<Condition>? Conditions);

/// <param name="SeriousSideEffects">Current serious side-effect reports (difficulty swallowing, drooping eyelid,
/// breathing difficulty, or anything severe): a practitioner looks at these first.</param>
/// <param name="LatestSeriousSideEffectAt">When the latest of them was reported.</param>
/// <param name="Version">The version of the record's correctable part: 0 as enrolled, then the id of the latest correction
/// (send it as <c>version</c> with the next correction).</param>
/// <param name="SeriousWithdrawalsAwaitingReview">Serious side-effect reports the patient withdrew, which stay flagged until
/// a practitioner of the site confirms the withdrawal (<c>POST observations/{id}/withdrawal-review</c>).</param>
public sealed record PatientResponse(
    long Id,
    long SiteId,
    string ExternalReference,
    int BirthYear,
    Sex Sex,
    DateOnly EnrolledOn,
    IReadOnlyList<Condition> Conditions,
    DateTimeOffset CreatedAt,
    int SeriousSideEffects,
    DateTimeOffset? LatestSeriousSideEffectAt,
    int SeriousWithdrawalsAwaitingReview,
    long Version);

public sealed record PatientListQuery(
    [property: Description("Only patients of this site.")] long? SiteId,
    [property: Description("Only patients treated for this condition (a condition code, e.g. lowBackPain).")] string? Condition,
    [property: Description("Only patients of this sex (female, male, other, unknown).")] string? Sex,
    [property: Description("Enrolled on or after this date.")] DateOnly? EnrolledFrom,
    [property: Description("Enrolled on or before this date.")] DateOnly? EnrolledTo,
    [property: Description("Exact external reference.")] string? ExternalReference,
    [property: Description("true: only patients with a current serious side-effect report, or one the patient withdrew that awaits a practitioner's review.")] bool? SeriousSideEffects,
    [property: Description(Paging.CursorDescription)] string? Cursor,
    [property: Description("Page size, 1 to 200 (default 50).")] int? Limit);

public sealed class PatientSql(SqlDialect dialect) : SqlTexts(dialect)
{
    // Read through patient_current: the latest correction's values (migration 0012), else the original record's.
    private const string Columns = "p.id, p.site_id, p.external_ref, p.birth_year, p.sex, p.enrolled_on, p.created_at, p.version";

    public string Insert { get; } = dialect.InsertReturningId(
        "patient",
        "site_id, external_ref, birth_year, sex, enrolled_on, created_at, created_by",
        "@SiteId, @ExternalRef, @BirthYear, @Sex, @EnrolledOn, @CreatedAt, @CreatedBy");

    public string InsertCondition { get; } =
        "INSERT INTO patient_condition (patient_id, condition) VALUES (@PatientId, @Condition);";

    public string ById { get; } = $"SELECT {Columns} FROM patient_current p WHERE p.id = @Id;";

    /// <summary>Another patient of the site with this external reference, as currently recorded.</summary>
    public string ReferenceTaken { get; } =
        "SELECT COUNT(*) FROM patient_current p WHERE p.site_id = @SiteId AND p.external_ref = @ExternalRef AND p.id <> @Id;";

    public string ConditionsOf { get; } =
        "SELECT c.patient_id, c.condition FROM patient_condition_current c WHERE c.patient_id IN @Ids ORDER BY c.patient_id, c.condition;";

    private const string CurrentSerious = $"o.kind = 'sideEffect' AND o.serious = 1 AND {ObservationSql.IsCurrent}";

    /// <summary>A serious report's entered-in-error mark made by the patient, that no practitioner has reviewed yet.</summary>
    public const string WithdrawalAwaitingReview = """
        o.kind = 'sideEffect' AND o.serious = 1 AND o.entered_in_error = 1 AND o.recorded_role = 'patient'
        AND NOT EXISTS (SELECT 1 FROM withdrawal_review r WHERE r.observation_id = o.id)
        """;

    /// <summary>Per patient, in one pass over their serious reports: the current ones, the latest of them, and the withdrawals awaiting review.</summary>
    public string SeriousSideEffectsOf { get; } = $"""
        SELECT o.patient_id,
               SUM(CASE WHEN {CurrentSerious} THEN 1 ELSE 0 END) AS serious_count,
               MAX(CASE WHEN {CurrentSerious} THEN o.answered_at END) AS latest_at,
               SUM(CASE WHEN {WithdrawalAwaitingReview} THEN 1 ELSE 0 END) AS awaiting_count
        FROM observation o
        WHERE o.patient_id IN @Ids AND o.kind = 'sideEffect' AND o.serious = 1
        GROUP BY o.patient_id;
        """;

    // Keyset paging on id; every filter is a parameter that is either null (ignored) or applied.
    public string List { get; } = $"""
        SELECT {Columns}, COALESCE((SELECT c.generation FROM patient_change c WHERE c.patient_id = p.id), 0) AS change_generation
        FROM patient_current p
        WHERE p.id > @After
          AND (@SiteId IS NULL OR p.site_id = @SiteId)
          AND (@Sex IS NULL OR p.sex = @Sex)
          AND (@EnrolledFrom IS NULL OR p.enrolled_on >= @EnrolledFrom)
          AND (@EnrolledTo IS NULL OR p.enrolled_on <= @EnrolledTo)
          AND (@ExternalRef IS NULL OR p.external_ref = @ExternalRef)
          AND (@Condition IS NULL OR EXISTS (
                SELECT 1 FROM patient_condition_current c WHERE c.patient_id = p.id AND c.condition = @Condition))
          AND (@SeriousOnly = 0 OR EXISTS (SELECT 1 FROM observation o WHERE o.patient_id = p.id
                                            AND (({CurrentSerious}) OR ({WithdrawalAwaitingReview}))))
        ORDER BY p.id
        {dialect.Limit("@Take")};
        """;
}

internal sealed class PatientRow
{
    public long Id { get; init; }
    public long SiteId { get; init; }
    public string ExternalRef { get; init; } = "";
    public int BirthYear { get; init; }
    public string Sex { get; init; } = "";
    public DateOnly EnrolledOn { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public long Version { get; init; }

    /// <summary>When the record last changed (read by the FHIR facade); null where not read.</summary>
    public DateTimeOffset? UpdatedAt { get; init; }

    /// <summary>The patient's change counter (<c>patient_change</c>, migration 0019), read by the list; 0 elsewhere.</summary>
    public long ChangeGeneration { get; init; }
}

internal sealed class SeriousRow
{
    public long PatientId { get; init; }
    public int SeriousCount { get; init; }
    public DateTimeOffset? LatestAt { get; init; }
    public int AwaitingCount { get; init; }
}

internal sealed class ConditionRow
{
    public long PatientId { get; init; }
    public string Condition { get; init; } = "";
}

public static class PatientsApi
{
    private const string Resource = "patient";

    public static RouteGroupBuilder MapPatients(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/patients").WithTags("Patients");

        group.MapPost("", CreatePatient)
            .RequireAuthorization(Policies.Clinician)
            .WithName("CreatePatient")
            .WithSummary("Enrol a pseudonymous patient")
            .WithDescription("Admins name the site; practitioners enrol at their own site.");

        group.MapGet("", ListPatients)
            .RequireAuthorization(Policies.Clinician)
            .WithName("ListPatients")
            .WithSummary("List patients, keyset-paged and filtered")
            .WithDescription("Practitioners see only the patients of their own site.");

        group.MapGet("/{patientId:long}", GetPatient)
            .RequireAuthorization(Policies.PatientRecord)
            .WithName("GetPatient")
            .WithSummary("One patient's record")
            .WithDescription("A patient may read their own record; a practitioner the patients of their site.");

        return group;
    }

    public static async Task<Results<Created<PatientResponse>, ValidationProblem, ConflictProblem>> CreatePatient(
        CreatePatientRequest request,
        HttpContext http,
        Database db,
        PatientSql sql,
        Sites.SiteSql sites,
        AuditLog audit,
        TimeProvider clock,
        CancellationToken ct)
    {
        var user = CurrentUser.From(http.User);
        var errors = new ValidationErrors();
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);

        var reference = request.ExternalReference?.Trim();
        ValidateRecord(errors, reference, request.BirthYear, request.Sex, request.EnrolledOn, request.Conditions, today);

        long? siteId = request.SiteId;
        if (user.Role == Roles.Practitioner)
        {
            siteId ??= user.SiteId;
            errors.Check(siteId == user.SiteId && user.SiteId is not null, "siteId",
                "practitioners enrol patients at their own site only");
        }
        else
        {
            errors.Required(siteId, "siteId");
        }

        await using var connection = await db.OpenAsync(ct);
        if (siteId is not null && await connection.ExecuteScalarAsync<long>(db.Command(sites.SiteExists, new { Id = siteId }, ct)) == 0)
        {
            errors.Add("siteId", "no such site");
        }
        if (!errors.IsEmpty)
        {
            return Problems.Invalid(errors);
        }
        if (await connection.ExecuteScalarAsync<long>(db.Command(sql.ReferenceTaken, new { SiteId = siteId, ExternalRef = reference, Id = 0 }, ct)) > 0)
        {
            // A corrected reference is not in the original records' unique index: checked here too.
            return Problems.Conflict("A patient with this external reference is already enrolled at this site.");
        }

        var now = clock.GetUtcNow();
        using var writeTurn = await db.EnterWriteAsync(connection, ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        long id;
        try
        {
            id = await connection.ExecuteScalarAsync<long>(db.Command(sql.Insert, new
            {
                SiteId = siteId,
                ExternalRef = reference,
                request.BirthYear,
                Sex = EnumCode<Sex>.Of(request.Sex!.Value),
                request.EnrolledOn,
                CreatedAt = now,
                CreatedBy = user.Subject,
            }, ct, tx));
        }
        catch (DbException e) when (db.Dialect.IsUniqueViolation(e))
        {
            return Problems.Conflict("A patient with this external reference is already enrolled at this site.");
        }
        var conditions = request.Conditions!.Order().ToList();
        await connection.ExecuteAsync(db.Command(sql.InsertCondition,
            conditions.Select(c => new { PatientId = id, Condition = EnumCode<Condition>.Of(c) }), ct, tx));
        await audit.AppendAsync(connection, AuditActions.Create, Resource, id, id, ct, tx);
        await tx.CommitAsync(ct);

        var created = new PatientResponse(id, siteId!.Value, reference!, request.BirthYear!.Value, request.Sex.Value,
            request.EnrolledOn!.Value, conditions, now, 0, null, 0, 0);
        return TypedResults.Created($"/api/v1/patients/{id}", created);
    }

    public static async Task<Results<Ok<PatientResponse>, NotFoundProblem>> GetPatient(
        [Description("The patient's id.")] long patientId,
        HttpContext http,
        Database db,
        PatientSql sql,
        PatientAccess access,
        AuditLog audit,
        CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        if (await access.SiteOrRefuseAsync(connection, CurrentUser.From(http.User), patientId, AuditActions.Read, Resource, ct) is null)
        {
            return Problems.NotFound(Resource);
        }
        var row = await connection.QuerySingleAsync<PatientRow>(db.Command(sql.ById, new { Id = patientId }, ct));
        var patients = await WithConditionsAsync(connection, db, sql, [row], ct);
        await audit.AppendAsync(connection, AuditActions.Read, Resource, patientId, patientId, ct);
        return TypedResults.Ok(patients[0]);
    }

    public static async Task<Results<Ok<Page<PatientResponse>>, ValidationProblem>> ListPatients(
        [AsParameters] PatientListQuery query,
        HttpContext http,
        Database db,
        PatientSql sql,
        AuditLog audit,
        CancellationToken ct)
    {
        var errors = ValidateListQuery(query);
        if (!errors.IsEmpty)
        {
            return Problems.Invalid(errors);
        }
        await using var connection = await db.OpenAsync(ct);
        var (rows, next) = await ListPageAsync(connection, db, sql, CurrentUser.From(http.User), query, ct);
        var items = await WithConditionsAsync(connection, db, sql, rows, ct);
        await audit.AppendAsync(connection, AuditActions.List, Resource, null, null, ct);
        return TypedResults.Ok(new Page<PatientResponse>(items, Paging.IdCursor(next)));
    }

    /// <summary>The rules of the correctable part of a patient's record, for enrolment and for corrections alike.</summary>
    internal static void ValidateRecord(
        ValidationErrors errors, string? reference, int? birthYear, Sex? sex, DateOnly? enrolledOn, IReadOnlyList<Condition>? conditions, DateOnly today)
    {
        if (errors.Required(reference, "externalReference"))
        {
            errors.Text(reference!, "externalReference", PatientRules.MaxExternalReferenceLength);
        }
        errors.Required(sex, "sex");
        if (errors.Required(enrolledOn, "enrolledOn"))
        {
            // One day of slack: a clinic east of UTC is already on tomorrow's date.
            errors.Check(enrolledOn!.Value <= today.AddDays(1), "enrolledOn", "must not be in the future");
        }
        if (errors.Required(birthYear, "birthYear"))
        {
            errors.Check(PatientRules.IsPlausibleBirthYear(birthYear!.Value, enrolledOn ?? today), "birthYear",
                $"must be between {PatientRules.MinBirthYear} and the enrolment year");
        }
        if (errors.Required(conditions, "conditions"))
        {
            errors.Check(conditions!.Count > 0, "conditions", "must list at least one condition");
            errors.Check(conditions.Distinct().Count() == conditions.Count, "conditions", "must not list a condition twice");
        }
    }

    internal static ValidationErrors ValidateListQuery(PatientListQuery query)
    {
        var errors = new ValidationErrors();
        errors.Check(Paging.IsValidLimit(query.Limit), "limit", $"must be between 1 and {Paging.MaxLimit}");
        errors.Check(Paging.TryReadIdCursor(query.Cursor, out _), "cursor", Paging.BadCursor);
        // Enum filters bind as text so that the codes match the JSON ones exactly (camelCase).
        errors.Check(query.Condition is null || EnumCode<Condition>.TryParse(query.Condition, out _), "condition",
            $"must be one of {string.Join(", ", EnumCode<Condition>.All)}");
        errors.Check(query.Sex is null || EnumCode<Sex>.TryParse(query.Sex, out _), "sex",
            $"must be one of {string.Join(", ", EnumCode<Sex>.All)}");
        return errors;
    }

    /// <summary>One keyset page of patient rows the caller may see, and the cursor of the next page.</summary>
    internal static async Task<(List<PatientRow> Rows, long? Next)> ListPageAsync(
        DbConnection connection, Database db, PatientSql sql, CurrentUser user, PatientListQuery query, CancellationToken ct)
    {
        var limit = query.Limit ?? Paging.DefaultLimit;
        var siteId = user.ConfineToSite(query.SiteId);
        var rows = (await connection.QueryAsync<PatientRow>(db.Command(sql.List, new
        {
            After = Paging.TryReadIdCursor(query.Cursor, out var after) ? after : 0,
            SiteId = siteId,
            query.Sex,
            query.EnrolledFrom,
            query.EnrolledTo,
            ExternalRef = query.ExternalReference,
            query.Condition,
            SeriousOnly = query.SeriousSideEffects == true,
            Take = limit + 1,
        }, ct))).ToList();
        return (rows, Paging.TrimToPage(rows, limit, r => (long?)r.Id));
    }

    internal static async Task<List<PatientResponse>> WithConditionsAsync(
        DbConnection connection, Database db, PatientSql sql, List<PatientRow> rows, CancellationToken ct)
    {
        if (rows.Count == 0)
        {
            return [];
        }
        var conditions = (await connection.QueryAsync<ConditionRow>(
                db.Command(sql.ConditionsOf, new { Ids = SqlLimits.Bounded(rows.Select(r => r.Id).ToArray()) }, ct)))
            .ToLookup(c => c.PatientId, c => EnumCode<Condition>.Parse(c.Condition));
        var serious = (await connection.QueryAsync<SeriousRow>(
                db.Command(sql.SeriousSideEffectsOf, new { Ids = SqlLimits.Bounded(rows.Select(r => r.Id).ToArray()) }, ct)))
            .ToDictionary(s => s.PatientId);
        return rows.Select(r => new PatientResponse(
            r.Id, r.SiteId, r.ExternalRef, r.BirthYear, EnumCode<Sex>.Parse(r.Sex), r.EnrolledOn,
            conditions[r.Id].Order().ToList(), r.CreatedAt,
            serious.GetValueOrDefault(r.Id)?.SeriousCount ?? 0, serious.GetValueOrDefault(r.Id)?.LatestAt,
            serious.GetValueOrDefault(r.Id)?.AwaitingCount ?? 0, r.Version)).ToList();
    }
}

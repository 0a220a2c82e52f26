using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Data.Common;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Audit;
using Outcomes.Api.Features.Patients;
using Outcomes.Api.Infrastructure;
using Outcomes.Core.Clinic;
using Outcomes.Core.Validation;

namespace Outcomes.Api.Features.TreatmentSessions;

/// <param name="Muscle">Muscle code from <c>GET /api/v1/catalogue/muscles</c>.</param>
/// <param name="Side">Side of the body.</param>
/// <param name="Units">Units injected at this site, in the session product's units; greater than 0.</param>
public sealed record InjectionSiteRequest(
    [property: Required] string? Muscle,
    [property: Required] BodySide? Side,
    [property: Required] decimal? Units);

/// <param name="SessionDate">Date of the injection visit.</param>
/// <param name="PractitionerId">The injecting practitioner, who works at the patient's site.</param>
/// <param name="Product">The one botulinum toxin product used in this session.</param>
/// <param name="Guidance">How the needle was guided.</param>
/// <param name="DilutionUnitsPerMl">Concentration after reconstitution, in units per millilitre.</param>
/// <param name="InjectionSites">One or more injection sites.</param>
public sealed record CreateTreatmentSessionRequest(
    [property: Required] DateOnly? SessionDate,
    [property: Required] long? PractitionerId,
    [property: Required] Product? Product,
    [property: Required] Guidance? Guidance,
    [property: Required] decimal? DilutionUnitsPerMl,
    [property: Required] IReadOnlyList<InjectionSiteRequest>? InjectionSites);

public sealed record InjectionSiteResponse(string Muscle, BodySide Side, decimal Units);

/// <param name="TotalUnits">Sum of the sites' units, in units of <paramref name="Product"/> only.</param>
public sealed record TreatmentSessionResponse(
    long Id,
    long PatientId,
    long PractitionerId,
    DateOnly SessionDate,
    Product Product,
    Guidance Guidance,
    decimal DilutionUnitsPerMl,
    decimal TotalUnits,
    IReadOnlyList<InjectionSiteResponse> InjectionSites,
    DateTimeOffset RecordedAt);

public sealed class TreatmentSessionSql(SqlDialect dialect) : SqlTexts(dialect)
{
    private const string Columns =
        "id, patient_id, practitioner_id, session_date, product, guidance, dilution_units_per_ml, total_units, created_at";

    public string PractitionerSite { get; } = "SELECT site_id FROM practitioner WHERE id = @Id;";

    public string Insert { get; } = dialect.InsertReturningId(
        "treatment_session",
        "patient_id, practitioner_id, session_date, product, guidance, dilution_units_per_ml, total_units, created_at, created_by",
        "@PatientId, @PractitionerId, @SessionDate, @Product, @Guidance, @DilutionUnitsPerMl, @TotalUnits, @CreatedAt, @CreatedBy");

    public string InsertSite { get; } =
        "INSERT INTO injection_site (session_id, muscle, side, units) VALUES (@SessionId, @Muscle, @Side, @Units);";

    public string ByPatient { get; } =
        $"SELECT {Columns} FROM treatment_session WHERE patient_id = @PatientId ORDER BY session_date, id;";

    public string ById { get; } =
        $"SELECT {Columns} FROM treatment_session WHERE id = @Id AND patient_id = @PatientId;";

    public string SitesOfSessions { get; } =
        "SELECT session_id, muscle, side, units FROM injection_site WHERE session_id IN @Ids ORDER BY session_id, id;";
}

internal sealed class SessionRow
{
    public long Id { get; init; }
    public long PatientId { get; init; }
    public long PractitionerId { get; init; }
    public DateOnly SessionDate { get; init; }
    public string Product { get; init; } = "";
    public string Guidance { get; init; } = "";
    public decimal DilutionUnitsPerMl { get; init; }
    public decimal TotalUnits { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}

internal sealed class InjectionSiteRow
{
    public long SessionId { get; init; }
    public string Muscle { get; init; } = "";
    public string Side { get; init; } = "";
    public decimal Units { get; init; }
}

public static class TreatmentSessionsApi
{
    private const string Resource = "treatment_session";

    public static RouteGroupBuilder MapTreatmentSessions(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/patients/{patientId:long}/treatment-sessions").WithTags("Treatment sessions");

        group.MapPost("", CreateSession)
            .RequireAuthorization(Policies.Clinician)
            .WithName("CreateTreatmentSession")
            .WithSummary("Record a treatment session (an injection visit)")
            .WithDescription("Practitioners of the patient's site and admins. One product per session; total units are computed from the sites, in that product's units.");

        group.MapGet("", ListSessions)
            .RequireAuthorization(Policies.PatientRecord)
            .WithName("ListTreatmentSessions")
            .WithSummary("A patient's treatment sessions, in date order")
            .WithDescription("The patient, practitioners of the patient's site, and admins.");

        group.MapGet("/{sessionId:long}", GetSession)
            .RequireAuthorization(Policies.PatientRecord)
            .WithName("GetTreatmentSession")
            .WithSummary("One treatment session")
            .WithDescription("The patient, practitioners of the patient's site, and admins.");

        return group;
    }

    public static async Task<Results<Created<TreatmentSessionResponse>, ValidationProblem, NotFoundProblem>> CreateSession(
        [Description("The patient's id.")] long patientId,
        CreateTreatmentSessionRequest request,
        HttpContext http,
        Database db,
        TreatmentSessionSql sql,
        PatientAccess access,
        AuditLog audit,
        TimeProvider clock,
        CancellationToken ct)
    {
        var user = CurrentUser.From(http.User);
        await using var connection = await db.OpenAsync(ct);
        if (await access.SiteOrRefuseAsync(connection, user, patientId, AuditActions.Create, Resource, ct) is not { } patientSite)
        {
            return Problems.NotFound("patient");
        }

        var errors = Validate(request, DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime));
        if (request.PractitionerId is { } practitionerId)
        {
            var practitionerSite = await connection.ExecuteScalarAsync<long?>(
                db.Command(sql.PractitionerSite, new { Id = practitionerId }, ct));
            errors.Check(practitionerSite == patientSite, "practitionerId", "no such practitioner at the patient's site");
        }
        if (!errors.IsEmpty)
        {
            return Problems.Invalid(errors);
        }

        var sites = request.InjectionSites!
            .Select(s => new InjectionSite(s.Muscle!, s.Side!.Value, s.Units!.Value))
            .ToList();
        var total = SessionRules.TotalUnits(sites);
        var now = clock.GetUtcNow();

        await using var tx = await connection.BeginTransactionAsync(ct);
        var id = await connection.ExecuteScalarAsync<long>(db.Command(sql.Insert, new
        {
            PatientId = patientId,
            request.PractitionerId,
            request.SessionDate,
            Product = EnumCode<Product>.Of(request.Product!.Value),
            Guidance = EnumCode<Guidance>.Of(request.Guidance!.Value),
            request.DilutionUnitsPerMl,
            TotalUnits = total,
            CreatedAt = now,
            CreatedBy = user.Subject,
        }, ct, tx));
        await connection.ExecuteAsync(db.Command(sql.InsertSite, sites.Select(s => new
        {
            SessionId = id,
            s.Muscle,
            Side = EnumCode<BodySide>.Of(s.Side),
            s.Units,
        }), ct, tx));
        await audit.AppendAsync(connection, AuditActions.Create, Resource, id, patientId, ct, tx);
        await tx.CommitAsync(ct);

        var response = new TreatmentSessionResponse(id, patientId, request.PractitionerId!.Value, request.SessionDate!.Value,
            request.Product.Value, request.Guidance.Value, request.DilutionUnitsPerMl!.Value, total,
            [.. sites.Select(s => new InjectionSiteResponse(s.Muscle, s.Side, s.Units))], now);
        return TypedResults.Created($"/api/v1/patients/{patientId}/treatment-sessions/{id}", response);
    }

    public static async Task<Results<Ok<IReadOnlyList<TreatmentSessionResponse>>, NotFoundProblem>> ListSessions(
        [Description("The patient's id.")] long patientId,
        HttpContext http, Database db, TreatmentSessionSql sql, PatientAccess access, AuditLog audit, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        if (await access.SiteOrRefuseAsync(connection, CurrentUser.From(http.User), patientId, AuditActions.List, Resource, ct) is null)
        {
            return Problems.NotFound("patient");
        }
        var rows = (await connection.QueryAsync<SessionRow>(db.Command(sql.ByPatient, new { PatientId = patientId }, ct))).ToList();
        var sessions = await WithSitesAsync(connection, db, sql, rows, ct);
        await audit.AppendAsync(connection, AuditActions.List, Resource, null, patientId, ct);
        return TypedResults.Ok<IReadOnlyList<TreatmentSessionResponse>>(sessions);
    }

    public static async Task<Results<Ok<TreatmentSessionResponse>, NotFoundProblem>> GetSession(
        [Description("The patient's id.")] long patientId,
        [Description("The session's id.")] long sessionId,
        HttpContext http, Database db, TreatmentSessionSql sql, PatientAccess access, AuditLog audit, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        if (await access.SiteOrRefuseAsync(connection, CurrentUser.From(http.User), patientId, AuditActions.Read, Resource, ct) is null)
        {
            return Problems.NotFound("patient");
        }
        var row = await connection.QuerySingleOrDefaultAsync<SessionRow>(
            db.Command(sql.ById, new { Id = sessionId, PatientId = patientId }, ct));
        if (row is null)
        {
            return Problems.NotFound(Resource.Replace('_', ' '));
        }
        var sessions = await WithSitesAsync(connection, db, sql, [row], ct);
        await audit.AppendAsync(connection, AuditActions.Read, Resource, sessionId, patientId, ct);
        return TypedResults.Ok(sessions[0]);
    }

    internal static ValidationErrors Validate(CreateTreatmentSessionRequest request, DateOnly today)
    {
        var errors = new ValidationErrors();
        if (errors.Required(request.SessionDate, "sessionDate"))
        {
            errors.Check(request.SessionDate!.Value <= today.AddDays(1), "sessionDate", "must not be in the future");
        }
        errors.Required(request.PractitionerId, "practitionerId");
        errors.Required(request.Product, "product");
        errors.Required(request.Guidance, "guidance");
        if (errors.Required(request.DilutionUnitsPerMl, "dilutionUnitsPerMl"))
        {
            errors.Check(request.DilutionUnitsPerMl!.Value is > 0 and <= SessionRules.MaxDilutionUnitsPerMl,
                "dilutionUnitsPerMl", $"must be greater than 0 and at most {SessionRules.MaxDilutionUnitsPerMl}");
        }
        if (errors.Required(request.InjectionSites, "injectionSites"))
        {
            var sites = request.InjectionSites!;
            errors.Check(sites.Count is > 0 and <= SessionRules.MaxSites, "injectionSites",
                $"must list between 1 and {SessionRules.MaxSites} sites");
            for (var i = 0; i < sites.Count && i < SessionRules.MaxSites; i++)
            {
                var field = $"injectionSites[{i}]";
                var site = sites[i];
                if (site is null)
                {
                    errors.Add(field, "is required");
                    continue;
                }
                if (errors.Required(site.Muscle, $"{field}.muscle"))
                {
                    errors.Check(Muscles.IsKnown(site.Muscle), $"{field}.muscle", "is not in the muscle catalogue");
                }
                errors.Required(site.Side, $"{field}.side");
                if (errors.Required(site.Units, $"{field}.units"))
                {
                    var units = site.Units!.Value;
                    errors.Check(units is > 0 and <= SessionRules.MaxUnitsPerSite, $"{field}.units",
                        $"must be greater than 0 and at most {SessionRules.MaxUnitsPerSite}");
                    errors.Check(SessionRules.HasValidPrecision(units), $"{field}.units",
                        "must have at most two decimal places");
                }
            }
        }
        return errors;
    }

    private static async Task<List<TreatmentSessionResponse>> WithSitesAsync(
        DbConnection connection, Database db, TreatmentSessionSql sql, List<SessionRow> rows, CancellationToken ct)
    {
        if (rows.Count == 0)
        {
            return [];
        }
        var sites = (await connection.QueryAsync<InjectionSiteRow>(
                db.Command(sql.SitesOfSessions, new { Ids = rows.Select(r => r.Id).ToArray() }, ct)))
            .ToLookup(s => s.SessionId, s => new InjectionSiteResponse(s.Muscle, EnumCode<BodySide>.Parse(s.Side), s.Units));
        return rows.Select(r => new TreatmentSessionResponse(r.Id, r.PatientId, r.PractitionerId, r.SessionDate,
            EnumCode<Product>.Parse(r.Product), EnumCode<Guidance>.Parse(r.Guidance), r.DilutionUnitsPerMl, r.TotalUnits,
            [.. sites[r.Id]], r.CreatedAt)).ToList();
    }
}

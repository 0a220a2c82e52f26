using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Audit;
using Outcomes.Api.Infrastructure;
using Outcomes.Core.Validation;

namespace Outcomes.Api.Features.Practitioners;

/// <param name="SiteId">The one site the practitioner works at.</param>
/// <param name="DisplayName">Name shown to colleagues.</param>
public sealed record CreatePractitionerRequest([property: Required] long? SiteId, [property: Required] string? DisplayName);

public sealed record PractitionerResponse(long Id, long SiteId, string DisplayName, DateTimeOffset CreatedAt);

public sealed class PractitionerSql(SqlDialect dialect) : SqlTexts(dialect)
{
    private const string Columns = "id, site_id, display_name, created_at";

    public string Insert { get; } = dialect.InsertReturningId(
        "practitioner", "site_id, display_name, created_at, created_by", "@SiteId, @DisplayName, @CreatedAt, @CreatedBy");

    public string ById { get; } = $"SELECT {Columns} FROM practitioner WHERE id = @Id;";

    public string BySite { get; } = $"SELECT {Columns} FROM practitioner WHERE (@SiteId IS NULL OR site_id = @SiteId) ORDER BY id;";
}

internal sealed class PractitionerRow
{
    public long Id { get; init; }
    public long SiteId { get; init; }
    public string DisplayName { get; init; } = "";
    public DateTimeOffset CreatedAt { get; init; }

    public PractitionerResponse ToResponse() => new(Id, SiteId, DisplayName, CreatedAt);
}

public static class PractitionersApi
{
    public const int MaxNameLength = 200;
    private const string Resource = "practitioner";

    public static RouteGroupBuilder MapPractitioners(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/practitioners").WithTags("Practitioners");

        group.MapPost("", CreatePractitioner)
            .RequireAuthorization(Policies.Admin)
            .WithName("CreatePractitioner")
            .WithSummary("Register a practitioner at a site")
            .WithDescription("Admins only. A practitioner belongs to exactly one site.");

        group.MapGet("", ListPractitioners)
            .RequireAuthorization(Policies.Clinician)
            .WithName("ListPractitioners")
            .WithSummary("List practitioners")
            .WithDescription("Admins see every site (or the one named); practitioners see their own site.");

        group.MapGet("/{practitionerId:long}", GetPractitioner)
            .RequireAuthorization(Policies.Clinician)
            .WithName("GetPractitioner")
            .WithSummary("One practitioner")
            .WithDescription("Practitioners see colleagues of their own site only.");

        return group;
    }

    public static async Task<Results<Created<PractitionerResponse>, ValidationProblem>> CreatePractitioner(
        CreatePractitionerRequest request, HttpContext http, Database db, PractitionerSql sql, Sites.SiteSql sites, AuditLog audit,
        TimeProvider clock, CancellationToken ct)
    {
        var name = request.DisplayName?.Trim();
        var errors = new ValidationErrors();
        if (errors.Required(name, "displayName"))
        {
            errors.Text(name!, "displayName", MaxNameLength);
        }
        await using var connection = await db.OpenAsync(ct);
        if (errors.Required(request.SiteId, "siteId")
            && await connection.ExecuteScalarAsync<long>(db.Command(sites.SiteExists, new { Id = request.SiteId }, ct)) == 0)
        {
            errors.Add("siteId", "no such site");
        }
        if (!errors.IsEmpty)
        {
            return Problems.Invalid(errors);
        }

        var now = clock.GetUtcNow();
        using var writeTurn = await db.EnterWriteAsync(connection, ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var id = await connection.ExecuteScalarAsync<long>(db.Command(sql.Insert, new
        {
            request.SiteId,
            DisplayName = name,
            CreatedAt = now,
            CreatedBy = CurrentUser.From(http.User).Subject,
        }, ct, tx));
        await audit.AppendAsync(connection, AuditActions.Create, Resource, id, null, ct, tx);
        await tx.CommitAsync(ct);
        return TypedResults.Created($"/api/v1/practitioners/{id}", new PractitionerResponse(id, request.SiteId!.Value, name!, now));
    }

    public static async Task<Ok<IReadOnlyList<PractitionerResponse>>> ListPractitioners(
        [Description("Only practitioners of this site.")] long? siteId,
        HttpContext http, Database db, PractitionerSql sql, CancellationToken ct)
    {
        var user = CurrentUser.From(http.User);
        siteId = user.ConfineToSite(siteId);
        await using var connection = await db.OpenAsync(ct);
        var rows = await connection.QueryAsync<PractitionerRow>(db.Command(sql.BySite, new { SiteId = siteId }, ct));
        return TypedResults.Ok<IReadOnlyList<PractitionerResponse>>([.. rows.Select(r => r.ToResponse())]);
    }

    public static async Task<Results<Ok<PractitionerResponse>, NotFoundProblem>> GetPractitioner(
        [Description("The practitioner's id.")] long practitionerId,
        HttpContext http, Database db, PractitionerSql sql, CancellationToken ct)
    {
        var user = CurrentUser.From(http.User);
        await using var connection = await db.OpenAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<PractitionerRow>(db.Command(sql.ById, new { Id = practitionerId }, ct));
        return row is null || !(user.IsAdmin || row.SiteId == user.SiteId)
            ? Problems.NotFound(Resource)
            : TypedResults.Ok(row.ToResponse());
    }
}

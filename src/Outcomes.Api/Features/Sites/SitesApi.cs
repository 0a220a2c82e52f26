using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Data.Common;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Audit;
using Outcomes.Api.Infrastructure;
using Outcomes.Core.Validation;

namespace Outcomes.Api.Features.Sites;

/// <param name="Name">The site's name, unique across the service.</param>
public sealed record CreateSiteRequest([property: Required] string? Name);

public sealed record SiteResponse(long Id, string Name, DateTimeOffset CreatedAt);

public sealed class SiteSql(SqlDialect dialect) : SqlTexts(dialect)
{
    public string Insert { get; } = dialect.InsertReturningId(
        "site", "name, created_at, created_by", "@Name, @CreatedAt, @CreatedBy");

    public string ById { get; } = "SELECT id, name, created_at FROM site WHERE id = @Id;";

    /// <summary>1 when the site exists, else 0.</summary>
    public string SiteExists { get; } = "SELECT COUNT(*) FROM site WHERE id = @Id;";

    public string All { get; } = "SELECT id, name, created_at FROM site ORDER BY id;";
}

internal sealed class SiteRow
{
    public long Id { get; init; }
    public string Name { get; init; } = "";
    public DateTimeOffset CreatedAt { get; init; }

    public SiteResponse ToResponse() => new(Id, Name, CreatedAt);
}

public static class SitesApi
{
    public const int MaxNameLength = 200;
    private const string Resource = "site";

    public static RouteGroupBuilder MapSites(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/sites").WithTags("Sites");

        group.MapPost("", CreateSite)
            .RequireAuthorization(Policies.Admin)
            .WithName("CreateSite")
            .WithSummary("Create a clinic site")
            .WithDescription("Admins only. Names are unique: a second site of the same name is a 409.");

        group.MapGet("", ListSites)
            .RequireAuthorization(Policies.Staff)
            .WithName("ListSites")
            .WithSummary("List clinic sites")
            .WithDescription("Practitioners, auditors and admins. Sites hold no personal data.");

        group.MapGet("/{siteId:long}", GetSite)
            .RequireAuthorization(Policies.Staff)
            .WithName("GetSite")
            .WithSummary("One clinic site")
            .WithDescription("Practitioners, auditors and admins.");

        return group;
    }

    public static async Task<Results<Created<SiteResponse>, ValidationProblem, ConflictProblem>> CreateSite(
        CreateSiteRequest request, HttpContext http, Database db, SiteSql sql, AuditLog audit, TimeProvider clock, CancellationToken ct)
    {
        var name = request.Name?.Trim();
        var errors = new ValidationErrors();
        if (errors.Required(name, "name"))
        {
            errors.Text(name!, "name", MaxNameLength);
        }
        if (!errors.IsEmpty)
        {
            return Problems.Invalid(errors);
        }

        var now = clock.GetUtcNow();
        await using var connection = await db.OpenAsync(ct);
        using var writeTurn = await db.EnterWriteAsync(connection, ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        long id;
        try
        {
            id = await connection.ExecuteScalarAsync<long>(db.Command(sql.Insert,
                new { Name = name, CreatedAt = now, CreatedBy = CurrentUser.From(http.User).Subject }, ct, tx));
        }
        catch (DbException e) when (db.Dialect.IsUniqueViolation(e))
        {
            return Problems.Conflict("A site with this name already exists.");
        }
        await audit.AppendAsync(connection, AuditActions.Create, Resource, id, null, ct, tx);
        await tx.CommitAsync(ct);
        return TypedResults.Created($"/api/v1/sites/{id}", new SiteResponse(id, name!, now));
    }

    public static async Task<Ok<IReadOnlyList<SiteResponse>>> ListSites(Database db, SiteSql sql, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        var rows = await connection.QueryAsync<SiteRow>(db.Command(sql.All, null, ct));
        return TypedResults.Ok<IReadOnlyList<SiteResponse>>([.. rows.Select(r => r.ToResponse())]);
    }

    public static async Task<Results<Ok<SiteResponse>, NotFoundProblem>> GetSite(
        [Description("The site's id.")] long siteId, Database db, SiteSql sql, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<SiteRow>(db.Command(sql.ById, new { Id = siteId }, ct));
        return row is null ? Problems.NotFound(Resource) : TypedResults.Ok(row.ToResponse());
    }
}

using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Outcomes.Api.Data;

namespace Outcomes.Api.Features.Health;

public sealed record HealthResponse(string Status);

public static class HealthApi
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/health").WithTags("Health").AllowAnonymous();

        group.MapGet("/live", () => TypedResults.Ok(new HealthResponse("live")))
            .WithName("Live")
            .WithSummary("The process is up (no dependencies checked)")
            .WithDescription("Liveness probe. Anonymous; touches nothing but the process.");

        group.MapGet("/ready", Ready)
            .WithName("Ready")
            .WithSummary("The database answers, its schema is current, and it can take writes")
            .WithDescription("Readiness probe. Anonymous. 503 problem when the database cannot be reached, migrations are pending (or the database is newer than this build), its storage is full, or it has reported its file damaged.");

        return app;
    }

    /// <summary>
    /// Ready when the database answers, its file has not shown damage, its schema is current, and
    /// (after a write failed for want of space) a probe write commits again.
    /// </summary>
    public static async Task<Results<Ok<HealthResponse>, ProblemHttpResult>> Ready(
        DatabaseHealth health, ILogger<HealthResponse> logger, CancellationToken ct)
    {
        if (health.Damage is { } damage)
        {
            return Damaged(damage);
        }
        try
        {
            var schema = await health.CheckSchemaAsync(ct);
            if (!schema.IsCurrent)
            {
                return Unavailable($"The schema is not current: {schema.Describe()}.");
            }
            if (!await health.ProbeStorageAsync(ct))
            {
                return Unavailable("The database's storage is full: writes cannot commit until space is freed.");
            }
            return TypedResults.Ok(new HealthResponse("ready"));
        }
        catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException)
        {
            if (e is System.Data.Common.DbException db)
            {
                health.Observe(db);
            }
            logger.LogWarning("Readiness check failed: {ExceptionType}", e.GetType().Name);
            return health.Damage is { } d ? Damaged(d) : Unavailable("The database cannot be reached.");
        }
    }

    private static ProblemHttpResult Damaged(string error) =>
        Unavailable($"The database file is damaged ({error}); restore it from a backup.");

    private static ProblemHttpResult Unavailable(string detail) =>
        TypedResults.Problem(new ProblemDetails
        {
            Status = StatusCodes.Status503ServiceUnavailable,
            Title = "Not ready",
            Detail = detail,
        });
}

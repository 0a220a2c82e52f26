using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Outcomes.Api.Data;

namespace Outcomes.Api.Features.Health;

public sealed record HealthResponse(string Status);

public sealed class HealthSql(SqlDialect dialect) : SqlTexts(dialect)
{
    public string AppliedMigrations { get; } = $"SELECT COUNT(*) FROM {Migrator.JournalTable};";
}

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
            .WithSummary("The database answers and its schema is current")
            .WithDescription("Readiness probe. Anonymous. 503 problem when the database cannot be reached or migrations are pending.");

        return app;
    }

    public static async Task<Results<Ok<HealthResponse>, ProblemHttpResult>> Ready(
        Database db, HealthSql sql, ILogger<HealthResponse> logger, CancellationToken ct)
    {
        try
        {
            await using var connection = await db.OpenAsync(ct);
            var applied = await connection.ExecuteScalarAsync<int>(db.Command(sql.AppliedMigrations, null, ct));
            var expected = Migrator.ScriptCount(db.Dialect.Provider);
            if (applied < expected)
            {
                return Unavailable($"{expected - applied} migration(s) pending; run the migrate command.");
            }
            return TypedResults.Ok(new HealthResponse("ready"));
        }
        catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException)
        {
            logger.LogWarning("Readiness check failed: {ExceptionType}", e.GetType().Name);
            return Unavailable("The database cannot be reached.");
        }
    }

    private static ProblemHttpResult Unavailable(string detail) =>
        TypedResults.Problem(new ProblemDetails
        {
            Status = StatusCodes.Status503ServiceUnavailable,
            Title = "Not ready",
            Detail = detail,
        });
}

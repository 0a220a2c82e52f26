using Microsoft.AspNetCore.Mvc;
using Outcomes.Api.Data;

namespace Outcomes.Api.Infrastructure;

/// <summary>
/// Answers every <c>/api</c> and <c>/fhir</c> request with a 503 problem while the database schema is not current
/// (<c>Database:MigrateOnStartup=false</c> and the migrate command not yet run, or a database a newer
/// build migrated), instead of letting each query fail on a missing table with a 500. The status is
/// checked again every two seconds while not current, so the API opens as soon as an operator migrates.
/// </summary>
public sealed class SchemaGateMiddleware(RequestDelegate next, DatabaseHealth health, IProblemDetailsService problems)
{
    public async Task InvokeAsync(HttpContext http)
    {
        if (DataPaths.Contains(http.Request.Path))
        {
            var schema = await health.SchemaForRequestAsync(http.RequestAborted);
            if (!schema.IsCurrent)
            {
                http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                http.Response.Headers.RetryAfter = "30";
                await problems.WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = http,
                    ProblemDetails = new ProblemDetails
                    {
                        Status = StatusCodes.Status503ServiceUnavailable,
                        Title = "Schema not current",
                        Detail = $"The database schema is not current: {schema.Describe()}.",
                    },
                });
                return;
            }
        }
        await next(http);
    }
}

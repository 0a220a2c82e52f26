using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Audit;

namespace Outcomes.Api.Infrastructure;

/// <summary>
/// Appends an audit event for every refused request — no or invalid token (401), a role that may
/// not call the endpoint (403) — then answers as the framework would.
/// </summary>
public sealed class AuditingAuthorizationResultHandler(Database db, ILogger<AuditingAuthorizationResultHandler> logger)
    : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Challenged || authorizeResult.Forbidden)
        {
            try
            {
                await using var connection = await db.OpenAsync(context.RequestAborted);
                await context.RequestServices.GetRequiredService<AuditLog>().AppendAsync(connection,
                    "authorize", "endpoint", OutcomesExceptionHandler.RouteTemplate(context), null, context.RequestAborted,
                    outcome: authorizeResult.Challenged ? "unauthenticated" : "denied");
            }
            catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException)
            {
                // The refusal stands whether or not it could be recorded.
                logger.LogWarning("A refused request could not be audited: {ExceptionType}", e.GetType().Name);
            }
        }
        await _default.HandleAsync(next, context, policy, authorizeResult);
    }
}

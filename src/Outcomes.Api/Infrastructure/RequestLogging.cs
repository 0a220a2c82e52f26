using System.Diagnostics;

namespace Outcomes.Api.Infrastructure;

/// <summary>
/// One structured line per request: method, route template (never the path or query string,
/// which carry identifiers), status and duration. Bodies are never logged.
/// </summary>
public sealed class RequestLoggingMiddleware(RequestDelegate next, ILogger<RequestLoggingMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext http)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(http);
        }
        finally
        {
            logger.LogInformation("{Method} {Route} answered {StatusCode} in {ElapsedMs:F1} ms (request {RequestId})",
                http.Request.Method,
                OutcomesExceptionHandler.RouteTemplate(http),
                http.Response.StatusCode,
                Stopwatch.GetElapsedTime(started).TotalMilliseconds,
                http.TraceIdentifier);
        }
    }
}

/// <summary>Headers every response carries; patient data is never cached.</summary>
public sealed class SecurityHeadersMiddleware(RequestDelegate next, Microsoft.Extensions.Options.IOptions<WebClientOptions> webClient)
{
    // The client loads only its own files and talks only to this origin, and to the clinic's OpenID provider for staff sign-in.
    private readonly string _clientPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        + $"connect-src 'self'{(webClient.Value.Oidc?.Origin is { } provider ? " " + provider : "")}; worker-src 'self'; manifest-src 'self'; "
        + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    public Task InvokeAsync(HttpContext http)
    {
        http.Response.OnStarting(() =>
        {
            var headers = http.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            if (DataPaths.Contains(http.Request.Path))
            {
                headers.CacheControl = "no-store";
            }
            else if (http.Request.Path.StartsWithSegments(WebClient.PathPrefix, StringComparison.Ordinal))
            {
                headers.ContentSecurityPolicy = _clientPolicy;
                headers["Referrer-Policy"] = "no-referrer";
            }
            return Task.CompletedTask;
        });
        return next(http);
    }
}

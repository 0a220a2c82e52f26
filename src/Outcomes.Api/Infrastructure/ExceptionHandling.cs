using System.Data.Common;
using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Outcomes.Api.Data;

namespace Outcomes.Api.Infrastructure;

/// <summary>
/// Turns exceptions into problem details: a malformed body is a 400 that names the field, a busy
/// or timed-out database a 503, anything else a 500. No stack trace or exception message leaves
/// the service, and messages are kept out of the log too, because a database error can quote the
/// values of a row. A full disk is a 507; what a database error shows of the storage or the file is
/// recorded for readiness (<see cref="DatabaseHealth"/>).
/// </summary>
public sealed class OutcomesExceptionHandler(
    IProblemDetailsService problemDetails,
    Database database,
    DatabaseHealth health,
    Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> jsonOptions,
    ILogger<OutcomesExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var http = httpContext;
        if (exception is DbException observed)
        {
            health.Observe(observed);
        }
        var problem = exception switch
        {
            BadHttpRequestException { InnerException: JsonException json } => await BodyProblemAsync(http, json),
            BadHttpRequestException { StatusCode: StatusCodes.Status400BadRequest } bad
                when BindingProblems.Diagnose(bad, http, http.GetEndpoint() ?? http.Features.Get<IExceptionHandlerFeature>()?.Endpoint) is { IsEmpty: false } errors =>
                new HttpValidationProblemDetails(errors.ToDictionary())
                {
                    Status = StatusCodes.Status400BadRequest,
                    Title = "One or more fields are invalid.",
                },
            BadHttpRequestException bad => new ProblemDetails
            {
                Status = bad.StatusCode,
                Title = bad.StatusCode switch
                {
                    StatusCodes.Status413PayloadTooLarge => "Request body too large",
                    StatusCodes.Status415UnsupportedMediaType => "Unsupported media type",
                    _ => "Bad request",
                },
                // The framework's own wording names its types, not the API's; say it in the API's words.
                Detail = bad.StatusCode switch
                {
                    StatusCodes.Status413PayloadTooLarge => null,
                    StatusCodes.Status415UnsupportedMediaType => "Send the body as application/json.",
                    _ => "The request could not be read.",
                },
            },
            DbException db when database.Dialect.IsUnavailable(db) => Unavailable(),
            Features.Cohorts.SeriesRefreshBusyException => Unavailable(),
            DbException db when database.Dialect.IsStorageFull(db) => new ProblemDetails
            {
                Status = StatusCodes.Status507InsufficientStorage,
                Title = "Storage full",
                Detail = "The database's storage is full, so nothing was stored. Retry once an operator has freed space.",
                Type = "https://www.rfc-editor.org/rfc/rfc4918#section-11.5",
            },
            _ => null,
        };

        if (problem is null)
        {
            // A database error is logged by its code: its message can quote the values of a row.
            logger.LogError("Unhandled {ExceptionType} on {Method} {Route} ({Error}): {StackTrace}",
                exception.GetType().FullName, http.Request.Method, RouteTemplate(http),
                exception is DbException db ? database.Dialect.Describe(db) : "not a database error", exception.StackTrace);
            problem = new ProblemDetails
            {
                Status = StatusCodes.Status500InternalServerError,
                Title = "Internal server error",
                Detail = "An unexpected error occurred. It has been logged with this request's id.",
            };
        }
        else if (problem.Status == StatusCodes.Status503ServiceUnavailable)
        {
            logger.LogWarning("Database unavailable on {Method} {Route}", http.Request.Method, RouteTemplate(http));
            http.Response.Headers.RetryAfter = "5";
        }
        else if (problem.Status == StatusCodes.Status507InsufficientStorage)
        {
            logger.LogError("Storage full on {Method} {Route} ({Error})", http.Request.Method, RouteTemplate(http),
                database.Dialect.Describe((DbException)exception));
            http.Response.Headers.RetryAfter = "60";
        }

        http.Response.StatusCode = problem.Status!.Value;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = problem,
            Exception = exception,
        });
    }

    private static ProblemDetails Unavailable() => new()
    {
        Status = StatusCodes.Status503ServiceUnavailable,
        Title = "Database unavailable",
        Detail = "The database is busy or did not answer in time. Retry later.",
    };

    /// <summary>The matched route template; the exception handler clears the endpoint, so its feature is asked too.</summary>
    public static string RouteTemplate(HttpContext http) =>
        ((http.GetEndpoint() ?? http.Features.Get<IExceptionHandlerFeature>()?.Endpoint) as RouteEndpoint)?.RoutePattern.RawText is { } raw
            ? raw.Length > 1 ? raw.TrimEnd('/') : raw
            : "(no route)";

    /// <summary>
    /// Every member of the body that does not bind, named in one answer (<see cref="JsonBody"/>):
    /// the body is read again from its buffer (<see cref="JsonBodyBuffering"/>) and checked against
    /// the endpoint's request type. Without either, the member System.Text.Json stopped at.
    /// </summary>
    private async Task<HttpValidationProblemDetails> BodyProblemAsync(HttpContext http, JsonException json)
    {
        var errors = new Core.Validation.ValidationErrors();
        var endpoint = http.GetEndpoint() ?? http.Features.Get<IExceptionHandlerFeature>()?.Endpoint;
        var requestType = endpoint?.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>()?.RequestType;
        if (requestType is not null && http.Request.Body.CanSeek)
        {
            http.Request.Body.Position = 0;
            try
            {
                using var document = await JsonDocument.ParseAsync(http.Request.Body, new JsonDocumentOptions { MaxDepth = 32 });
                errors = document.RootElement.ValueKind == JsonValueKind.Object
                    ? JsonBody.Diagnose(document.RootElement, requestType, jsonOptions.Value.SerializerOptions)
                    : Invalid("$", "the body must be a JSON object");
            }
            catch (JsonException)
            {
                errors = Invalid("$", "the body is not valid JSON");
            }
        }
        if (errors.IsEmpty)
        {
            var field = JsonPathToField(json.Path);
            errors.Add(field, field == "$" ? "the body is not valid JSON" : "has a value of the wrong type or format");
        }
        return new HttpValidationProblemDetails(errors.ToDictionary())
        {
            Status = StatusCodes.Status400BadRequest,
            Title = "One or more fields are invalid.",
        };
    }

    private static Core.Validation.ValidationErrors Invalid(string field, string message)
    {
        var errors = new Core.Validation.ValidationErrors();
        errors.Add(field, message);
        return errors;
    }

    /// <summary><c>$.injectionSites[0].side</c> becomes <c>injectionSites[0].side</c>.</summary>
    internal static string JsonPathToField(string? path) =>
        string.IsNullOrEmpty(path) || path == "$" ? "$" : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path;
}

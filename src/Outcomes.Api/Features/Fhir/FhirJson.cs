using System.Text.Json;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;
using Hl7.Fhir.Serialization;
using Microsoft.AspNetCore.Mvc;

namespace Outcomes.Api.Features.Fhir;

/// <summary>FHIR's JSON, written and read by Firely's SDK (never by hand), and the media types the facade speaks.</summary>
public static class FhirJson
{
    public const string MediaType = "application/fhir+json";
    public const string NdjsonMediaType = "application/fhir+ndjson";
    public const string PathPrefix = "/fhir";

    /// <summary>Strict: an unknown element, a wrong code or a missing required element is a parse error.</summary>
    public static JsonSerializerOptions Options { get; } = new JsonSerializerOptions().ForFhir(ModelInfo.ModelInspector);

    public static bool IsFhirRequest(HttpContext http) =>
        http.Request.Path.StartsWithSegments(PathPrefix, StringComparison.Ordinal);

    public static string Serialize(Resource resource) => JsonSerializer.Serialize(resource, resource.GetType(), Options);

    public static async Task WriteAsync(HttpContext http, int status, Resource resource, CancellationToken ct)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = MediaType + "; charset=utf-8";
        await JsonSerializer.SerializeAsync(http.Response.Body, resource, resource.GetType(), Options, ct);
    }

    /// <summary>A content type a FHIR write may carry: FHIR's JSON, or plain JSON (clients that do not know the FHIR type).</summary>
    public static bool IsJsonContent(string? contentType) =>
        contentType is not null
        && Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var parsed)
        && parsed.MediaType.Value is MediaType or "application/json";

    /// <summary>
    /// Whether the client takes JSON: no Accept, */*, application/json or application/fhir+json, and a <c>_format</c>
    /// of json or one of those types. XML is not served.
    /// </summary>
    public static bool AcceptsJson(HttpContext http)
    {
        if (http.Request.Query.TryGetValue("_format", out var format))
        {
            return format.All(f => f is "json" or MediaType or "application/json");
        }
        var accept = http.Request.GetTypedHeaders().Accept;
        return accept.Count == 0 || accept.Any(a => a.MediaType.Value is "*/*" or "application/*" or MediaType or "application/json" or NdjsonMediaType);
    }
}

/// <summary>An <see cref="IResult"/> that writes one FHIR resource with its status, location and version headers.</summary>
public sealed class FhirResult(int status, Resource resource, string? location = null) : IResult
{
    public int Status => status;

    public Resource Resource => resource;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        if (location is not null)
        {
            httpContext.Response.Headers.Location = location;
        }
        if (resource.Meta is { VersionId: { } version, LastUpdated: { } updated } && resource is not Bundle and not OperationOutcome)
        {
            httpContext.Response.Headers.ETag = $"W/\"{version}\"";
            httpContext.Response.Headers.LastModified = updated.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        }
        await FhirJson.WriteAsync(httpContext, status, resource, httpContext.RequestAborted);
    }
}

/// <summary>Errors as FHIR says: an OperationOutcome with an issue per problem, and the matching status code.</summary>
public static class FhirOutcomes
{
    public static FhirResult Error(int status, string diagnostics, OperationOutcome.IssueType? code = null, IEnumerable<(string? Expression, string Message)>? issues = null)
    {
        var outcome = new OperationOutcome();
        var listed = issues?.ToList() ?? [];
        if (listed.Count == 0)
        {
            outcome.Issue.Add(Issue(code ?? IssueTypeOf(status), diagnostics, null));
        }
        foreach (var (expression, message) in listed)
        {
            outcome.Issue.Add(Issue(code ?? IssueTypeOf(status), expression is null ? message : $"{expression}: {message}", expression));
        }
        return new FhirResult(status, outcome);
    }

    public static FhirResult NotFound(string type, string id) =>
        Error(StatusCodes.Status404NotFound, $"{type}/{id} is not known", OperationOutcome.IssueType.NotFound);

    public static FhirResult Invalid(string diagnostics, string? expression = null) =>
        expression is null
            ? Error(StatusCodes.Status400BadRequest, diagnostics, OperationOutcome.IssueType.Invalid)
            : Error(StatusCodes.Status400BadRequest, diagnostics, OperationOutcome.IssueType.Invalid, [((string?)expression, diagnostics)]);

    public static FhirResult Invalid(Core.Validation.ValidationErrors errors, Func<string, string> expressionOf) =>
        Error(StatusCodes.Status400BadRequest, "The resource is not valid.", OperationOutcome.IssueType.Invalid,
            errors.ToDictionary().SelectMany(e => e.Value.Select(m => ((string?)expressionOf(e.Key), m))));

    /// <summary>Informational outcome, e.g. for a search parameter that was ignored.</summary>
    public static OperationOutcome.IssueComponent Warning(string diagnostics) => new()
    {
        Severity = OperationOutcome.IssueSeverity.Warning,
        Code = OperationOutcome.IssueType.NotSupported,
        Diagnostics = diagnostics,
    };

    /// <summary>A problem the rest of the service raised (authorization, status code pages, an unexpected failure) in FHIR's form.</summary>
    public static OperationOutcome From(ProblemDetails problem)
    {
        var status = problem.Status ?? StatusCodes.Status500InternalServerError;
        var outcome = new OperationOutcome();
        if (problem is HttpValidationProblemDetails { Errors.Count: > 0 } validation)
        {
            foreach (var (field, messages) in validation.Errors)
            {
                foreach (var message in messages)
                {
                    outcome.Issue.Add(Issue(IssueTypeOf(status), $"{field}: {message}", field));
                }
            }
        }
        else
        {
            var text = problem.Detail is { Length: > 0 } detail ? $"{problem.Title}: {detail}" : problem.Title ?? "Error";
            outcome.Issue.Add(Issue(IssueTypeOf(status), text, null));
        }
        return outcome;
    }

    private static OperationOutcome.IssueComponent Issue(OperationOutcome.IssueType code, string diagnostics, string? expression)
    {
        var issue = new OperationOutcome.IssueComponent
        {
            Severity = OperationOutcome.IssueSeverity.Error,
            Code = code,
            Diagnostics = diagnostics,
        };
        if (expression is not null)
        {
            issue.Expression = [expression];
        }
        return issue;
    }

    public static OperationOutcome.IssueType IssueTypeOf(int status) => status switch
    {
        400 => OperationOutcome.IssueType.Invalid,
        401 => OperationOutcome.IssueType.Login,
        403 => OperationOutcome.IssueType.Forbidden,
        404 => OperationOutcome.IssueType.NotFound,
        405 or 406 or 415 or 501 => OperationOutcome.IssueType.NotSupported,
        409 => OperationOutcome.IssueType.Conflict,
        410 => OperationOutcome.IssueType.Deleted,
        412 => OperationOutcome.IssueType.Duplicate,
        413 => OperationOutcome.IssueType.TooCostly,
        422 => OperationOutcome.IssueType.Processing,
        429 => OperationOutcome.IssueType.Throttled,
        503 or 507 => OperationOutcome.IssueType.Transient,
        _ => OperationOutcome.IssueType.Exception,
    };
}

/// <summary>
/// Writes every problem the service answers on a <c>/fhir</c> path (401, 403, an unknown route, a rate limit, a
/// 500) as an OperationOutcome in <c>application/fhir+json</c>, with the status unchanged. Registered before the
/// default writer, so it goes first.
/// </summary>
public sealed class FhirProblemWriter : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) => FhirJson.IsFhirRequest(context.HttpContext);

    public async ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var http = context.HttpContext;
        var status = context.ProblemDetails.Status ?? (http.Response.StatusCode >= 400 ? http.Response.StatusCode : 500);
        context.ProblemDetails.Status = status;
        context.ProblemDetails.Title ??= Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
        if (http.Items.TryGetValue(Devices.DeviceTokenValidation.ChallengeDetailKey, out var challenge))
        {
            context.ProblemDetails.Detail ??= challenge as string;
        }
        context.ProblemDetails.Detail ??= status switch
        {
            StatusCodes.Status401Unauthorized => "Send a bearer token.",
            StatusCodes.Status403Forbidden => "The token's role may not do this.",
            StatusCodes.Status404NotFound => "This FHIR server has nothing at this path; what it supports is in /fhir/metadata.",
            StatusCodes.Status405MethodNotAllowed => "This path does not take that method; see /fhir/metadata.",
            _ => null,
        };
        await FhirJson.WriteAsync(http, status, FhirOutcomes.From(context.ProblemDetails), http.RequestAborted);
    }
}

using System.Reflection;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;

namespace Outcomes.Api.Infrastructure;

/// <summary>
/// A problem-details result with a fixed status, written as <c>application/problem+json</c>, that
/// also tells the OpenAPI document which status it answers with.
/// </summary>
public abstract class StatusProblem(ProblemDetails problem) : IResult, IStatusCodeHttpResult, IValueHttpResult, IValueHttpResult<ProblemDetails>
{
    public ProblemDetails Value => problem;

    object? IValueHttpResult.Value => problem;

    public int? StatusCode => problem.Status;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = problem.Status ?? StatusCodes.Status500InternalServerError;
        return httpContext.RequestServices.GetRequiredService<IProblemDetailsService>()
            .WriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem }).AsTask();
    }

    protected static void Describe(EndpointBuilder builder, int status) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(status, typeof(ProblemDetails), ["application/problem+json"]));
}

/// <summary>404: the resource does not exist, or the caller may not know that it does.</summary>
public sealed class NotFoundProblem(ProblemDetails problem) : StatusProblem(problem), IEndpointMetadataProvider
{
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) => Describe(builder, StatusCodes.Status404NotFound);
}

/// <summary>409: the request conflicts with what is stored.</summary>
public sealed class ConflictProblem(ProblemDetails problem) : StatusProblem(problem), IEndpointMetadataProvider
{
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) => Describe(builder, StatusCodes.Status409Conflict);
}

/// <summary>
/// A 200 JSON answer, either a value streamed as <c>Ok&lt;TValue&gt;</c> streams it (the service's JSON options, no copy
/// of the whole body in memory) or a body serialized beforehand with the same options (one kept to be written again),
/// byte for byte the same; documented in the OpenAPI document as <c>Ok&lt;TValue&gt;</c> is.
/// </summary>
public sealed class JsonOk<TValue> : IResult, IStatusCodeHttpResult, IEndpointMetadataProvider where TValue : class
{
    private const string ContentType = "application/json; charset=utf-8";

    private readonly TValue? _value;
    private readonly byte[]? _json;

    /// <summary>A value to stream.</summary>
    public JsonOk(TValue value) => _value = value;

    /// <summary>A body serialized beforehand.</summary>
    public JsonOk(byte[] json) => _json = json;

    public int? StatusCode => StatusCodes.Status200OK;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = StatusCodes.Status200OK;
        if (_json is null)
        {
            var options = httpContext.RequestServices
                .GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
            await httpContext.Response.WriteAsJsonAsync(_value, options, ContentType, httpContext.RequestAborted);
            return;
        }
        httpContext.Response.ContentType = ContentType;
        httpContext.Response.ContentLength = _json.Length;
        await httpContext.Response.Body.WriteAsync(_json, httpContext.RequestAborted);
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(TValue), ["application/json"]));
}

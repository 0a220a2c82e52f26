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
/// A 200 answer whose JSON body was serialized beforehand, byte for byte what <c>Ok&lt;TValue&gt;</c> writes with the
/// service's JSON options (so it can be kept and written again), documented in the OpenAPI document as <c>Ok&lt;TValue&gt;</c> is.
/// </summary>
public sealed class SerializedOk<TValue>(byte[] json) : IResult, IStatusCodeHttpResult, IEndpointMetadataProvider
{
    public int? StatusCode => StatusCodes.Status200OK;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = StatusCodes.Status200OK;
        httpContext.Response.ContentType = "application/json; charset=utf-8";
        httpContext.Response.ContentLength = json.Length;
        await httpContext.Response.Body.WriteAsync(json, httpContext.RequestAborted);
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(TValue), ["application/json"]));
}

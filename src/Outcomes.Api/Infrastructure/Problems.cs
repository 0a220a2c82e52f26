using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Outcomes.Core.Validation;

namespace Outcomes.Api.Infrastructure;

/// <summary>RFC 9457 problem details for the outcomes every handler returns.</summary>
public static class Problems
{
    public static NotFoundProblem NotFound(string resource) =>
        new(new ProblemDetails
        {
            Status = StatusCodes.Status404NotFound,
            Title = "Not found",
            Detail = $"No {resource} with that id exists, or you may not see it.",
            Type = "https://tools.ietf.org/html/rfc9110#section-15.5.5",
        });

    public static ConflictProblem Conflict(string detail) =>
        new(new ProblemDetails
        {
            Status = StatusCodes.Status409Conflict,
            Title = "Conflict",
            Detail = detail,
            Type = "https://tools.ietf.org/html/rfc9110#section-15.5.10",
        });

    public static ValidationProblem Invalid(ValidationErrors errors) =>
        TypedResults.ValidationProblem(errors.ToDictionary(), title: "One or more fields are invalid.");

    public static ValidationProblem Invalid(string field, string message)
    {
        var errors = new ValidationErrors();
        errors.Add(field, message);
        return Invalid(errors);
    }
}

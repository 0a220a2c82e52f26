using Microsoft.AspNetCore.Http.HttpResults;
using Outcomes.Api.Infrastructure;
using Outcomes.Core.Clinic;

namespace Outcomes.Api.Features.Catalogue;

public static class CatalogueApi
{
    public static RouteGroupBuilder MapCatalogue(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/catalogue").WithTags("Catalogue").RequireAuthorization(Policies.AnyRole);

        group.MapGet("/muscles", ListMuscles)
            .WithName("ListMuscles")
            .WithSummary("Muscles an injection site may name")
            .WithDescription("Any role. Codes are stable; new muscles are appended, none is renamed or removed.");

        group.MapGet("/movements", ListMovements)
            .WithName("ListMovements")
            .WithSummary("Joint movements a range-of-motion measurement may name")
            .WithDescription("Any role. Each with the most it can physically reach; larger values are rejected.");

        return group;
    }

    public static Ok<IReadOnlyList<Muscle>> ListMuscles() => TypedResults.Ok(Muscles.All);

    public static Ok<IReadOnlyList<Movement>> ListMovements() => TypedResults.Ok(Movements.All);
}

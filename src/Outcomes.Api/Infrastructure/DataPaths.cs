namespace Outcomes.Api.Infrastructure;

/// <summary>
/// The paths that serve data: the native API under <c>/api</c> and the FHIR facade under <c>/fhir</c>. Both are
/// rate limited, never cached, and closed with a 503 while the schema is not current.
/// </summary>
public static class DataPaths
{
    public static bool Contains(PathString path) =>
        path.StartsWithSegments("/api", StringComparison.Ordinal) || path.StartsWithSegments("/fhir", StringComparison.Ordinal);
}

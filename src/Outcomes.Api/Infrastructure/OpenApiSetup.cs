using Microsoft.AspNetCore.Authorization;
using Microsoft.OpenApi;

namespace Outcomes.Api.Infrastructure;

public static class OpenApiSetup
{
    private const string Bearer = "Bearer";

    /// <summary>
    /// The document states, per operation, who may call it: the bearer requirement, the roles
    /// of its policy, and the 401/403 answers. Anonymous operations carry no requirement.
    /// </summary>
    public static IServiceCollection AddOutcomesOpenApi(this IServiceCollection services) =>
        services.AddOpenApi("v1", options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "Outcomes API",
                    Version = "v1",
                    Contact = new OpenApiContact { Name = "Outcomes maintainers (see README.md)" },
                    Description = "Patient-reported outcomes after trigger-point botulinum toxin injections: pseudonymous "
                        + "patients, treatment sessions, weekly pain scores, questionnaires, range of motion, pressure pain "
                        + "thresholds and side effects; each patient's trend and outcomes; de-identified cohort outcomes; "
                        + "the audit trail. Clinical definitions and their sources: docs/clinical-definitions.md in the repository. "
                        + "The same records are also served as HL7 FHIR R4 under /fhir (read, search, history, pain-score and "
                        + "questionnaire creates, Bulk Data export); that facade is not described here: its contract is its "
                        + "CapabilityStatement, at GET /fhir/metadata.",
                };
                // A relative server: clients call the host they reached; the committed document stays host-independent.
                document.Servers = [new OpenApiServer { Url = "/", Description = "The host serving this document" }];
                OpenApiContract.Apply(document);
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[Bearer] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    BearerFormat = "JWT",
                    Description = "A JWT with a `role` claim (patient, practitioner, auditor, admin); "
                        + "patients carry `patient_id`, practitioners `site_id`.",
                };
                return Task.CompletedTask;
            });

            options.AddOperationTransformer((operation, context, _) =>
            {
                var metadata = context.Description.ActionDescriptor.EndpointMetadata;
                if (metadata.OfType<IAllowAnonymous>().Any())
                {
                    return Task.CompletedTask;
                }
                var policies = metadata.OfType<IAuthorizeData>().Select(a => a.Policy).OfType<string>().ToList();
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement
                {
                    [new OpenApiSecuritySchemeReference(Bearer, context.Document)] = [],
                });
                operation.Responses ??= [];
                operation.Responses["401"] = new OpenApiResponse { Description = "No valid bearer token." };
                if (policies.Count > 0)
                {
                    operation.Responses["403"] = new OpenApiResponse
                    {
                        Description = $"The token's role may not call this operation (policy: {string.Join(", ", policies)}).",
                    };
                    operation.Extensions ??= new Dictionary<string, IOpenApiExtension>();
                    operation.Extensions["x-outcomes-policy"] = new JsonNodeExtension(string.Join(",", policies));
                }
                return Task.CompletedTask;
            });
        });
}

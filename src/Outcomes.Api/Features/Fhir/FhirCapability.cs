using System.Reflection;
using System.Text.Json;
using Hl7.Fhir.Model;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;

namespace Outcomes.Api.Features.Fhir;

/// <summary>What the facade supports, said as FHIR says it: the CapabilityStatement, and SMART's discovery document.</summary>
public static class FhirCapability
{
    private static readonly string[] _authorizationCode = ["authorization_code"];
    private static readonly string[] _s256 = ["S256"];
    private static readonly string[] _smartCapabilities = ["launch-standalone", "client-public", "client-confidential-symmetric", "sso-openid-connect", "permission-user"];

    private const string SearchParameterBase = "http://hl7.org/fhir/SearchParameter/";

    private static CapabilityStatement.SearchParamComponent Param(string name, SearchParamType type, string definition, string documentation) => new()
    {
        Name = name,
        Type = type,
        Definition = definition.StartsWith("http", StringComparison.Ordinal) ? definition : SearchParameterBase + definition,
        Documentation = documentation,
    };

    private static readonly CapabilityStatement.SearchParamComponent[] _common =
    [
        Param("_lastUpdated", SearchParamType.Date, "Resource-lastUpdated", "When the version was stored; prefixes eq, gt, lt, ge, le, sa, eb."),
    ];

    private static CapabilityStatement.ResourceComponent Clinical(string type, string documentation, params CapabilityStatement.SearchParamComponent[] parameters)
    {
        var resource = new CapabilityStatement.ResourceComponent
        {
            Type = type,
            Documentation = documentation,
            Interaction =
            [
                new() { Code = CapabilityStatement.TypeRestfulInteraction.Read },
                new() { Code = CapabilityStatement.TypeRestfulInteraction.Vread },
                new() { Code = CapabilityStatement.TypeRestfulInteraction.HistoryInstance },
                new() { Code = CapabilityStatement.TypeRestfulInteraction.SearchType },
            ],
            Versioning = CapabilityStatement.ResourceVersionPolicy.Versioned,
            ReadHistory = true,
            UpdateCreate = false,
            ConditionalCreate = false,
            ConditionalUpdate = false,
            ConditionalDelete = CapabilityStatement.ConditionalDeleteStatus.NotSupported,
            SearchParam = [.. parameters, .. _common],
        };
        return resource;
    }

    private static CapabilityStatement.ResourceComponent Writable(CapabilityStatement.ResourceComponent resource, string documentation)
    {
        resource.Interaction.Add(new() { Code = CapabilityStatement.TypeRestfulInteraction.Create, Documentation = documentation });
        resource.ConditionalCreate = true;
        return resource;
    }

    public static IResult Metadata(HttpContext http, IOptionsMonitor<JwtBearerOptions> bearer)
    {
        var baseUrl = FhirApi.BaseUrl(http);
        var patientParam = Param("patient", SearchParamType.Reference, "clinical-patient", "Patient/{id} or {id}; a patient's own token sees only their own.");
        var subjectParam = Param("subject", SearchParamType.Reference, "Observation-subject", "The same as patient (Patient references only).");
        var statement = new CapabilityStatement
        {
            Url = baseUrl + "/metadata",
            Name = "OutcomesFhirFacade",
            Title = "Outcomes FHIR R4 facade",
            Status = PublicationStatus.Active,
            Date = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            Publisher = "Outcomes",
            Kind = CapabilityStatementKind.Instance,
            Software = new CapabilityStatement.SoftwareComponent
            {
                Name = "Outcomes",
                Version = typeof(FhirCapability).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion,
            },
            Implementation = new CapabilityStatement.ImplementationComponent
            {
                Description = "Patient-reported outcomes of botulinum toxin trigger-point injections, over the same records and rules as the native API (/api/v1).",
                Url = baseUrl,
            },
            FhirVersion = FHIRVersion.N4_0_1,
            Format = ["json"],
            Instantiates = ["http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"],
        };
        var rest = new CapabilityStatement.RestComponent
        {
            Mode = CapabilityStatement.RestfulCapabilityMode.Server,
            Documentation = "Records are never updated or deleted here: corrections and withdrawals go through the native API and show as new versions "
                + "(status amended or entered-in-error). Unknown search parameters are ignored and reported, or refused with 'Prefer: handling=strict'. "
                + "Side effects are Observations, not AdverseEvents: they are the patient's own reports, and a withdrawn report must read as "
                + "entered-in-error, which R4's AdverseEvent (it has no status) cannot say.",
            Security = new CapabilityStatement.SecurityComponent
            {
                Cors = false,
                Description = "Bearer tokens (JWT), as for the native API: patients see their own records, practitioners their site's patients, admins all. "
                    + "Auditors use the de-identified Bulk Data export.",
            },
        };
        if (bearer.Get(JwtBearerDefaults.AuthenticationScheme).Authority is { Length: > 0 })
        {
            rest.Security.Service = [new CodeableConcept("http://terminology.hl7.org/CodeSystem/restful-security-service", "SMART-on-FHIR", "SMART-on-FHIR")];
        }
        var dateParam = Param("date", SearchParamType.Date, "clinical-date", "When it was answered or measured; prefixes eq, gt, lt, ge, le, sa, eb; repeat to bound both ends.");
        rest.Resource =
        [
            new CapabilityStatement.ResourceComponent
            {
                Type = "Patient",
                Documentation = "Pseudonymous: the clinic's reference as an identifier (one system per site), the year of birth, no name.",
                Interaction =
                [
                    new() { Code = CapabilityStatement.TypeRestfulInteraction.Read },
                    new() { Code = CapabilityStatement.TypeRestfulInteraction.SearchType },
                ],
                SearchParam =
                [
                    Param("_id", SearchParamType.Token, "Resource-id", "The patient's id."),
                    Param("identifier", SearchParamType.Token, "Patient-identifier", "The clinic's reference, with or without its site's system."),
                    Param("gender", SearchParamType.Token, "individual-gender", "female, male, other or unknown."),
                    Param("birthdate", SearchParamType.Date, "individual-birthdate", "Compared by year of birth."),
                    .. _common,
                ],
                Operation = [new CapabilityStatement.OperationComponent { Name = "export", Definition = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export" }],
            },
            Writable(Clinical("Observation",
                "Weekly pain (LOINC 72514-3, the recall as method), questionnaire scores (LOINC where one exists), range of motion, pressure pain thresholds and side effects.",
                patientParam, subjectParam,
                Param("code", SearchParamType.Token, "clinical-code", "system|code or code: LOINC, or Outcomes' instrument, movement, measure and side-effect codes."),
                dateParam,
                Param("category", SearchParamType.Token, "Observation-category", "survey or exam.")),
                "A weekly pain score only. Conditional create with If-None-Exist: identifier=urn:ietf:rfc:3986|urn:uuid:{submission id}."),
            Writable(Clinical("QuestionnaireResponse", "Item answers of a questionnaire; its score is an Observation derived from it.",
                patientParam, Param("subject", SearchParamType.Reference, "QuestionnaireResponse-subject", "The same as patient."),
                Param("questionnaire", SearchParamType.Reference, "QuestionnaireResponse-questionnaire", "The Questionnaire's canonical URL, with |version or without."),
                Param("authored", SearchParamType.Date, "QuestionnaireResponse-authored", "When it was answered.")),
                "Scored on arrival by the instrument's rules. Conditional create as for Observation."),
            Clinical("Procedure", "A treatment session: the product as the code used, each injection site as a body site and an extension with its units.",
                patientParam, Param("subject", SearchParamType.Reference, "Procedure-subject", "The same as patient."),
                Param("code", SearchParamType.Token, "clinical-code", FhirSystems.CodeSystem("procedure") + "|triggerPointInjection"), dateParam),
            new CapabilityStatement.ResourceComponent
            {
                Type = "Questionnaire",
                Documentation = "Each instrument version: item codes, allowed answers and LOINC codes; licensed wording is not shipped.",
                Interaction =
                [
                    new() { Code = CapabilityStatement.TypeRestfulInteraction.Read },
                    new() { Code = CapabilityStatement.TypeRestfulInteraction.SearchType },
                ],
                SearchParam =
                [
                    Param("url", SearchParamType.Uri, "Questionnaire-url", "The canonical URL, optionally with |version."),
                    Param("version", SearchParamType.Token, "Questionnaire-version", "The instrument version."),
                    Param("_id", SearchParamType.Token, "Resource-id", "The resource id, e.g. ndi-1."),
                ],
            },
            new CapabilityStatement.ResourceComponent
            {
                Type = "Group",
                Documentation = "A site's patients: Group/{site id}. Only its Bulk Data export is supported.",
                Operation = [new CapabilityStatement.OperationComponent { Name = "export", Definition = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export" }],
            },
        ];
        rest.Operation =
        [
            new CapabilityStatement.OperationComponent
            {
                Name = "export",
                Definition = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
                Documentation = "Admins: the records as they are. Auditors: de-identified (pseudonyms, dates as quarters, k-anonymous patients).",
            },
        ];
        statement.Rest = [rest];
        return new FhirResult(StatusCodes.Status200OK, statement);
    }

    /// <summary>The provider's metadata members SMART's discovery document repeats.</summary>
    private static readonly string[] _providerMembers =
    [
        "issuer", "jwks_uri", "authorization_endpoint", "token_endpoint", "revocation_endpoint", "introspection_endpoint",
        "grant_types_supported", "scopes_supported", "response_types_supported", "code_challenge_methods_supported",
        "token_endpoint_auth_methods_supported",
    ];

    /// <summary>SMART App Launch's discovery document, from the configured OpenID provider's own metadata; 404 without one.</summary>
    public static async Task<IResult> SmartConfiguration(IOptionsMonitor<JwtBearerOptions> bearer, ILoggerFactory loggers, CancellationToken ct)
    {
        var options = bearer.Get(JwtBearerDefaults.AuthenticationScheme);
        if (options.Authority is not { Length: > 0 } authority || options.MetadataAddress is not { Length: > 0 } metadata || options.Backchannel is null)
        {
            return FhirOutcomes.Error(StatusCodes.Status404NotFound,
                "No OpenID provider is configured (Authentication:Schemes:Bearer:Authority), so there is no SMART configuration.",
                OperationOutcome.IssueType.NotFound);
        }
        JsonElement provider;
        try
        {
            // The same metadata document and HTTP client the bearer handler reads the provider's keys with.
            using var document = JsonDocument.Parse(await options.Backchannel.GetStringAsync(metadata, ct));
            provider = document.RootElement.Clone();
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            loggers.CreateLogger(typeof(FhirCapability)).LogWarning("The OpenID provider's metadata could not be read: {ExceptionType}", e.GetType().FullName);
            return FhirOutcomes.Error(StatusCodes.Status503ServiceUnavailable, "The OpenID provider's metadata could not be read; retry later.",
                OperationOutcome.IssueType.Transient);
        }
        var configuration = new Dictionary<string, object?> { ["issuer"] = authority };
        foreach (var member in _providerMembers)
        {
            if (provider.ValueKind == JsonValueKind.Object && provider.TryGetProperty(member, out var value))
            {
                configuration[member] = value;
            }
        }
        configuration.TryAdd("grant_types_supported", _authorizationCode);
        configuration.TryAdd("code_challenge_methods_supported", _s256);
        configuration["capabilities"] = _smartCapabilities;
        return Results.Json(configuration, ManifestJson.Web, "application/json");
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.OpenApi;

namespace Outcomes.Api.Infrastructure;

/// <summary>
/// Makes the document say what the service enforces, so that a client generated from it catches the
/// mistakes the service would refuse: a required member is present and not null (requests bind to
/// nullable properties so that a missing one can be named, not so that null is allowed); an enum is
/// its codes, without null; an instant is a string with its offset; query parameters are named as
/// clients send them (camelCase); binary and CSV answers declare their media type; and each request
/// body carries an example that the service accepts.
/// </summary>
public static class OpenApiContract
{
    /// <summary>An instant as the service reads it: a date, a time and an offset (see <see cref="DateTimeOffsetWithOffsetConverter"/>).</summary>
    public const string InstantPattern = DateTimeOffsetWithOffsetConverter.Pattern;

    public static void Apply(OpenApiDocument document)
    {
        foreach (var (name, schema) in document.Components?.Schemas ?? new Dictionary<string, IOpenApiSchema>())
        {
            if (schema is not OpenApiSchema concrete)
            {
                continue;
            }
            WithoutNullEnum(concrete);
            foreach (var (_, property) in concrete.Properties ?? new Dictionary<string, IOpenApiSchema>())
            {
                if (property is OpenApiSchema p)
                {
                    Instant(p);
                }
            }
            foreach (var required in concrete.Required ?? new HashSet<string>())
            {
                if (concrete.Properties?.TryGetValue(required, out var property) == true)
                {
                    concrete.Properties[required] = NotNull(property);
                }
            }
            if (_examples.TryGetValue(name, out var example))
            {
                concrete.Examples = [JsonNode.Parse(example)!];
            }
        }
        foreach (var operation in (document.Paths ?? []).SelectMany(p => p.Value.Operations ?? []).Select(o => o.Value))
        {
            foreach (var parameter in (operation.Parameters ?? []).OfType<OpenApiParameter>())
            {
                if (parameter.In == ParameterLocation.Query && parameter.Name is { Length: > 0 } n)
                {
                    parameter.Name = JsonNamingPolicy.CamelCase.ConvertName(n);
                    // Codes bind as text (so they match the JSON codes exactly) but are still codes.
                    if ((_queryCodes.TryGetValue($"{operation.OperationId}:{parameter.Name}", out var codes) || _queryCodes.TryGetValue(parameter.Name, out codes))
                        && parameter.Schema is OpenApiSchema { Type: JsonSchemaType.String or (JsonSchemaType.String | JsonSchemaType.Null) } text)
                    {
                        parameter.Schema = codes.Component is { } component
                            ? new OpenApiSchemaReference(component, document)
                            : new OpenApiSchema { Type = JsonSchemaType.String, Enum = [.. codes.Inline!.Select(c => (JsonNode)JsonValue.Create(c))], Description = text.Description };
                    }
                }
                if (parameter.Schema is OpenApiSchema s)
                {
                    Instant(s);
                }
            }
            DeclareMediaTypes(operation);
        }
    }

    /// <summary>Query parameters that take a code: the component schema of its enum, or the codes themselves.</summary>
    private static readonly Dictionary<string, (string? Component, string[]? Inline)> _queryCodes = new(StringComparer.Ordinal)
    {
        ["condition"] = ("Condition", null),
        ["sex"] = ("Sex", null),
        ["product"] = ("Product", null),
        ["guidance"] = ("Guidance", null),
        ["kind"] = ("ObservationKind", null),
        ["responder"] = ("ResponderRule", null),
        ["cycle"] = (null, [.. Core.Clinic.EnumCode<Core.Cohorts.CycleKind>.All]),
        ["by"] = (null, Features.Cohorts.CohortsApi.Groupings),
        // Where one operation's parameter of the same name takes other codes: "operationId:name".
        ["ListAlerts:kind"] = ("AlertKind", null),
        ["ListAlerts:status"] = (null, ["open", "acknowledged"]),
        ["ListWebhookDeliveries:status"] = (null, ["pending", "delivered", "failed"]),
    };

    /// <summary>A required member: the same schema without <c>null</c> (a nullable reference becomes the plain reference).</summary>
    private static IOpenApiSchema NotNull(IOpenApiSchema property)
    {
        if (property is not OpenApiSchema schema)
        {
            return property;
        }
        if (schema.Type is { } type && type.HasFlag(JsonSchemaType.Null))
        {
            schema.Type = type & ~JsonSchemaType.Null;
        }
        if (schema.OneOf is { Count: 2 } oneOf && oneOf.FirstOrDefault(o => o is OpenApiSchema { Type: JsonSchemaType.Null }) is { } nullBranch)
        {
            return oneOf.Single(o => !ReferenceEquals(o, nullBranch));
        }
        return schema;
    }

    private static void WithoutNullEnum(OpenApiSchema schema)
    {
        if (schema.Enum is { Count: > 0 } values)
        {
            schema.Enum = [.. values.Where(v => v is not null && v.GetValueKind() != JsonValueKind.Null)];
            if (schema.Type is { } type)
            {
                schema.Type = type & ~JsonSchemaType.Null;
            }
        }
    }

    /// <summary>A schema with only <c>format: date-time</c> and no type is an instant read by the strict converter.</summary>
    private static void Instant(OpenApiSchema schema)
    {
        if (schema.Format == "date-time" && schema.Type is null)
        {
            schema.Type = JsonSchemaType.String;
            schema.Pattern = InstantPattern;
        }
    }

    /// <summary>Answers declared with a media type but no body type (charts, CSV) get a schema for that media type.</summary>
    private static void DeclareMediaTypes(OpenApiOperation operation)
    {
        if (operation.Responses?.TryGetValue("200", out var ok) != true || ok is not OpenApiResponse response || response.Content is { Count: > 0 })
        {
            return;
        }
        var media = operation.OperationId switch
        {
            "GetTrendPng" => "image/png",
            "GetTrendSvg" => "image/svg+xml",
            "ExportCohortCycles" => "text/csv",
            _ => null,
        };
        if (media is not null)
        {
            response.Content = new Dictionary<string, OpenApiMediaType>
            {
                [media] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = media.StartsWith("image/png", StringComparison.Ordinal) ? "binary" : null } },
            };
        }
    }

    /// <summary>Request examples the service accepts (a test posts each one).</summary>
    private static readonly Dictionary<string, string> _examples = new(StringComparer.Ordinal)
    {
        ["CreateSiteRequest"] = """{"name":"Northside Pain Clinic"}""",
        ["CreatePractitionerRequest"] = """{"siteId":1,"displayName":"Dr A. Example"}""",
        ["CreatePatientRequest"] = """{"externalReference":"MRN-000123","siteId":1,"birthYear":1972,"sex":"female","enrolledOn":"2025-01-15","conditions":["neckShoulderPain"]}""",
        ["CreateTreatmentSessionRequest"] = """{"submissionId":"6f1c3b8e-2a47-4f3d-9c1e-5b2a7d9e0f11","sessionDate":"2025-03-03","practitionerId":1,"product":"onabotulinumtoxinA","guidance":"emg","dilutionUnitsPerMl":50,"injectionSites":[{"muscle":"upper_trapezius","side":"left","units":20},{"muscle":"upper_trapezius","side":"right","units":20}]}""",
        ["AmendTreatmentSessionRequest"] = """{"submissionId":"7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f","sessionDate":"2025-03-03","practitionerId":1,"product":"onabotulinumtoxinA","guidance":"emg","dilutionUnitsPerMl":50,"injectionSites":[{"muscle":"upper_trapezius","side":"left","units":15},{"muscle":"upper_trapezius","side":"right","units":15}],"reason":"15 units a side were injected, not 20"}""",
        ["InjectionSiteRequest"] = """{"muscle":"upper_trapezius","side":"left","units":20}""",
        ["PainScoreRequest"] = """{"submissionId":"0b6f5d2c-8e3a-4c71-a9f4-2d7e1b3c5a60","answeredAt":"2025-03-10T19:30:00+01:00","score":4,"recall":"average7Days"}""",
        ["QuestionnaireResponseRequest"] = """{"submissionId":"1c7a6e3d-9f4b-4d82-b0a5-3e8f2c4d6b71","answeredAt":"2025-03-10T19:35:00+01:00","instrument":"pgic","version":"1","answers":[{"item":"change","option":"much_improved"}]}""",
        ["RangeOfMotionRequest"] = """{"submissionId":"2d8b7f4e-0a5c-4e93-81b6-4f9a3d5e7c82","answeredAt":"2025-03-10T10:15:00+01:00","movement":"cervical_rotation_left","degrees":62.5,"method":"goniometer"}""",
        ["PressurePainThresholdRequest"] = """{"submissionId":"3e9c8a5f-1b6d-4fa4-92c7-5a0b4e6f8d93","answeredAt":"2025-03-10T10:20:00+01:00","muscle":"upper_trapezius","side":"left","kgPerCm2":2.4}""",
        ["SideEffectRequest"] = """{"submissionId":"4fad9b60-2c7e-40b5-a3d8-6b1c5f7a9ea4","answeredAt":"2025-03-05T08:00:00+01:00","effect":"injectionSitePain","severity":"mild","onsetOn":"2025-03-04"}""",
        ["PatientCorrectionRequest"] = """{"submissionId":"8d2e3f4a-5b6c-4d7e-9f8a-0b1c2d3e4f50","version":0,"externalReference":"MRN-000123","birthYear":1971,"sex":"female","enrolledOn":"2025-01-15","conditions":["neckShoulderPain","chronicTensionTypeHeadache"],"reason":"Birth year and conditions copied wrongly from the referral"}""",
        ["WithdrawalReviewRequest"] = """{"note":"Called the patient: the swallowing trouble was a sore throat, now gone"}""",
        ["EnteredInErrorRequest"] = """{"submissionId":"5abe0c71-3d8f-41c6-b4e9-7c2d6a8b0fb5","reason":"Entered for the wrong patient"}""",
        ["CreateWebhookRequest"] = """{"url":"https://pager.example.org/outcomes/alerts","kinds":["seriousSideEffect","responseLost"]}""",
        ["AcknowledgeRequest"] = """{"note":"Called the patient; seen in clinic the same day"}""",
        ["AlertSettings"] = """{"noWeeklyScoreWeeks":3}""",
        ["DeviceRevocationRequest"] = """{"reason":"Phone lost"}""",
        ["InstrumentWordingRequest"] = """{"title":"This questionnaire asks how your neck pain affects your everyday life.","items":{"ndi_01":"The clinic's licensed wording of item 1"}}""",
    };
}

using System.Globalization;
using System.Text.Json;
using Dapper;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Microsoft.AspNetCore.WebUtilities;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Instruments;
using Outcomes.Api.Features.Observations;
using Outcomes.Api.Infrastructure;
using Outcomes.Core.Clinic;
using Outcomes.Core.Instruments;

namespace Outcomes.Api.Features.Fhir;

/// <summary>
/// Creates through FHIR: a weekly pain score as an Observation, a questionnaire as a QuestionnaireResponse. Each is
/// turned into the native request and goes through the native validation and write path, so the rules, the
/// idempotency and the audit are the same. The record's identifier is its submission id; a conditional create
/// (<c>If-None-Exist: identifier=urn:ietf:rfc:3986|urn:uuid:…</c>) is settled by the database's unique index, not by a
/// look-then-insert, so concurrent retries make one resource.
/// </summary>
public static class FhirWrites
{
    private static readonly Dictionary<string, string> _painFields = new(StringComparer.Ordinal)
    {
        ["submissionId"] = "Observation.identifier",
        ["answeredAt"] = "Observation.effectiveDateTime",
        ["score"] = "Observation.value[x]",
        ["recall"] = "Observation.method",
        ["patient"] = "Observation.subject",
    };

    public static async Task<IResult> CreateObservation(
        HttpContext http, ObservationStore store, FhirReader reader, Database db, FhirSql sql, TimeProvider clock, CancellationToken ct)
    {
        var (resource, refusal) = await ParseAsync<Observation>(http, ct);
        if (resource is null)
        {
            return refusal!;
        }
        var problems = new List<(string, string)>();
        var patientId = Subject(resource.Subject, "Observation.subject", problems);
        if (resource.Code?.Coding.Any(c => c.System == FhirSystems.Loinc && c.Code == FhirSystems.PainLoinc) != true)
        {
            problems.Add(("Observation.code", $"must be LOINC {FhirSystems.PainLoinc} (a weekly pain score): other observations are recorded through the native API"));
        }
        if (resource.Status != Hl7.Fhir.Model.ObservationStatus.Final)
        {
            problems.Add(("Observation.status", "must be final"));
        }
        var answeredAt = Instant(resource.Effective as FhirDateTime, "Observation.effectiveDateTime", problems);
        int? score = null;
        switch (resource.Value)
        {
            case Quantity { Value: { } value } when decimal.Truncate(value) == value && value is >= int.MinValue and <= int.MaxValue:
                score = (int)value;
                break;
            case Integer { Value: { } whole }:
                score = whole;
                break;
            case null:
                break;
            default:
                problems.Add(("Observation.value[x]", "must be a whole number (valueInteger, or valueQuantity with a whole value)"));
                break;
        }
        PainRecall? recall = null;
        var recallCoding = resource.Method?.Coding.FirstOrDefault(c => c.System == FhirSystems.CodeSystem("pain-recall"));
        if (recallCoding is not null)
        {
            if (EnumCode<PainRecall>.TryParse(recallCoding.Code, out var parsed))
            {
                recall = parsed;
            }
            else
            {
                problems.Add(("Observation.method", $"must be one of {string.Join(", ", EnumCode<PainRecall>.All)} in {FhirSystems.CodeSystem("pain-recall")}"));
            }
        }
        var submission = SubmissionId(http, resource.Identifier, "Observation.identifier", problems);
        if (problems.Count > 0)
        {
            return Invalid(problems);
        }
        var validated = SubmissionValidation.PainScore(new PainScoreRequest(submission.Id, answeredAt, score, recall), clock);
        return await StoreAsync(http, "Observation", patientId!.Value, validated, submission.Conditional, _painFields, store, reader, db, sql, ct);
    }

    public static async Task<IResult> CreateQuestionnaireResponse(
        HttpContext http, ObservationStore store, FhirReader reader, InstrumentCatalog instruments, Database db, FhirSql sql, TimeProvider clock,
        CancellationToken ct)
    {
        var (resource, refusal) = await ParseAsync<QuestionnaireResponse>(http, ct);
        if (resource is null)
        {
            return refusal!;
        }
        var problems = new List<(string, string)>();
        var patientId = Subject(resource.Subject, "QuestionnaireResponse.subject", problems);
        if (resource.Status != QuestionnaireResponse.QuestionnaireResponseStatus.Completed)
        {
            problems.Add(("QuestionnaireResponse.status", "must be completed"));
        }
        string? instrument = null;
        string? version = null;
        var prefix = FhirSystems.QuestionnaireUrl("");
        if (resource.Questionnaire is { } canonical && canonical.StartsWith(prefix, StringComparison.Ordinal) && canonical.Contains('|', StringComparison.Ordinal))
        {
            instrument = canonical[prefix.Length..canonical.IndexOf('|', StringComparison.Ordinal)];
            version = canonical[(canonical.IndexOf('|', StringComparison.Ordinal) + 1)..];
        }
        else
        {
            problems.Add(("QuestionnaireResponse.questionnaire", $"must be a Questionnaire of this server with its version, e.g. {FhirSystems.QuestionnaireUrl("ndi")}|1"));
        }
        var answeredAt = Instant(resource.AuthoredElement, "QuestionnaireResponse.authored", problems);
        var answers = new List<ItemAnswer?>();
        for (var i = 0; i < resource.Item.Count; i++)
        {
            var item = resource.Item[i];
            if (item.Item.Count > 0 || item.Answer.Count != 1)
            {
                problems.Add(($"QuestionnaireResponse.item[{i}]", "must carry exactly one answer and no nested items"));
                continue;
            }
            answers.Add(item.Answer[0].Value switch
            {
                Integer { Value: { } value } => new ItemAnswer(item.LinkId, Value: value),
                Coding { Code: { } code } => new ItemAnswer(item.LinkId, Option: code),
                _ => null,
            });
            if (answers[^1] is null)
            {
                problems.Add(($"QuestionnaireResponse.item[{i}].answer[0].value[x]", "must be valueInteger or valueCoding"));
            }
        }
        var submission = SubmissionId(http, resource.Identifier is null ? [] : [resource.Identifier], "QuestionnaireResponse.identifier", problems);
        if (problems.Count > 0)
        {
            return Invalid(problems);
        }
        var validated = await SubmissionValidation.QuestionnaireAsync(
            new QuestionnaireResponseRequest(submission.Id, answeredAt, instrument, version, answers), clock, instruments, ct);
        var fields = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["submissionId"] = "QuestionnaireResponse.identifier",
            ["answeredAt"] = "QuestionnaireResponse.authored",
            ["instrument"] = "QuestionnaireResponse.questionnaire",
            ["version"] = "QuestionnaireResponse.questionnaire",
            ["answers"] = "QuestionnaireResponse.item",
            ["patient"] = "QuestionnaireResponse.subject",
        };
        return await StoreAsync(http, "QuestionnaireResponse", patientId!.Value, validated, submission.Conditional, fields, store, reader, db, sql, ct);
    }

    /// <summary>A native field name as a FHIR path: <c>answers[2].option</c> → <c>QuestionnaireResponse.item[2].answer[0].value</c>.</summary>
    private static string Expression(string field, IReadOnlyDictionary<string, string> fields)
    {
        if (fields.TryGetValue(field, out var path))
        {
            return path;
        }
        if (field.StartsWith("answers[", StringComparison.Ordinal))
        {
            var index = field[8..field.IndexOf(']', StringComparison.Ordinal)];
            var rest = field[(field.IndexOf(']', StringComparison.Ordinal) + 1)..];
            return $"QuestionnaireResponse.item[{index}]" + (rest switch
            {
                ".item" => ".linkId",
                ".value" or ".option" => ".answer[0].value[x]",
                _ => "",
            });
        }
        return field;
    }

    private static async Task<IResult> StoreAsync(
        HttpContext http, string type, long patientId, Validated validated, bool conditional, IReadOnlyDictionary<string, string> fields,
        ObservationStore store, FhirReader reader, Database db, FhirSql sql, CancellationToken ct)
    {
        var user = CurrentUser.From(http.User);
        if (!await store.IsVisibleAsync(user, patientId, ct))
        {
            return FhirOutcomes.NotFound("Patient", FhirMapping.Id(patientId));
        }
        if (validated.Observation is not { } observation)
        {
            return FhirOutcomes.Invalid(validated.Errors, f => Expression(f, fields));
        }
        var result = await store.SubmitAsync(user, patientId, observation, ct);
        switch (result.Outcome)
        {
            case SubmitOutcome.Created:
                return await AnswerAsync(http, type, result.Observation!.RecordId, StatusCodes.Status201Created, reader, ct);
            case SubmitOutcome.Replayed:
                return await AnswerAsync(http, type, result.Observation!.RecordId, StatusCodes.Status200OK, reader, ct);
            case SubmitOutcome.Conflict when conditional:
                // FHIR's conditional create: one match means the server ignores the post and answers 200.
                await using (var connection = await db.OpenAsync(ct))
                {
                    var existing = await connection.ExecuteScalarAsync<long>(db.Command(sql.ObservationRecordOfSubmission,
                        new { PatientId = patientId, SubmissionId = observation.SubmissionId.ToString("D") }, ct));
                    return await AnswerAsync(http, type, existing, StatusCodes.Status200OK, reader, ct);
                }
            case SubmitOutcome.Conflict:
                return FhirOutcomes.Error(StatusCodes.Status409Conflict,
                    $"{result.Detail} Send If-None-Exist with the identifier to be given the stored resource instead.", OperationOutcome.IssueType.Duplicate);
            case SubmitOutcome.Invalid:
                return FhirOutcomes.Invalid(result.Errors!, f => Expression(f, fields));
            default:
                return FhirOutcomes.NotFound("Patient", FhirMapping.Id(patientId));
        }
    }

    private static async Task<IResult> AnswerAsync(HttpContext http, string type, long recordId, int status, FhirReader reader, CancellationToken ct)
    {
        var resource = await reader.CurrentAsync(type, recordId, ct);
        return new FhirResult(status, resource,
            $"{FhirApi.BaseUrl(http)}/{type}/{resource.Id}/_history/{resource.Meta?.VersionId}");
    }

    private static FhirResult Invalid(List<(string Expression, string Message)> problems) =>
        FhirOutcomes.Error(StatusCodes.Status400BadRequest, "The resource is not valid.", OperationOutcome.IssueType.Invalid,
            problems.Select(p => ((string?)p.Expression, p.Message)));

    /// <summary>The body as the endpoint's resource type, parsed strictly by Firely's parser; or the refusal to send.</summary>
    private static async Task<(T? Resource, IResult? Refusal)> ParseAsync<T>(HttpContext http, CancellationToken ct) where T : Resource
    {
        if (!FhirJson.IsJsonContent(http.Request.ContentType))
        {
            return (null, FhirOutcomes.Error(StatusCodes.Status415UnsupportedMediaType, "Send the resource as application/fhir+json."));
        }
        string body;
        using (var reader = new StreamReader(http.Request.Body))
        {
            body = await reader.ReadToEndAsync(ct);
        }
        try
        {
            return JsonSerializer.Deserialize<Resource>(body, FhirJson.Options) is T resource
                ? (resource, null)
                : (null, FhirOutcomes.Invalid($"The body must be a {typeof(T).Name} resource.", "resourceType"));
        }
        catch (DeserializationFailedException e)
        {
            return (null, FhirOutcomes.Error(StatusCodes.Status400BadRequest, "The resource could not be parsed.", OperationOutcome.IssueType.Structure,
                e.Exceptions.Select(x => ((string?)null, x.Message))));
        }
        catch (JsonException)
        {
            return (null, FhirOutcomes.Error(StatusCodes.Status400BadRequest, "The body is not JSON.", OperationOutcome.IssueType.Structure));
        }
    }

    private static long? Subject(ResourceReference? subject, string path, List<(string, string)> problems)
    {
        var reference = subject?.Reference;
        if (reference is not null && reference.StartsWith("Patient/", StringComparison.Ordinal)
            && long.TryParse(reference[8..], NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0)
        {
            return id;
        }
        problems.Add((path, "must reference the patient, e.g. Patient/12"));
        return null;
    }

    private static DateTimeOffset? Instant(FhirDateTime? value, string path, List<(string, string)> problems)
    {
        if (value?.Value is null)
        {
            problems.Add((path, "is required"));
            return null;
        }
        if (!value.Value.Contains('T', StringComparison.Ordinal) || !value.TryToDateTimeOffset(out var instant))
        {
            problems.Add((path, "must be a date and time with its time zone"));
            return null;
        }
        return instant;
    }

    /// <summary>
    /// The submission id from the If-None-Exist header and/or the body's identifier (a UUID, as
    /// <c>urn:ietf:rfc:3986|urn:uuid:…</c>); both must agree. Without either, a new id: a plain create.
    /// </summary>
    private static (Guid Id, bool Conditional) SubmissionId(HttpContext http, List<Identifier> identifiers, string path, List<(string, string)> problems)
    {
        Guid? fromBody = null;
        foreach (var identifier in identifiers.Where(i => i.System == FhirSystems.Uri))
        {
            if (ParseUuid(identifier.Value) is { } id)
            {
                fromBody = id;
            }
            else
            {
                problems.Add((path, "a urn:ietf:rfc:3986 identifier must be urn:uuid: and a UUID"));
            }
        }
        Guid? fromHeader = null;
        var conditional = http.Request.Headers.TryGetValue("If-None-Exist", out var header);
        if (conditional)
        {
            var criteria = QueryHelpers.ParseQuery(header.ToString().StartsWith('?') ? header.ToString() : "?" + header);
            if (criteria.Count != 1 || !criteria.TryGetValue("identifier", out var value) || value.Count != 1
                || Token.Parse(value[0]!) is not { System: FhirSystems.Uri } token || ParseUuid(token.Code) is not { } id)
            {
                problems.Add(("If-None-Exist", $"must be identifier={FhirSystems.Uri}|urn:uuid:<the submission's UUID>"));
            }
            else
            {
                fromHeader = id;
            }
        }
        if (fromHeader is { } h && fromBody is { } b && h != b)
        {
            problems.Add((path, "differs from the identifier in If-None-Exist"));
        }
        return (fromHeader ?? fromBody ?? Guid.NewGuid(), conditional);
    }

    private static Guid? ParseUuid(string? value) =>
        value is not null && value.StartsWith("urn:uuid:", StringComparison.Ordinal) && Guid.TryParseExact(value[9..], "D", out var id) && id != Guid.Empty
            ? id
            : null;
}

using System.Globalization;
using Dapper;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;
using Microsoft.AspNetCore.WebUtilities;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Audit;
using Outcomes.Api.Features.Instruments;
using Outcomes.Api.Features.Patients;
using Outcomes.Api.Infrastructure;

namespace Outcomes.Api.Features.Fhir;

/// <summary>
/// The FHIR R4 facade's reads: Patient, Observation, QuestionnaireResponse, Procedure and Questionnaire, each read,
/// searched and (for clinical records) read by version, with the native API's access rules: a patient sees their own
/// record, a practitioner their site's patients, an admin everyone. Auditors use the de-identified bulk export.
/// </summary>
public static class FhirApi
{
    public static RouteGroupBuilder MapFhir(this IEndpointRouteBuilder app)
    {
        var fhir = app.MapGroup(FhirJson.PathPrefix).ExcludeFromDescription().AddEndpointFilter(async (context, next) =>
            FhirJson.AcceptsJson(context.HttpContext)
                ? await next(context)
                : FhirOutcomes.Error(StatusCodes.Status406NotAcceptable, "This server answers in application/fhir+json only."));

        fhir.MapGet("/metadata", FhirCapability.Metadata).AllowAnonymous();
        fhir.MapGet("/.well-known/smart-configuration", FhirCapability.SmartConfiguration).AllowAnonymous();

        fhir.MapGet("/Patient", SearchPatients).RequireAuthorization(Policies.PatientRecord);
        fhir.MapGet("/Patient/{id}", ReadPatient).RequireAuthorization(Policies.PatientRecord);

        foreach (var type in new[] { "Observation", "QuestionnaireResponse", "Procedure" })
        {
            fhir.MapGet($"/{type}", (HttpContext http, FhirReader reader, CancellationToken ct) => reader.SearchAsync(http, type, ct))
                .RequireAuthorization(Policies.PatientRecord);
            fhir.MapGet($"/{type}/{{id}}", (string id, HttpContext http, FhirReader reader, CancellationToken ct) => reader.ReadAsync(http, type, id, null, ct))
                .RequireAuthorization(Policies.PatientRecord);
            fhir.MapGet($"/{type}/{{id}}/_history", (string id, HttpContext http, FhirReader reader, CancellationToken ct) => reader.HistoryAsync(http, type, id, ct))
                .RequireAuthorization(Policies.PatientRecord);
            fhir.MapGet($"/{type}/{{id}}/_history/{{vid}}", (string id, string vid, HttpContext http, FhirReader reader, CancellationToken ct) => reader.ReadAsync(http, type, id, vid, ct))
                .RequireAuthorization(Policies.PatientRecord);
            fhir.MapMethods($"/{type}/{{id}}", ["PUT", "PATCH", "DELETE"], RefuseChange).RequireAuthorization(Policies.AnyRole);
        }
        fhir.MapMethods("/Patient/{id}", ["PUT", "PATCH", "DELETE"], RefuseChange).RequireAuthorization(Policies.AnyRole);

        fhir.MapPost("/Observation", FhirWrites.CreateObservation).RequireAuthorization(Policies.PatientRecord);
        fhir.MapPost("/QuestionnaireResponse", FhirWrites.CreateQuestionnaireResponse).RequireAuthorization(Policies.PatientRecord);

        fhir.MapGet("/Questionnaire", SearchQuestionnaires).RequireAuthorization(Policies.AnyRole);
        fhir.MapGet("/Questionnaire/{id}", ReadQuestionnaire).RequireAuthorization(Policies.AnyRole);

        fhir.MapBulkExport();
        return fhir;
    }

    /// <summary>Clinical records are never changed in place, through either door.</summary>
    private static FhirResult RefuseChange(HttpContext http)
    {
        http.Response.Headers.Allow = "GET";
        return FhirOutcomes.Error(StatusCodes.Status405MethodNotAllowed,
            "Records are not updated or deleted through FHIR. Corrections and withdrawals go through the native API "
            + "(amends, entered-in-error, corrections under /api/v1/patients/{patientId}), which keeps every version; "
            + "they then show here as a new version with status amended or entered-in-error.");
    }

    private static async Task<IResult> SearchPatients(HttpContext http, Database db, FhirSql sql, PatientSql patients, AuditLog audit, CancellationToken ct)
    {
        var search = FhirSearch.Read(http.Request, "_id", "identifier", "gender", "birthdate");
        var user = CurrentUser.From(http.User);
        var scope = FhirScope.Of(user);
        var id = search.One("_id") is { } idText
            ? long.TryParse(idText, NumberStyles.None, CultureInfo.InvariantCulture, out var parsedId) ? parsedId : -1
            : (long?)null;
        long? identifierSite = null;
        string? identifierValue = null;
        if (search.One("identifier") is { } identifier)
        {
            var token = Token.Parse(identifier);
            identifierValue = token.Code;
            if (token.System is { Length: > 0 } system)
            {
                identifierSite = SiteOfIdentifierSystem(system) ?? -1;
            }
        }
        string? gender = null;
        if (search.One("gender") is { } g)
        {
            gender = g is "female" or "male" or "other" or "unknown" ? g : null;
            if (gender is null)
            {
                search.Error("gender", "must be female, male, other or unknown");
            }
        }
        var birth = search.Dates("birthdate");
        if (search.Errors.Count > 0)
        {
            return SearchErrors(search);
        }
        if (scope.PatientId is { } own)
        {
            id = id is null || id == own ? own : -1;
        }
        await using var connection = await db.OpenAsync(ct);
        var rows = (await connection.QueryAsync<PatientRow>(db.Command(sql.PatientSearch, new PatientQuery
        {
            After = search.After,
            Id = id,
            SiteId = scope.SiteId,
            IdentifierSite = identifierSite,
            IdentifierValue = identifierValue,
            BirthFrom = birth.From?.Year,
            BirthTo = birth.To is { } to ? (to.Month == 1 && to.Day == 1 && to.TimeOfDay == TimeSpan.Zero ? to.Year - 1 : to.Year) : (int?)null,
            Gender = gender,
            UpdatedFrom = search.LastUpdated.From?.ToUniversalTime(),
            UpdatedTo = search.LastUpdated.To?.ToUniversalTime(),
            Take = search.Count + 1,
        }, ct))).ToList();
        var next = rows.Count > search.Count ? rows[search.Count - 1].Id : (long?)null;
        rows = [.. rows.Take(search.Count)];
        var conditions = (rows.Count == 0 ? [] : await connection.QueryAsync<ConditionRow>(
            db.Command(patients.ConditionsOf, new { Ids = rows.Select(r => r.Id).ToList() }, ct))).ToLookup(c => c.PatientId, c => c.Condition);
        await FhirAudit.SearchAsync(audit, connection, "Patient", rows.Select(r => r.Id), id, ct);
        return Searchset(http, "Patient", search, rows.Select(r => (Resource)FhirMapping.Patient(r, [.. conditions[r.Id]])), next);
    }

    private static long? SiteOfIdentifierSystem(string system)
    {
        var prefix = FhirSystems.Base + "/sites/";
        const string suffix = "/patient-reference";
        return system.StartsWith(prefix, StringComparison.Ordinal) && system.EndsWith(suffix, StringComparison.Ordinal)
            && long.TryParse(system[prefix.Length..^suffix.Length], NumberStyles.None, CultureInfo.InvariantCulture, out var site)
            ? site
            : null;
    }

    private static async Task<IResult> ReadPatient(
        string id, HttpContext http, Database db, FhirSql fhirSql, PatientSql sql, PatientAccess access, AuditLog audit, CancellationToken ct)
    {
        if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var patientId))
        {
            return FhirOutcomes.NotFound("Patient", id);
        }
        await using var connection = await db.OpenAsync(ct);
        if (await access.SiteOrRefuseAsync(connection, CurrentUser.From(http.User), patientId, AuditActions.Read, "fhir_patient", ct) is null)
        {
            return FhirOutcomes.NotFound("Patient", id);
        }
        var row = await connection.QuerySingleAsync<PatientRow>(db.Command(fhirSql.PatientSearch, PatientQuery.One(patientId), ct));
        var conditions = (await connection.QueryAsync<ConditionRow>(db.Command(sql.ConditionsOf, new { Ids = new[] { patientId } }, ct)))
            .Select(c => c.Condition).ToList();
        await audit.AppendAsync(connection, AuditActions.Read, "fhir_patient", patientId, patientId, ct);
        return new FhirResult(StatusCodes.Status200OK, FhirMapping.Patient(row, conditions));
    }

    private static async Task<IResult> SearchQuestionnaires(HttpContext http, InstrumentCatalog instruments, CancellationToken ct)
    {
        var search = FhirSearch.Read(http.Request, "url", "version", "_id");
        var url = search.One("url");
        var version = search.One("version");
        var id = search.One("_id");
        if (search.Errors.Count > 0)
        {
            return SearchErrors(search);
        }
        if (url is not null && url.Contains('|', StringComparison.Ordinal))
        {
            version ??= url[(url.IndexOf('|', StringComparison.Ordinal) + 1)..];
            url = url[..url.IndexOf('|', StringComparison.Ordinal)];
        }
        var matches = (await instruments.AllAsync(ct))
            .Where(d => (url is null || FhirSystems.QuestionnaireUrl(d.Code) == url) && (version is null || d.Version == version)
                && (id is null || FhirMapping.QuestionnaireId(d) == id))
            .Select(FhirMapping.Questionnaire).ToList();
        var page = matches.Skip((int)Math.Min(search.After, int.MaxValue)).Take(search.Count).ToList();
        var next = search.After + page.Count < matches.Count ? search.After + page.Count : (long?)null;
        return Searchset(http, "Questionnaire", search, page, next);
    }

    private static async Task<IResult> ReadQuestionnaire(string id, InstrumentCatalog instruments, CancellationToken ct) =>
        (await instruments.AllAsync(ct)).FirstOrDefault(d => FhirMapping.QuestionnaireId(d) == id) is { } definition
            ? new FhirResult(StatusCodes.Status200OK, FhirMapping.Questionnaire(definition))
            : FhirOutcomes.NotFound("Questionnaire", id);

    public static IResult SearchErrors(FhirSearch search) =>
        FhirOutcomes.Error(StatusCodes.Status400BadRequest, "The search parameters are not valid.", OperationOutcome.IssueType.Invalid,
            search.Errors.Select(e => ((string?)e.Name, e.Message)));

    public static string BaseUrl(HttpContext http) => $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}{FhirJson.PathPrefix}";

    /// <summary>A searchset page: the matches, a self link with the parameters applied, a next link while more remain, and a warning for ignored parameters.</summary>
    public static FhirResult Searchset(HttpContext http, string type, FhirSearch search, IEnumerable<Resource> resources, long? next)
    {
        var baseUrl = BaseUrl(http);
        var bundle = new Bundle { Type = Bundle.BundleType.Searchset, Timestamp = DateTimeOffset.UtcNow };
        var query = search.Used.Where(p => p.Key != "_cursor").SelectMany(p => p.Value.Select(v => new KeyValuePair<string, string?>(p.Key, v))).ToList();
        var self = search.Used.ContainsKey("_cursor") ? [.. query, new KeyValuePair<string, string?>("_cursor", search.Used["_cursor"][0])] : query;
        bundle.Link.Add(new Bundle.LinkComponent { Relation = "self", Url = QueryHelpers.AddQueryString($"{baseUrl}/{type}", self) });
        if (next is { } after)
        {
            bundle.Link.Add(new Bundle.LinkComponent
            {
                Relation = "next",
                Url = QueryHelpers.AddQueryString($"{baseUrl}/{type}", [.. query, new("_cursor", after.ToString(CultureInfo.InvariantCulture))]),
            });
        }
        foreach (var resource in resources)
        {
            bundle.Entry.Add(new Bundle.EntryComponent
            {
                FullUrl = $"{baseUrl}/{resource.TypeName}/{resource.Id}",
                Resource = resource,
                Search = new Bundle.SearchComponent { Mode = Bundle.SearchEntryMode.Match },
            });
        }
        if (search.Ignored.Count > 0)
        {
            var outcome = new OperationOutcome();
            outcome.Issue.Add(FhirOutcomes.Warning(
                $"Ignored search parameters: {string.Join(", ", search.Ignored)}. Send 'Prefer: handling=strict' to have them refused."));
            bundle.Entry.Add(new Bundle.EntryComponent
            {
                FullUrl = $"urn:uuid:{Guid.NewGuid()}",
                Resource = outcome,
                Search = new Bundle.SearchComponent { Mode = Bundle.SearchEntryMode.Outcome },
            });
        }
        return new FhirResult(StatusCodes.Status200OK, bundle);
    }
}

/// <summary>The parameters of <see cref="FhirSql.PatientSearch"/>; null ones do not filter.</summary>
public sealed record PatientQuery
{
    public long After { get; init; }
    public long? Id { get; init; }
    public long? SiteId { get; init; }
    public long? IdentifierSite { get; init; }
    public string? IdentifierValue { get; init; }
    public int? BirthFrom { get; init; }
    public int? BirthTo { get; init; }
    public string? Gender { get; init; }
    public DateTimeOffset? UpdatedFrom { get; init; }
    public DateTimeOffset? UpdatedTo { get; init; }
    public int Take { get; init; }

    public static PatientQuery One(long id) => new() { Id = id, Take = 1 };
}

/// <summary>Whose records a caller's search may return.</summary>
public sealed record FhirScope(long? PatientId, long? SiteId)
{
    public static FhirScope Of(CurrentUser user) => user.Role switch
    {
        Roles.Patient => new(user.PatientId ?? -1, null),
        Roles.Practitioner => new(null, user.SiteId ?? -1),
        Roles.Admin => new(null, null),
        _ => new(-1, -1),
    };

    /// <summary>The patient a search is narrowed to: the caller's own for a patient (another patient's id matches nothing).</summary>
    public long? Narrow(long? requested) => PatientId is { } own ? (requested is null || requested == own ? own : -1) : requested;
}

/// <summary>Read events of the facade, in the same audit trail as the native API's: one per patient whose data a page returned.</summary>
public static class FhirAudit
{
    /// <param name="searched">The one patient the search was confined to, if it was: audited even when nothing matched.</param>
    public static async Task SearchAsync(
        AuditLog audit, System.Data.Common.DbConnection connection, string type, IEnumerable<long> patientIds, long? searched, CancellationToken ct)
    {
        var resource = "fhir_" + type.ToLowerInvariant();
        var patients = patientIds.Distinct().ToList();
        if (patients.Count == 0)
        {
            await audit.AppendAsync(connection, AuditActions.List, resource, null, searched is > 0 ? searched : null, ct);
            return;
        }
        // Committed together before the page answers: every patient's event lands, or none and the search fails.
        await audit.AppendAllAsync([.. patients.Select(p => audit.Entry(AuditActions.List, resource, null, p))], ct);
    }
}

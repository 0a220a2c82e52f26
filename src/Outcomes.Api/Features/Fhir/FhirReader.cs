using System.Globalization;
using Dapper;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Audit;
using Outcomes.Api.Features.Instruments;
using Outcomes.Api.Features.Observations;
using Outcomes.Api.Features.Patients;
using Outcomes.Api.Features.TreatmentSessions;
using Outcomes.Api.Infrastructure;
using Outcomes.Core.Clinic;
using Outcomes.Core.Instruments;

namespace Outcomes.Api.Features.Fhir;

/// <summary>Reads, version reads, histories and searches of the clinical resources: Observation, QuestionnaireResponse, Procedure.</summary>
public sealed class FhirReader(Database db, FhirSql sql, InstrumentCatalog instruments, AuditLog audit)
{
    private const string Observation = "Observation";
    private const string QuestionnaireResponse = "QuestionnaireResponse";
    private const string Procedure = "Procedure";

    private static readonly string[] _survey = ["painScore", "questionnaire", "sideEffect"];
    private static readonly string[] _exam = ["rangeOfMotion", "pressurePainThreshold"];

    public async Task<IResult> ReadAsync(HttpContext http, string type, string id, string? versionId, CancellationToken ct)
    {
        if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var recordId))
        {
            return FhirOutcomes.NotFound(type, id);
        }
        var versions = await VersionsAsync(type, recordId, ct);
        if (versions is null)
        {
            await RefuseAsync(type, recordId, null, ct);
            return FhirOutcomes.NotFound(type, id);
        }
        if (!PatientAccess.MayAccess(CurrentUser.From(http.User), versions.PatientId, versions.SiteId))
        {
            await RefuseAsync(type, recordId, versions.PatientId, ct);
            return FhirOutcomes.NotFound(type, id);
        }
        var version = versionId is null ? versions.Resources[^1] : versions.Resources.FirstOrDefault(r => r.Meta?.VersionId == versionId);
        if (version is null)
        {
            return FhirOutcomes.Error(StatusCodes.Status404NotFound, $"{type}/{id} has no version {versionId}", OperationOutcome.IssueType.NotFound);
        }
        await using (var connection = await db.OpenAsync(ct))
        {
            await audit.AppendAsync(connection, AuditActions.Read, Resource(type), recordId, versions.PatientId, ct);
        }
        return new FhirResult(StatusCodes.Status200OK, version);
    }

    public async Task<IResult> HistoryAsync(HttpContext http, string type, string id, CancellationToken ct)
    {
        if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var recordId)
            || await VersionsAsync(type, recordId, ct) is not { } versions
            || !PatientAccess.MayAccess(CurrentUser.From(http.User), versions.PatientId, versions.SiteId))
        {
            return FhirOutcomes.NotFound(type, id);
        }
        await using (var connection = await db.OpenAsync(ct))
        {
            await audit.AppendAsync(connection, AuditActions.Read, Resource(type), recordId, versions.PatientId, ct, detail: "history");
        }
        var baseUrl = FhirApi.BaseUrl(http);
        var bundle = new Bundle { Type = Bundle.BundleType.History, Timestamp = DateTimeOffset.UtcNow };
        bundle.Link.Add(new Bundle.LinkComponent { Relation = "self", Url = $"{baseUrl}/{type}/{id}/_history" });
        // Newest first, as FHIR's history interaction orders them.
        for (var i = versions.Resources.Count - 1; i >= 0; i--)
        {
            var resource = versions.Resources[i];
            bundle.Entry.Add(new Bundle.EntryComponent
            {
                FullUrl = $"{baseUrl}/{type}/{id}",
                Resource = resource,
                Request = new Bundle.RequestComponent { Method = i == 0 ? Bundle.HTTPVerb.POST : Bundle.HTTPVerb.PUT, Url = i == 0 ? type : $"{type}/{id}" },
                Response = new Bundle.ResponseComponent
                {
                    Status = i == 0 ? "201" : "200",
                    LastModified = resource.Meta?.LastUpdated,
                    Etag = $"W/\"{resource.Meta?.VersionId}\"",
                },
            });
        }
        return new FhirResult(StatusCodes.Status200OK, bundle);
    }

    public async Task<IResult> SearchAsync(HttpContext http, string type, CancellationToken ct)
    {
        var known = type switch
        {
            Observation => new[] { "patient", "subject", "code", "date", "category" },
            QuestionnaireResponse => ["patient", "subject", "questionnaire", "authored"],
            _ => ["patient", "subject", "code", "date"],
        };
        var search = FhirSearch.Read(http.Request, known);
        var patient = search.ReferenceId("patient", "Patient");
        if (search.Used.ContainsKey("subject"))
        {
            var subject = search.ReferenceId("subject", "Patient");
            if (patient is not null && subject is not null && patient != subject)
            {
                patient = -1;
            }
            patient ??= subject;
        }
        var dates = search.Dates(type == QuestionnaireResponse ? "authored" : "date");
        if (search.Errors.Count > 0)
        {
            return FhirApi.SearchErrors(search);
        }
        var scope = FhirScope.Of(CurrentUser.From(http.User));
        var patientId = scope.Narrow(patient);
        await using var connection = await db.OpenAsync(ct);
        if (type == Procedure)
        {
            var codes = search.Values("code");
            var anyProcedure = codes.All(group => group.Select(Token.Parse).Any(t => t.Matches(FhirSystems.CodeSystem("procedure"), "triggerPointInjection")));
            var sessions = anyProcedure
                ? (await connection.QueryAsync<SessionRow>(db.Command(sql.SessionSearch, new SessionQuery
                {
                    After = search.After,
                    PatientId = patientId,
                    SiteId = scope.SiteId,
                    FromDate = dates.From is { } from ? DateOnly.FromDateTime(from.UtcDateTime) : (DateOnly?)null,
                    ToDate = dates.To is { } to ? DateOnly.FromDateTime(to.UtcDateTime.AddTicks(-1)).AddDays(1) : (DateOnly?)null,
                    UpdatedFrom = search.LastUpdated.From?.ToUniversalTime(),
                    UpdatedTo = search.LastUpdated.To?.ToUniversalTime(),
                    Take = search.Count + 1,
                }, ct))).ToList()
                : [];
            var more = sessions.Count > search.Count ? sessions[search.Count - 1].Id : (long?)null;
            sessions = [.. sessions.Take(search.Count)];
            var sites = await SitesAsync(connection, sessions.Select(s => s.Id), ct);
            await FhirAudit.SearchAsync(audit, connection, type, sessions.Select(s => s.PatientId), patientId, ct);
            return FhirApi.Searchset(http, type, search, sessions.Select(s => (Resource)FhirMapping.Procedure(s, sites[s.Id])), more);
        }

        var filter = await ObservationFilterAsync(type, search, ct);
        var rows = filter.MatchesNothing
            ? []
            : (await connection.QueryAsync<ObservationRow>(db.Command(sql.ObservationSearch, new ObservationQuery
            {
                After = search.After,
                PatientId = patientId,
                SiteId = scope.SiteId,
                AnyKind = filter.Kinds is null ? 1 : 0,
                Kinds = filter.Kinds ?? [],
                AnyCode = filter.Codes is null ? 1 : 0,
                Codes = filter.Codes ?? [],
                From = dates.From?.ToUniversalTime(),
                To = dates.To?.ToUniversalTime(),
                UpdatedFrom = search.LastUpdated.From?.ToUniversalTime(),
                UpdatedTo = search.LastUpdated.To?.ToUniversalTime(),
                Take = search.Count + 1,
            }, ct))).ToList();
        var next = rows.Count > search.Count ? rows[search.Count - 1].Id : (long?)null;
        // The query narrows by kind and code separately; the exact pairs asked for are kept here. A page may then be
        // shorter than _count, and its next link still goes on from the last row read.
        var kept = rows.Take(search.Count).Where(filter.Keeps).ToList();
        var resources = new List<Resource>(kept.Count);
        foreach (var row in kept)
        {
            resources.Add(type == QuestionnaireResponse
                ? FhirMapping.QuestionnaireResponse(row)
                : FhirMapping.Observation(row, await InstrumentOfAsync(row, ct)));
        }
        await FhirAudit.SearchAsync(audit, connection, type, kept.Select(r => r.PatientId), patientId, ct);
        return FhirApi.Searchset(http, type, search, resources, next);
    }

    /// <summary>Kinds and codes a search's code, category and questionnaire parameters allow, and the exact pairs to keep.</summary>
    private sealed record ObservationFilter(List<string>? Kinds, List<string>? Codes, Func<ObservationRow, bool> Keeps)
    {
        public bool MatchesNothing => Kinds is { Count: 0 } || Codes is { Count: 0 };
    }

    private async Task<ObservationFilter> ObservationFilterAsync(string type, FhirSearch search, CancellationToken ct)
    {
        var conditions = new List<Func<ObservationRow, bool>>();
        HashSet<string>? kinds = type == QuestionnaireResponse ? ["questionnaire"] : null;
        HashSet<string>? codes = null;
        void Narrow(ref HashSet<string>? set, IEnumerable<string> allowed) => set = set is null ? [.. allowed] : [.. set.Intersect(allowed)];

        if (type == Observation)
        {
            var definitions = await instruments.AllAsync(ct);
            foreach (var group in search.Values("code"))
            {
                var pairs = group.Select(Token.Parse).SelectMany(t => PairsOf(t, definitions)).ToList();
                Narrow(ref kinds, pairs.Select(p => p.Kind));
                if (pairs.All(p => p.Code is not null))
                {
                    Narrow(ref codes, pairs.Select(p => p.Code!));
                }
                conditions.Add(row => pairs.Any(p => p.Kind == row.Kind && (p.Code is null || p.Code == row.Code)));
            }
            foreach (var group in search.Values("category"))
            {
                var allowed = group.Select(Token.Parse).SelectMany(t =>
                    t.System is null or FhirSystems.ObservationCategory
                        ? t.Code switch { "survey" => _survey, "exam" => _exam, _ => [] }
                        : []).ToList();
                Narrow(ref kinds, allowed);
            }
        }
        else if (type == QuestionnaireResponse)
        {
            foreach (var group in search.Values("questionnaire"))
            {
                var wanted = group.Select(url =>
                {
                    var bar = url.IndexOf('|', StringComparison.Ordinal);
                    return (Url: bar < 0 ? url : url[..bar], Version: bar < 0 ? null : url[(bar + 1)..]);
                }).ToList();
                var prefix = FhirSystems.QuestionnaireUrl("");
                Narrow(ref codes, wanted.Where(w => w.Url.StartsWith(prefix, StringComparison.Ordinal)).Select(w => w.Url[prefix.Length..]));
                conditions.Add(row => wanted.Any(w => w.Url == FhirSystems.QuestionnaireUrl(row.Code) && (w.Version is null || w.Version == row.InstrumentVersion)));
            }
        }
        return new ObservationFilter(kinds?.ToList(), codes?.ToList(), row => conditions.All(c => c(row)));
    }

    /// <summary>The stored (kind, code) pairs a code token names; a null code is any code of the kind.</summary>
    private static IEnumerable<(string Kind, string? Code)> PairsOf(Token token, IReadOnlyList<InstrumentDefinition> instruments)
    {
        bool Is(string system) => token.System is null || token.System == system;
        if (Is(FhirSystems.Loinc))
        {
            if (token.Code == FhirSystems.PainLoinc)
            {
                yield return ("painScore", "pain_nrs");
            }
            foreach (var d in instruments.Where(d => d.LoincScore == token.Code))
            {
                yield return ("questionnaire", d.Code);
            }
        }
        if (Is(FhirSystems.CodeSystem("instrument")) && instruments.Any(d => d.Code == token.Code))
        {
            yield return ("questionnaire", token.Code);
        }
        if (Is(FhirSystems.CodeSystem("movement")) && Movements.Find(token.Code) is not null)
        {
            yield return ("rangeOfMotion", token.Code);
        }
        if (Is(FhirSystems.CodeSystem("measure")) && token.Code == "pressurePainThreshold")
        {
            yield return ("pressurePainThreshold", null);
        }
        if (Is(FhirSystems.CodeSystem("side-effect")) && EnumCode<SideEffect>.TryParse(token.Code, out _))
        {
            yield return ("sideEffect", token.Code);
        }
    }

    private async Task<InstrumentDefinition?> InstrumentOfAsync(ObservationRow row, CancellationToken ct) =>
        row.Kind == "questionnaire" && row.InstrumentVersion is { } version ? await instruments.FindAsync(row.Code, version, ct) : null;

    /// <summary>The current version of a record known to exist (just written).</summary>
    internal async Task<Resource> CurrentAsync(string type, long recordId, CancellationToken ct) =>
        (await VersionsAsync(type, recordId, ct))!.Resources[^1];

    /// <summary>Every version of a record as the type's resources, oldest first; null when the type has no such record.</summary>
    private async Task<RecordVersions?> VersionsAsync(string type, long recordId, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        if (type == Procedure)
        {
            var sessions = (await connection.QueryAsync<SessionRow>(db.Command(sql.SessionRecord, new { RecordId = recordId }, ct))).ToList();
            if (sessions.Count == 0)
            {
                return null;
            }
            var sites = await SitesAsync(connection, sessions.Select(s => s.Id), ct);
            return new RecordVersions(sessions[0].PatientId, sessions[0].SiteId, [.. sessions.Select(s => (Resource)FhirMapping.Procedure(s, sites[s.Id]))]);
        }
        var rows = (await connection.QueryAsync<ObservationRow>(db.Command(sql.ObservationRecord, new { RecordId = recordId }, ct))).ToList();
        if (rows.Count == 0 || (type == QuestionnaireResponse && rows[0].Kind != "questionnaire"))
        {
            return null;
        }
        var resources = new List<Resource>(rows.Count);
        foreach (var row in rows)
        {
            resources.Add(type == QuestionnaireResponse
                ? FhirMapping.QuestionnaireResponse(row)
                : FhirMapping.Observation(row, await InstrumentOfAsync(row, ct)));
        }
        return new RecordVersions(rows[0].PatientId, rows[0].SiteId, resources);
    }

    private async Task<ILookup<long, InjectionSiteRow>> SitesAsync(System.Data.Common.DbConnection connection, IEnumerable<long> sessionIds, CancellationToken ct)
    {
        var ids = sessionIds.ToList();
        return ids.Count == 0
            ? Array.Empty<InjectionSiteRow>().ToLookup(s => s.SessionId)
            : (await connection.QueryAsync<InjectionSiteRow>(db.Command(sql.SitesOfSessions, new { Ids = ids }, ct))).ToLookup(s => s.SessionId);
    }

    private async Task RefuseAsync(string type, long recordId, long? patientId, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        await audit.AppendAsync(connection, AuditActions.Read, Resource(type), recordId, patientId, ct, outcome: AuditOutcomes.NotFound);
    }

    private static string Resource(string type) => "fhir_" + type.ToLowerInvariant();

    private sealed record RecordVersions(long PatientId, long SiteId, IReadOnlyList<Resource> Resources);
}

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;
using Microsoft.Extensions.Options;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Cohorts;
using Outcomes.Api.Features.Instruments;
using Outcomes.Api.Features.Observations;
using Outcomes.Api.Features.Patients;
using Outcomes.Api.Features.TreatmentSessions;
using Outcomes.Core.Cohorts;

namespace Outcomes.Api.Features.Fhir;

/// <summary>
/// Runs queued exports, one at a time per instance. A job is claimed with a lease renewed after every page, so a
/// crashed runner's job is taken up again by any instance. The records are read a page at a time (keyset paging) and
/// written to the files line by line: memory stays at one page whatever the database's size.
/// </summary>
public sealed class BulkExportWorker(
    Database db, BulkExportSql sql, FhirSql fhirSql, PatientSql patientSql, InstrumentCatalog instruments, GroupCommit commits,
    BulkExportSignal signal, TimeProvider clock, IOptions<FhirOptions> options, IOptions<CohortOptions> cohortOptions, ILogger<BulkExportWorker> logger)
    : BackgroundService
{
    private static readonly TimeSpan _lease = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan _poll = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunPendingAsync(stoppingToken);
                await RemoveExpiredAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogError("Bulk export loop failed: {ExceptionType}", e.GetType().FullName);
            }
            try
            {
                await signal.WaitAsync(_poll, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Claims and runs jobs until none waits. Public for tests, which run exports without the background loop.</summary>
    public async Task RunPendingAsync(CancellationToken ct)
    {
        while (await ClaimAsync(ct) is { } job)
        {
            try
            {
                await RunAsync(job, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                // The error names the failure's type, never a row's values.
                logger.LogError("Bulk export {JobId} failed: {ExceptionType}", job.Id, e.GetType().FullName);
                await commits.RunAsync((c, tx) => c.ExecuteAsync(db.Command(sql.Fail, new
                {
                    job.Id,
                    Now = clock.GetUtcNow(),
                    Error = "An unexpected error stopped the export; it has been logged. Start a new export.",
                }, CancellationToken.None, tx)), CancellationToken.None);
                TryDelete(Path.Combine(options.Value.ExportRoot, job.Id));
            }
        }
    }

    private async Task<ExportJobRow?> ClaimAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        ExportJobRow? candidate;
        await using (var connection = await db.OpenAsync(ct))
        {
            candidate = await connection.QuerySingleOrDefaultAsync<ExportJobRow>(db.Command(sql.Next, new { Now = now, Take = 1 }, ct));
        }
        if (candidate is null)
        {
            return null;
        }
        var taken = await commits.RunAsync((c, tx) => c.ExecuteAsync(db.Command(sql.Claim,
            new { candidate.Id, Now = now, Until = now + _lease, Progress = "starting" }, CancellationToken.None, tx)), ct);
        // Another instance took it first: look again.
        return taken == 1 ? candidate : await ClaimAsync(ct);
    }

    /// <summary>Renews the lease; false when the job was cancelled meanwhile.</summary>
    private async Task<bool> ProgressAsync(ExportJobRow job, string progress, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        return await commits.RunAsync((c, tx) => c.ExecuteAsync(db.Command(sql.Progress,
            new { job.Id, Until = now + _lease, Progress = progress }, CancellationToken.None, tx)), ct) == 1;
    }

    private async Task RunAsync(ExportJobRow job, CancellationToken ct)
    {
        var directory = Path.Combine(options.Value.ExportRoot, job.Id);
        TryDelete(directory);
        Directory.CreateDirectory(directory);
        var siteId = job.Level == "group" ? job.GroupId : null;
        var deid = job.DeIdentified ? await Deidentification.BuildAsync(db, fhirSql, patientSql, siteId, cohortOptions.Value.SmallCellThreshold + 1,
            job.RequestedAt, options.Value.ExportPageSize, ct) : null;
        var types = job.TypeList;
        var pageSize = options.Value.ExportPageSize;
        var files = new List<ExportFile>();
        await using var connection = await db.OpenAsync(ct);

        if (types.Contains("Patient"))
        {
            await using var writer = new NdjsonWriter(directory, "Patient");
            await foreach (var (rows, conditions) in PatientPagesAsync(db, connection, fhirSql, patientSql,
                new PatientQuery { SiteId = siteId, UpdatedFrom = job.Since, Take = pageSize }, ct))
            {
                foreach (var row in rows)
                {
                    var patient = FhirMapping.Patient(row, [.. conditions[row.Id]]);
                    await writer.WriteAsync(deid is null ? patient : deid.Patient(row.Id), ct);
                }
                if (!await ProgressAsync(job, $"Patient: {writer.Count} written", ct))
                {
                    TryDelete(directory);
                    return;
                }
            }
            writer.AddTo(files);
        }

        if (types.Contains("Observation") || types.Contains("QuestionnaireResponse"))
        {
            await using var observations = types.Contains("Observation") ? new NdjsonWriter(directory, "Observation") : null;
            await using var responses = types.Contains("QuestionnaireResponse") ? new NdjsonWriter(directory, "QuestionnaireResponse") : null;
            var after = 0L;
            while (true)
            {
                var rows = (await connection.QueryAsync<ObservationRow>(db.Command(fhirSql.ObservationSearch, new ObservationQuery
                {
                    After = after,
                    SiteId = siteId,
                    AnyKind = responses is not null && observations is null ? 0 : 1,
                    Kinds = ["questionnaire"],
                    UpdatedFrom = job.Since,
                    Take = pageSize,
                }, ct))).ToList();
                if (rows.Count == 0)
                {
                    break;
                }
                foreach (var row in rows)
                {
                    // A de-identified export holds data, not withdrawn reports, and nothing of a suppressed patient.
                    if (deid is not null && (row.EnteredInError || !deid.Keeps(row.PatientId)))
                    {
                        continue;
                    }
                    if (observations is not null)
                    {
                        var instrument = row.Kind == "questionnaire" && row.InstrumentVersion is { } v ? await instruments.FindAsync(row.Code, v, ct) : null;
                        var observation = FhirMapping.Observation(row, instrument);
                        await observations.WriteAsync(deid is null ? observation : deid.Observation(observation, row), ct);
                    }
                    if (responses is not null && row.Kind == "questionnaire")
                    {
                        var response = FhirMapping.QuestionnaireResponse(row);
                        await responses.WriteAsync(deid is null ? response : deid.QuestionnaireResponse(response, row), ct);
                    }
                }
                after = rows[^1].Id;
                if (!await ProgressAsync(job, $"Observation: {observations?.Count ?? 0} written; QuestionnaireResponse: {responses?.Count ?? 0} written", ct))
                {
                    TryDelete(directory);
                    return;
                }
            }
            observations?.AddTo(files);
            responses?.AddTo(files);
        }

        if (types.Contains("Procedure"))
        {
            await using var writer = new NdjsonWriter(directory, "Procedure");
            var after = 0L;
            while (true)
            {
                var rows = (await connection.QueryAsync<SessionRow>(db.Command(fhirSql.SessionSearch,
                    new SessionQuery { After = after, SiteId = siteId, UpdatedFrom = job.Since, Take = pageSize }, ct))).ToList();
                if (rows.Count == 0)
                {
                    break;
                }
                var sites = (await connection.QueryAsync<InjectionSiteRow>(db.Command(fhirSql.SitesOfSessions,
                    new { Ids = rows.Select(r => r.Id).ToList() }, ct))).ToLookup(s => s.SessionId);
                foreach (var row in rows)
                {
                    if (deid is not null && (row.EnteredInError || !deid.Keeps(row.PatientId)))
                    {
                        continue;
                    }
                    var procedure = FhirMapping.Procedure(row, sites[row.Id]);
                    await writer.WriteAsync(deid is null ? procedure : deid.Procedure(procedure, row), ct);
                }
                after = rows[^1].Id;
                if (!await ProgressAsync(job, $"Procedure: {writer.Count} written", ct))
                {
                    TryDelete(directory);
                    return;
                }
            }
            writer.AddTo(files);
        }

        var output = JsonSerializer.Serialize(files, ManifestJson.Web);
        var completed = await commits.RunAsync((c, tx) => c.ExecuteAsync(db.Command(sql.Complete,
            new { job.Id, Now = clock.GetUtcNow(), Output = output }, CancellationToken.None, tx)), ct);
        if (completed == 0)
        {
            TryDelete(directory);
        }
    }

    /// <summary>The patients a query selects, a keyset page at a time, each page with its patients' conditions.</summary>
    internal static async IAsyncEnumerable<(IReadOnlyList<PatientRow> Patients, ILookup<long, string> Conditions)> PatientPagesAsync(
        Database db, System.Data.Common.DbConnection connection, FhirSql sql, PatientSql patientSql, PatientQuery query,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var after = 0L;
        while (true)
        {
            var rows = (await connection.QueryAsync<PatientRow>(db.Command(sql.PatientSearch, query with { After = after }, ct))).ToList();
            if (rows.Count == 0)
            {
                yield break;
            }
            var conditions = (await connection.QueryAsync<ConditionRow>(db.Command(patientSql.ConditionsOf,
                new { Ids = rows.Select(r => r.Id).ToList() }, ct))).ToLookup(c => c.PatientId, c => c.Condition);
            yield return (rows, conditions);
            after = rows[^1].Id;
        }
    }

    private async Task RemoveExpiredAsync(CancellationToken ct)
    {
        List<string> expired;
        await using (var connection = await db.OpenAsync(ct))
        {
            expired = [.. await connection.QueryAsync<string>(db.Command(sql.Expired,
                new { Before = clock.GetUtcNow() - TimeSpan.FromHours(options.Value.ExportRetentionHours), Take = 100 }, ct))];
        }
        foreach (var id in expired)
        {
            TryDelete(Path.Combine(options.Value.ExportRoot, id));
            await commits.RunAsync((c, tx) => c.ExecuteAsync(db.Command(sql.FilesRemoved, new { Id = id }, CancellationToken.None, tx)), ct);
        }
    }

    private static void TryDelete(string directory)
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>One resource per line, written as it comes; the file is left out of the manifest when nothing was written.</summary>
    private sealed class NdjsonWriter(string directory, string type) : IAsyncDisposable
    {
        private readonly string _file = type + ".ndjson";
        private StreamWriter? _writer;

        public long Count { get; private set; }

        public async Task WriteAsync(Resource? resource, CancellationToken ct)
        {
            if (resource is null)
            {
                return;
            }
            _writer ??= new StreamWriter(Path.Combine(directory, _file), append: false, new UTF8Encoding(false)) { NewLine = "\n" };
            await _writer.WriteLineAsync(FhirJson.Serialize(resource).AsMemory(), ct);
            Count++;
        }

        public void AddTo(List<ExportFile> files)
        {
            if (Count > 0)
            {
                files.Add(new ExportFile(type, _file, Count));
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_writer is not null)
            {
                await _writer.DisposeAsync();
            }
        }
    }
}

/// <summary>
/// The auditor's export. Patients are made k-anonymous (k = the small-cell threshold + 1) on site, sex, age band,
/// conditions and the quarter of enrolment, with the same ladder and suppression budget as the cohort CSV export;
/// a suppressed patient's records are left out entirely. Ids are pseudonyms (an HMAC under a key made for this export
/// and never stored: two exports cannot be linked); no identifier, name, free text, practitioner or exact time leaves.
/// Dates are periods of a quarter (or a year, or nothing, as far as the patients' enrolment had to be generalised).
/// </summary>
public sealed class Deidentification
{
    public enum Precision { Quarter, Year, None }

    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);
    private readonly Dictionary<long, QuasiIdentifiers> _kept;

    private Deidentification(Dictionary<long, QuasiIdentifiers> kept, IReadOnlyList<string> generalised, int suppressed)
    {
        _kept = kept;
        Generalised = generalised;
        Suppressed = suppressed;
        DatePrecision = generalised.Contains("year->all") ? Precision.None
            : generalised.Contains("quarter->year") ? Precision.Year
            : Precision.Quarter;
    }

    public IReadOnlyList<string> Generalised { get; }

    public int Suppressed { get; }

    public Precision DatePrecision { get; }

    public bool Keeps(long patientId) => _kept.ContainsKey(patientId);

    internal static async Task<Deidentification> BuildAsync(
        Database db, FhirSql sql, PatientSql patientSql, long? siteId, int k, DateTimeOffset asOf, int pageSize, CancellationToken ct)
    {
        var rows = new List<(long Row, long Patient, QuasiIdentifiers Identifiers)>();
        await using var connection = await db.OpenAsync(ct);
        await foreach (var (patients, conditions) in BulkExportWorker.PatientPagesAsync(db, connection, sql, patientSql,
            new PatientQuery { SiteId = siteId, Take = pageSize }, ct))
        {
            foreach (var p in patients)
            {
                rows.Add((p.Id, p.Id, new QuasiIdentifiers(
                    p.SiteId.ToString(CultureInfo.InvariantCulture), KAnonymity.All, p.Sex, AgeBands.Of(asOf.Year - p.BirthYear),
                    string.Join(';', conditions[p.Id].Order(StringComparer.Ordinal)), CohortBreakdown.Quarter(p.EnrolledOn))));
            }
        }
        var result = KAnonymity.Protect(rows, k);
        return new Deidentification(result.Kept.ToDictionary(r => r.Row, r => r.Identifiers), result.Generalised, result.Suppressed);
    }

    public string Pseudonym(string kind, long id) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{kind}:{id}"))))[..32];

    private ResourceReference PatientReference(long patientId) => new($"Patient/{Pseudonym("patient", patientId)}");

    public Patient? Patient(long patientId)
    {
        if (!_kept.TryGetValue(patientId, out var q))
        {
            return null;
        }
        var patient = new Patient
        {
            Id = Pseudonym("patient", patientId),
            Gender = q.Sex switch
            {
                "female" => AdministrativeGender.Female,
                "male" => AdministrativeGender.Male,
                "other" => AdministrativeGender.Other,
                _ => AdministrativeGender.Unknown,
            },
        };
        patient.Meta = new Meta { Security = [new Coding("http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "PSEUDED", "pseudonymized")] };
        void Add(string name, string value)
        {
            if (value != KAnonymity.All)
            {
                patient.Extension.Add(new Extension(FhirSystems.Extension(name), new FhirString(value)));
            }
        }
        Add("site", q.Site);
        Add("age-band", q.AgeBand);
        Add("enrolment-period", q.Period);
        foreach (var condition in q.Conditions.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            patient.Extension.Add(new Extension(FhirSystems.Extension("treated-condition"),
                new Coding(FhirSystems.CodeSystem("condition"), condition, FhirMapping.Words(condition))));
        }
        return patient;
    }

    /// <summary>The period a date is coarsened to: its quarter (or year); null when dates cannot be given at all.</summary>
    public Period? Coarsen(DateTimeOffset instant) => Coarsen(DateOnly.FromDateTime(instant.UtcDateTime));

    public Period? Coarsen(DateOnly day)
    {
        switch (DatePrecision)
        {
            case Precision.Quarter:
                var first = (day.Month - 1) / 3 * 3 + 1;
                return new Period
                {
                    Start = string.Create(CultureInfo.InvariantCulture, $"{day.Year:D4}-{first:D2}"),
                    End = string.Create(CultureInfo.InvariantCulture, $"{day.Year:D4}-{first + 2:D2}"),
                };
            case Precision.Year:
                var year = day.Year.ToString("D4", CultureInfo.InvariantCulture);
                return new Period { Start = year, End = year };
            default:
                return null;
        }
    }

    internal Observation Observation(Observation source, ObservationRow row) => new()
    {
        Id = Pseudonym("observation", row.RootId ?? row.Id),
        Meta = PseudonymisedMeta(),
        Status = source.Status,
        Category = source.Category,
        Code = source.Code,
        Subject = PatientReference(row.PatientId),
        Effective = Coarsen(row.AnsweredAt),
        Value = source.Value,
        Method = source.Method,
        BodySite = source.BodySite,
        Performer = source.Performer.Count > 0 ? [PatientReference(row.PatientId)] : [],
        DerivedFrom = source.DerivedFrom.Count > 0 ? [new ResourceReference($"QuestionnaireResponse/{Pseudonym("questionnaire-response", row.RootId ?? row.Id)}")] : [],
        Component = [.. source.Component.Select(c => c.Value is FhirDateTime && row.OnsetOn is { } onset
            ? new Observation.ComponentComponent { Code = c.Code, Value = Coarsen(onset) ?? (DataType)new CodeableConcept { Text = "withheld" } }
            : c)],
    };

    internal QuestionnaireResponse QuestionnaireResponse(QuestionnaireResponse source, ObservationRow row)
    {
        var response = new QuestionnaireResponse
        {
            Id = Pseudonym("questionnaire-response", row.RootId ?? row.Id),
            Meta = PseudonymisedMeta(),
            Questionnaire = source.Questionnaire,
            Status = source.Status,
            Subject = PatientReference(row.PatientId),
            Item = source.Item,
        };
        // authored is a single dateTime: the year is the most a quarter allows it to say.
        if (DatePrecision != Precision.None)
        {
            response.Authored = row.AnsweredAt.UtcDateTime.Year.ToString("D4", CultureInfo.InvariantCulture);
        }
        return response;
    }

    internal Procedure Procedure(Procedure source, SessionRow row) => new()
    {
        Id = Pseudonym("procedure", row.RootId ?? row.Id),
        Meta = PseudonymisedMeta(),
        Status = source.Status,
        Category = source.Category,
        Code = source.Code,
        Subject = PatientReference(row.PatientId),
        Performed = Coarsen(row.SessionDate),
        UsedCode = source.UsedCode,
        BodySite = source.BodySite,
        Extension = source.Extension,
    };

    private static Meta PseudonymisedMeta() =>
        new() { Security = [new Coding("http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "PSEUDED", "pseudonymized")] };
}

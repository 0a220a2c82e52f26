using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Audit;
using Outcomes.Api.Features.Instruments;
using Outcomes.Api.Features.Observations;
using Outcomes.Api.Infrastructure;
using Outcomes.Core.Clinic;
using Outcomes.Core.Validation;

namespace Outcomes.Api.Features.Import;

/// <summary>One rejected line of an import.</summary>
/// <param name="Line">1-based line number in the file.</param>
/// <param name="Errors">Field → reasons, as in a validation problem.</param>
public sealed record ImportLineError(long Line, IDictionary<string, string[]> Errors);

/// <param name="Lines">Non-empty lines read.</param>
/// <param name="Stored">Records stored by this import.</param>
/// <param name="Duplicates">Records already stored (same submissionId and content): a re-sent file stores nothing twice.</param>
/// <param name="Rejected">Invalid records; none of them was stored.</param>
/// <param name="Errors">The first 1,000 rejected lines with their reasons.</param>
/// <param name="ErrorsTruncated">True when more lines were rejected than <paramref name="Errors"/> lists.</param>
public sealed record ImportReport(long Lines, long Stored, long Duplicates, long Rejected, IReadOnlyList<ImportLineError> Errors, bool ErrorsTruncated);

public sealed class ImportSql(SqlDialect dialect) : SqlTexts(dialect)
{
    public string Patient { get; } = "SELECT p.site_id, p.enrolled_on FROM patient_current p WHERE p.id = @Id;";
}

internal sealed class ImportPatientRow
{
    public long SiteId { get; init; }
    public DateOnly EnrolledOn { get; init; }
}

public static class ImportApi
{
    public const long MaxBodyBytes = 2L * 1024 * 1024 * 1024;

    public static RouteHandlerBuilder MapImport(this IEndpointRouteBuilder app) =>
        app.MapPost("/api/v1/imports/observations", ImportObservations)
            .WithTags("Import")
            .RequireAuthorization(Policies.Clinician)
            .Accepts<string>("application/x-ndjson")
            .WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes))
            .WithName("ImportObservations")
            .WithSummary("Import a clinic's history: newline-delimited JSON submissions")
            .WithDescription("""
                One JSON object per line: "type" (painScore, questionnaire, rangeOfMotion, pressurePainThreshold, sideEffect),
                "patientId", and the fields of that kind's submission endpoint. Each line is validated on its own: valid ones are
                stored, invalid ones reported with their line number and reasons. Records already stored (same patient and
                submissionId) are counted as duplicates, so a re-sent file stores nothing twice. The file is streamed, never held
                in memory. Practitioners import for their own site's patients; admins for any. Amendments go through the
                submission endpoints, not the import.
                """);

    public static async Task<Results<Ok<ImportReport>, ProblemHttpResult>> ImportObservations(
        HttpContext http, ImportWriter writer, CancellationToken ct)
    {
        if (http.Request.ContentType is not { } type
            || !(type.StartsWith("application/x-ndjson", StringComparison.OrdinalIgnoreCase)
                 || type.StartsWith("application/jsonl", StringComparison.OrdinalIgnoreCase)))
        {
            return TypedResults.Problem(new ProblemDetails
            {
                Status = StatusCodes.Status415UnsupportedMediaType,
                Title = "Unsupported media type",
                Detail = "Send newline-delimited JSON as application/x-ndjson.",
            });
        }
        return TypedResults.Ok(await writer.ImportAsync(CurrentUser.From(http.User), http.Request.Body, ct));
    }
}

/// <summary>
/// Streams an NDJSON file: reads a line, validates it exactly as the submission endpoints would,
/// and writes valid records in batches of <see cref="BatchSize"/>, each batch one transaction with
/// its audit events.
/// </summary>
public sealed class ImportWriter(
    Database db, ImportSql sql, ObservationSql observationSql, InstrumentCatalog instruments, TimeProvider clock,
    IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, AuditLog audit)
{
    public const int BatchSize = 500;
    public const int MaxLineChars = 64 * 1024;
    public const int MaxReportedErrors = 1000;

    private readonly Dictionary<long, ImportPatientRow?> _patients = [];
    private List<BatchItem> _batch = new(BatchSize);
    private readonly List<ImportLineError> _errors = [];
    private long _lines;
    private long _stored;
    private long _duplicates;
    private long _rejected;

    /// <summary>
    /// Reads, validates and stores the file. Two stages overlap: while one batch is written (on a
    /// connection of its own, in one transaction), the next is parsed and validated; at most one batch
    /// waits, so memory stays flat however long the file.
    /// </summary>
    public async Task<ImportReport> ImportAsync(CurrentUser user, Stream body, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var writer = await db.OpenAsync(ct);
        using var reader = new StreamReader(body, Encoding.UTF8);
        Task<FlushResult>? writing = null;
        try
        {
            await foreach (var (number, line, tooLong) in ReadLinesAsync(reader, ct))
            {
                _lines++;
                if (tooLong)
                {
                    Reject(number, "$", $"the line is longer than {MaxLineChars} characters");
                    continue;
                }
                var (patientId, validated) = await ParseAsync(line, ct);
                if (validated.Observation is not { } observation)
                {
                    Reject(number, validated.Errors);
                    continue;
                }
                var patient = await PatientAsync(connection, user, patientId, ct);
                if (patient is null)
                {
                    Reject(number, "patientId", "no such patient, or not one you may import for");
                    continue;
                }
                if (DateOnly.FromDateTime(observation.AnsweredAt.DateTime) < patient.EnrolledOn)
                {
                    Reject(number, "answeredAt", $"is before the patient's enrolment on {patient.EnrolledOn.ToString("O", CultureInfo.InvariantCulture)}");
                    continue;
                }
                _batch.Add(new BatchItem(number, patientId, observation, observation.PayloadHash()));
                if (_batch.Count >= BatchSize)
                {
                    if (writing is not null)
                    {
                        Count(await writing);
                    }
                    var full = _batch;
                    _batch = new(BatchSize);
                    // On the thread pool: the SQLite provider's async calls complete synchronously, so only a task of its own overlaps.
                    writing = Task.Run(() => FlushAsync(writer, user, full, ct), ct);
                }
            }
            if (writing is not null)
            {
                Count(await writing);
                writing = null;
            }
            Count(await FlushAsync(writer, user, _batch, ct));
        }
        finally
        {
            if (writing is not null)
            {
                // The file failed (or was cancelled) while a batch was being written: let the write end before
                // its connection goes. What it committed stays committed; what it did not was rolled back.
                await Task.WhenAny(writing);
            }
        }
        _errors.Sort((a, b) => a.Line.CompareTo(b.Line));
        return new ImportReport(_lines, _stored, _duplicates, _rejected, _errors, _rejected > _errors.Count);
    }

    /// <summary>A valid line waiting to be written, its content hash computed while parsing.</summary>
    private sealed record BatchItem(long Line, long PatientId, NewObservation Observation, string Hash);

    private sealed record FlushResult(int Stored, int Duplicates, List<ImportLineError> Rejected);

    private void Count(FlushResult result)
    {
        _stored += result.Stored;
        _duplicates += result.Duplicates;
        foreach (var error in result.Rejected)
        {
            Reject(error.Line, error.Errors);
        }
    }

    private async Task<(long PatientId, Validated Validated)> ParseAsync(string line, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line, new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException)
        {
            errors.Add("$", "the line is not valid JSON");
            return (0, new Validated(null, errors));
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                errors.Add("$", "each line must be a JSON object");
                return (0, new Validated(null, errors));
            }
            long patientId = 0;
            if (!root.TryGetProperty("patientId", out var pid) || pid.ValueKind != JsonValueKind.Number
                || !pid.TryGetInt64(out patientId) || patientId <= 0)
            {
                errors.Add("patientId", "is required: a patient id (a positive whole number)");
            }
            ObservationKind? kind = root.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String
                && EnumCode<ObservationKind>.TryParse(t.GetString(), out var k) ? k : null;
            if (kind is null)
            {
                errors.Add("type", $"must be one of {string.Join(", ", EnumCode<ObservationKind>.All)}");
            }
            if (root.TryGetProperty("amends", out var amends) && amends.ValueKind != JsonValueKind.Null)
            {
                errors.Add("amends", "amendments go through the submission endpoints, not the import");
            }
            if (!errors.IsEmpty)
            {
                return (patientId, new Validated(null, errors));
            }
            var options = json.Value.SerializerOptions;
            if (kind == ObservationKind.Questionnaire)
            {
                var (questionnaire, invalid) = JsonBody.Read<QuestionnaireResponseRequest>(root, options, _lineMembers);
                return (patientId, questionnaire is null
                    ? new Validated(null, invalid)
                    : await SubmissionValidation.QuestionnaireAsync(questionnaire, clock, instruments, ct));
            }
            var validated = kind switch
            {
                ObservationKind.PainScore => Bind<PainScoreRequest>(root, options, r => SubmissionValidation.PainScore(r, clock)),
                ObservationKind.RangeOfMotion => Bind<RangeOfMotionRequest>(root, options, r => SubmissionValidation.RangeOfMotion(r, clock)),
                ObservationKind.PressurePainThreshold => Bind<PressurePainThresholdRequest>(root, options, r => SubmissionValidation.PressurePainThreshold(r, clock)),
                _ => Bind<SideEffectRequest>(root, options, r => SubmissionValidation.SideEffect(r, clock)),
            };
            return (patientId, validated);
        }
    }

    /// <summary>The members of an import line that are not part of the submission itself.</summary>
    private static readonly HashSet<string> _lineMembers = ["type", "patientId"];

    /// <summary>A line's submission, validated; or, when it does not bind, every member that does not.</summary>
    private static Validated Bind<T>(JsonElement root, JsonSerializerOptions options, Func<T, Validated> validate)
        where T : class
    {
        var (value, errors) = JsonBody.Read<T>(root, options, _lineMembers);
        return value is null ? new Validated(null, errors) : validate(value);
    }

    private async Task<ImportPatientRow?> PatientAsync(DbConnection connection, CurrentUser user, long patientId, CancellationToken ct)
    {
        if (!_patients.TryGetValue(patientId, out var patient))
        {
            patient = await connection.QuerySingleOrDefaultAsync<ImportPatientRow>(db.Command(sql.Patient, new { Id = patientId }, ct));
            if (patient is not null && !(user.IsAdmin || (user.Role == Roles.Practitioner && user.SiteId == patient.SiteId)))
            {
                patient = null;
            }
            _patients[patientId] = patient;
        }
        return patient;
    }

    /// <summary>Writes one batch in one transaction; touches nothing of this writer's state, so it can run beside the parsing.</summary>
    private async Task<FlushResult> FlushAsync(DbConnection connection, CurrentUser user, List<BatchItem> batch, CancellationToken ct)
    {
        var result = new FlushResult(0, 0, []);
        if (batch.Count == 0)
        {
            return result;
        }
        var now = clock.GetUtcNow();
        var rows = batch.ConvertAll(b => ObservationStore.InsertParameters(user, b.PatientId, b.Observation, b.Hash, now, rootId: null));
        BatchOutcome[] outcomes;
        using (await db.EnterWriteAsync(connection, ct))
        await using (var tx = await connection.BeginTransactionAsync(ct))
        {
            outcomes = await ObservationBatchInsert.InsertAsync(connection, tx, rows, db, observationSql, ct);
            foreach (var patientId in batch.Select(b => b.PatientId).Distinct())
            {
                await audit.AppendAsync(connection, "import", "observation", null, patientId, ct, tx);
            }
            await tx.CommitAsync(ct);
        }
        for (var i = 0; i < outcomes.Length; i++)
        {
            if (outcomes[i] == BatchOutcome.Conflict)
            {
                result.Rejected.Add(new ImportLineError(batch[i].Line, new Dictionary<string, string[]>
                {
                    ["submissionId"] = ["was already used for a different submission"],
                }));
            }
        }
        return result with
        {
            Stored = outcomes.Count(o => o == BatchOutcome.Stored),
            Duplicates = outcomes.Count(o => o == BatchOutcome.Duplicate),
        };
    }

    private void Reject(long line, string field, string message)
    {
        var errors = new ValidationErrors();
        errors.Add(field, message);
        Reject(line, errors);
    }

    private void Reject(long line, ValidationErrors errors) => Reject(line, errors.ToDictionary());

    private void Reject(long line, IDictionary<string, string[]> errors)
    {
        _rejected++;
        if (_errors.Count < MaxReportedErrors)
        {
            _errors.Add(new ImportLineError(line, errors));
        }
    }

    private static bool IsBlank(StringBuilder line)
    {
        foreach (var chunk in line.GetChunks())
        {
            foreach (var c in chunk.Span)
            {
                if (!char.IsWhiteSpace(c))
                {
                    return false;
                }
            }
        }
        return true;
    }

    /// <summary>Lines of at most <see cref="MaxLineChars"/> characters; a longer one is skipped and flagged, never buffered whole.</summary>
    private static async IAsyncEnumerable<(long Number, string Line, bool TooLong)> ReadLinesAsync(
        StreamReader reader, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var buffer = new char[8192];
        var line = new StringBuilder();
        var tooLong = false;
        long number = 0;
        int read;
        while ((read = await reader.ReadAsync(buffer.AsMemory(), ct)) > 0)
        {
            for (var i = 0; i < read; i++)
            {
                var c = buffer[i];
                if (c == '\n')
                {
                    number++;
                    if (tooLong || !IsBlank(line))
                    {
                        yield return (number, tooLong ? "" : line.ToString(), tooLong);
                    }
                    line.Clear();
                    tooLong = false;
                }
                else if (!tooLong)
                {
                    if (line.Length >= MaxLineChars)
                    {
                        tooLong = true;
                        line.Clear();
                    }
                    else
                    {
                        line.Append(c);
                    }
                }
            }
        }
        number++;
        if (tooLong || !IsBlank(line))
        {
            yield return (number, tooLong ? "" : line.ToString(), tooLong);
        }
    }
}

using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Dapper;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Audit;
using Outcomes.Api.Features.Patients;
using Outcomes.Api.Infrastructure;
using Outcomes.Core.Clinic;
using Outcomes.Core.Instruments;
using Outcomes.Core.Validation;

namespace Outcomes.Api.Features.Observations;

public sealed class ObservationSql(SqlDialect dialect) : SqlTexts(dialect)
{
    /// <summary>
    /// The one definition of a current version, for an observation aliased <c>o</c>: not an
    /// entered-in-error mark, and not superseded by a later version.
    /// </summary>
    public const string IsCurrent =
        "o.entered_in_error = 0 AND NOT EXISTS (SELECT 1 FROM observation s WHERE s.supersedes_id = o.id)";

    private const string Columns = """
        o.id, o.patient_id, o.kind, o.code, o.instrument_version, o.value, o.qualifier, o.body_side, o.onset_on, o.serious,
        o.detail, o.answered_at, o.answered_offset_min, o.received_at, o.submission_id, o.payload_hash, o.recorded_role,
        o.supersedes_id, o.root_id, o.entered_in_error, o.change_reason,
        (SELECT s.id FROM observation s WHERE s.supersedes_id = o.id) AS superseded_by_id
        """;

    public string EnrolledOn { get; } = "SELECT p.enrolled_on FROM patient_current p WHERE p.id = @Id;";

    public string BySubmission { get; } =
        $"SELECT {Columns} FROM observation o WHERE o.patient_id = @PatientId AND o.submission_id = @SubmissionId;";

    public string ById { get; } = $"SELECT {Columns} FROM observation o WHERE o.id = @Id AND o.patient_id = @PatientId;";

    public string History { get; } = $"""
        SELECT {Columns} FROM observation o
        WHERE o.patient_id = @PatientId AND COALESCE(o.root_id, o.id) = @RecordId
        ORDER BY o.id;
        """;

    // Current versions only: superseded ones and entered-in-error marks are left out.
    public string Current { get; } = $"""
        SELECT {Columns} FROM observation o
        WHERE o.patient_id = @PatientId
          AND (@Kind IS NULL OR o.kind = @Kind)
          AND (@Code IS NULL OR o.code = @Code)
          AND (@From IS NULL OR o.answered_at >= @From)
          AND (@To IS NULL OR o.answered_at < @To)
          AND (@AfterAt IS NULL OR o.answered_at > @AfterAt OR (o.answered_at = @AfterAt AND o.id > @AfterId))
          AND {IsCurrent}
        ORDER BY o.answered_at, o.id
        {dialect.Limit("@Take")};
        """;

    /// <summary>The columns an insert writes, in the order of <see cref="ObservationBatchInsert"/>'s rows.</summary>
    internal const string InsertColumns = """
        patient_id, kind, code, instrument_version, value, qualifier, body_side, onset_on, serious, detail, answered_at,
        answered_offset_min, received_at, submission_id, payload_hash, recorded_by, recorded_role, supersedes_id, root_id,
        entered_in_error, change_reason
        """;

    private const string InsertValues = """
        @PatientId, @Kind, @Code, @InstrumentVersion, @Value, @Qualifier, @BodySide, @OnsetOn, @Serious, @Detail, @AnsweredAt,
        @AnsweredOffsetMin, @ReceivedAt, @SubmissionId, @PayloadHash, @RecordedBy, @RecordedRole, @SupersedesId, @RootId,
        @EnteredInError, @ChangeReason
        """;

    /// <summary>Bulk import: stores the record unless its submission is already there (then 0 rows).</summary>
    public string InsertIfAbsent { get; } = $"""
        INSERT INTO observation ({InsertColumns})
        SELECT {InsertValues}
        WHERE NOT EXISTS (SELECT 1 FROM observation {dialect.KeyRangeLock}
                          WHERE patient_id = @PatientId AND submission_id = @SubmissionId);
        """;

    public string HashOfSubmission { get; } =
        "SELECT payload_hash FROM observation WHERE patient_id = @PatientId AND submission_id = @SubmissionId;";

    public string Insert { get; } = dialect.InsertReturningId("observation", InsertColumns, InsertValues);

    /// <summary>The patient's entered-in-error mark of a serious side-effect record, if the patient withdrew it.</summary>
    public string WithdrawalOfRecord { get; } = $"""
        SELECT {Columns} FROM observation o
        WHERE o.patient_id = @PatientId AND COALESCE(o.root_id, o.id) = @RecordId
          AND o.kind = 'sideEffect' AND o.serious = 1 AND o.entered_in_error = 1 AND o.recorded_role = 'patient';
        """;

    public string ReviewOf { get; } = """
        SELECT observation_id, patient_id, reviewed_at, reviewed_by, reviewed_role, note FROM withdrawal_review WHERE observation_id = @ObservationId;
        """;

    public string InsertReview { get; } = """
        INSERT INTO withdrawal_review (observation_id, patient_id, reviewed_at, reviewed_by, reviewed_role, note)
        VALUES (@ObservationId, @PatientId, @ReviewedAt, @ReviewedBy, @ReviewedRole, @Note);
        """;
}

public enum SubmitOutcome
{
    Created,
    Replayed,
    Conflict,
    NotFound,
    Invalid,
}

public sealed record SubmitResult(SubmitOutcome Outcome, ObservationResponse? Observation = null, string? Detail = null, ValidationErrors? Errors = null);

/// <summary>
/// The one write path of every submission kind: access check, enrolment check, amendment rules,
/// idempotent insert (a unique index, not a check-then-insert, settles a race) and the audit event,
/// in one transaction.
/// </summary>
public sealed class ObservationStore(
    Database db, ObservationSql sql, PatientAccess access, AuditLog audit, TimeProvider clock, GroupCommit commits, Alerts.AlertWriter alerts)
{
    private const string Resource = "observation";

    /// <summary>Whether the caller may see the patient; a refusal is audited.</summary>
    public async Task<bool> IsVisibleAsync(CurrentUser user, long patientId, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        return await access.SiteOrRefuseAsync(connection, user, patientId, AuditActions.Create, Resource, ct) is not null;
    }

    public async Task<SubmitResult> SubmitAsync(CurrentUser user, long patientId, NewObservation o, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        if (await access.SiteOrRefuseAsync(connection, user, patientId, AuditActions.Create, Resource, ct) is not { } siteId)
        {
            return new SubmitResult(SubmitOutcome.NotFound);
        }

        var hash = o.PayloadHash();
        // A retried amendment must find its first attempt before the "already amended" check would refuse it;
        // a plain retry is caught by the unique index at insert, which saves every first attempt a read.
        if (o.Amends is not null && await FindBySubmissionAsync(connection, patientId, o.SubmissionId, ct) is { } earlier)
        {
            return Replay(earlier, hash);
        }

        var errors = new ValidationErrors();
        var enrolledOn = await connection.ExecuteScalarAsync<DateOnly>(db.Command(sql.EnrolledOn, new { Id = patientId }, ct));
        errors.Check(DateOnly.FromDateTime(o.AnsweredAt.DateTime) >= enrolledOn, "answeredAt",
            $"is before the patient's enrolment on {enrolledOn.ToString("O", CultureInfo.InvariantCulture)}");

        long? rootId = null;
        if (o.Amends is { } amends)
        {
            var target = await connection.QuerySingleOrDefaultAsync<ObservationRow>(
                db.Command(sql.ById, new { Id = amends, PatientId = patientId }, ct));
            if (target is null || target.Kind != EnumCode<ObservationKind>.Of(o.Kind))
            {
                errors.Add("amends", $"no {EnumCode<ObservationKind>.Of(o.Kind)} with this id for this patient");
            }
            else if (target.SupersededById is not null || target.EnteredInError)
            {
                return new SubmitResult(SubmitOutcome.Conflict, Detail:
                    $"Observation {amends} is not the current version of its record; amend the current version instead.");
            }
            else
            {
                rootId = target.RootId ?? target.Id;
            }
        }
        if (!errors.IsEmpty)
        {
            return new SubmitResult(SubmitOutcome.Invalid, Errors: errors);
        }

        // The clock is the service's StoredClock: to the millisecond, what every later read returns.
        var now = clock.GetUtcNow();
        // What is written is also the answer: a new version supersedes nothing yet, so it reads back the same.
        var stored = InsertParameters(user, patientId, o, hash, now, rootId);
        var entry = audit.Entry(o.EnteredInError ? "mark_entered_in_error" : o.Amends is null ? AuditActions.Create : "amend",
            Resource, null, patientId);
        // A serious side effect raises its alert in the same transaction (the outbox): never one without the other.
        var serious = o.Kind == ObservationKind.SideEffect && o.Serious && !o.EnteredInError;
        var alerted = false;
        try
        {
            // Committed with other requests' writes in one transaction (GroupCommit), each in its own savepoint.
            stored.Id = await commits.RunAsync(async (c, tx) =>
            {
                var id = await c.ExecuteScalarAsync<long>(db.Command(sql.Insert, stored, CancellationToken.None, tx));
                await audit.InsertAsync(c, tx, entry with { ResourceId = id.ToString(CultureInfo.InvariantCulture) }, CancellationToken.None);
                if (serious)
                {
                    // Keyed by the record: an amendment that keeps it serious raises nothing new.
                    var cause = Core.Alerts.AlertRules.SeriousSideEffect(rootId ?? id, DateOnly.FromDateTime(stored.AnsweredAt.UtcDateTime));
                    alerted = await alerts.RaiseAsync(c, tx, cause, patientId, siteId, id, now) is not null;
                }
                return id;
            }, ct);
        }
        catch (DbException e) when (db.Dialect.IsUniqueViolation(e))
        {
            // Either the same submission won a race, or another amendment of the same version did.
            return await FindBySubmissionAsync(connection, patientId, o.SubmissionId, ct) is { } winner
                ? Replay(winner, hash)
                : new SubmitResult(SubmitOutcome.Conflict, Detail:
                    $"Observation {o.Amends} was amended by another request at the same time; amend the current version instead.");
        }

        if (alerted)
        {
            alerts.Committed();
        }
        return new SubmitResult(SubmitOutcome.Created, stored.ToResponse());
    }

    /// <summary>The row <see cref="ObservationSql.Insert"/> and <see cref="ObservationSql.InsertIfAbsent"/> write (their parameters).</summary>
    internal static ObservationRow InsertParameters(CurrentUser user, long patientId, NewObservation o, string hash, DateTimeOffset now, long? rootId) => new()
    {
        PatientId = patientId,
        Kind = EnumCode<ObservationKind>.Of(o.Kind),
        Code = o.Code,
        InstrumentVersion = o.InstrumentVersion,
        Value = o.Value,
        Qualifier = o.Qualifier,
        BodySide = o.BodySide,
        OnsetOn = o.OnsetOn,
        Serious = o.Serious,
        Detail = o.Detail is null ? null : JsonSerializer.Serialize(o.Detail, InstrumentJson.Options),
        AnsweredAt = o.AnsweredAt.ToUniversalTime(),
        AnsweredOffsetMin = (int)o.AnsweredAt.Offset.TotalMinutes,
        ReceivedAt = now,
        SubmissionId = o.SubmissionId.ToString("D"),
        PayloadHash = hash,
        RecordedBy = user.Subject,
        RecordedRole = user.Role,
        SupersedesId = o.Amends,
        RootId = rootId,
        EnteredInError = o.EnteredInError,
        ChangeReason = o.Reason,
    };

    internal async Task<ObservationRow?> FindAsync(DbConnection connection, long patientId, long id, CancellationToken ct) =>
        await connection.QuerySingleOrDefaultAsync<ObservationRow>(db.Command(sql.ById, new { Id = id, PatientId = patientId }, ct));

    private Task<ObservationRow?> FindBySubmissionAsync(DbConnection connection, long patientId, Guid submissionId, CancellationToken ct) =>
        connection.QuerySingleOrDefaultAsync<ObservationRow>(
            db.Command(sql.BySubmission, new { PatientId = patientId, SubmissionId = submissionId.ToString("D") }, ct));

    private static SubmitResult Replay(ObservationRow earlier, string hash) =>
        earlier.PayloadHash == hash
            ? new SubmitResult(SubmitOutcome.Replayed, earlier.ToResponse())
            : new SubmitResult(SubmitOutcome.Conflict, Detail:
                "This submissionId was already used for a different submission; a retry must resend the same body.");
}

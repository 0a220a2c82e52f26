using Outcomes.Api.Data;

namespace Outcomes.Api.Features.Fhir;

/// <summary>
/// What the FHIR facade reads. A resource is a record: its current version is the one no later version supersedes,
/// whether a correction or an entered-in-error mark (FHIR shows withdrawn records as entered-in-error, it does not
/// hide them). Searches run across the patients a caller may see: one patient, a practitioner's site, or all.
/// </summary>
public sealed class FhirSql(SqlDialect dialect) : SqlTexts(dialect)
{
    private const string ObservationColumns = """
        o.id, o.patient_id, o.kind, o.code, o.instrument_version, o.value, o.qualifier, o.body_side, o.onset_on, o.serious,
        o.detail, o.answered_at, o.answered_offset_min, o.received_at, o.submission_id, o.recorded_role,
        o.supersedes_id, o.root_id, o.entered_in_error, o.change_reason, p.site_id,
        (SELECT s.id FROM observation s WHERE s.supersedes_id = o.id) AS superseded_by_id,
        (SELECT r.submission_id FROM observation r WHERE r.id = COALESCE(o.root_id, o.id)) AS record_submission_id
        """;

    /// <summary>The latest version of each record in scope, in id order (keyset paging on the version id).</summary>
    public string ObservationSearch { get; } = $"""
        SELECT {ObservationColumns}
        FROM observation o JOIN patient p ON p.id = o.patient_id
        WHERE o.id > @After
          AND NOT EXISTS (SELECT 1 FROM observation s WHERE s.supersedes_id = o.id)
          AND (@PatientId IS NULL OR o.patient_id = @PatientId)
          AND (@SiteId IS NULL OR p.site_id = @SiteId)
          AND (@AnyKind = 1 OR o.kind IN @Kinds)
          AND (@AnyCode = 1 OR o.code IN @Codes)
          AND (@From IS NULL OR o.answered_at >= @From)
          AND (@To IS NULL OR o.answered_at < @To)
          AND (@UpdatedFrom IS NULL OR o.received_at >= @UpdatedFrom)
          AND (@UpdatedTo IS NULL OR o.received_at < @UpdatedTo)
        ORDER BY o.id
        {dialect.Limit("@Take")};
        """;

    /// <summary>Every version of one record, oldest first.</summary>
    public string ObservationRecord { get; } = $"""
        SELECT {ObservationColumns}
        FROM observation o JOIN patient p ON p.id = o.patient_id
        WHERE (o.id = @RecordId AND o.root_id IS NULL) OR o.root_id = @RecordId
        ORDER BY o.id;
        """;

    /// <summary>The record a submission id belongs to (any of its versions), for a conditional create.</summary>
    public string ObservationRecordOfSubmission { get; } =
        "SELECT COALESCE(o.root_id, o.id) FROM observation o WHERE o.patient_id = @PatientId AND o.submission_id = @SubmissionId;";

    private const string SessionColumns = """
        t.id, t.patient_id, t.practitioner_id, t.session_date, t.product, t.guidance, t.dilution_units_per_ml, t.total_units,
        t.created_at, t.submission_id, t.supersedes_id, t.root_id, t.entered_in_error, t.change_reason, t.high_dose_reason, p.site_id,
        (SELECT ts.id FROM treatment_session ts WHERE ts.supersedes_id = t.id) AS superseded_by_id,
        (SELECT r.submission_id FROM treatment_session r WHERE r.id = COALESCE(t.root_id, t.id)) AS record_submission_id
        """;

    public string SessionSearch { get; } = $"""
        SELECT {SessionColumns}
        FROM treatment_session t JOIN patient p ON p.id = t.patient_id
        WHERE t.id > @After
          AND NOT EXISTS (SELECT 1 FROM treatment_session s WHERE s.supersedes_id = t.id)
          AND (@PatientId IS NULL OR t.patient_id = @PatientId)
          AND (@SiteId IS NULL OR p.site_id = @SiteId)
          AND (@FromDate IS NULL OR t.session_date >= @FromDate)
          AND (@ToDate IS NULL OR t.session_date < @ToDate)
          AND (@UpdatedFrom IS NULL OR t.created_at >= @UpdatedFrom)
          AND (@UpdatedTo IS NULL OR t.created_at < @UpdatedTo)
        ORDER BY t.id
        {dialect.Limit("@Take")};
        """;

    public string SessionRecord { get; } = $"""
        SELECT {SessionColumns}
        FROM treatment_session t JOIN patient p ON p.id = t.patient_id
        WHERE (t.id = @RecordId AND t.root_id IS NULL) OR t.root_id = @RecordId
        ORDER BY t.id;
        """;

    public string SitesOfSessions { get; } =
        "SELECT i.session_id, i.muscle, i.side, i.units FROM injection_site i WHERE i.session_id IN @Ids ORDER BY i.session_id, i.id;";

    private const string PatientColumns = $"p.id, p.site_id, p.external_ref, p.birth_year, p.sex, p.enrolled_on, p.created_at, p.version, {PatientUpdated} AS updated_at";

    /// <summary>When the patient's record last changed: its latest correction, else its enrolment.</summary>
    private const string PatientUpdated = "COALESCE((SELECT MAX(v.created_at) FROM patient_version v WHERE v.patient_id = p.id), p.created_at)";

    public string PatientSearch { get; } = $"""
        SELECT {PatientColumns}
        FROM patient_current p
        WHERE p.id > @After
          AND (@Id IS NULL OR p.id = @Id)
          AND (@SiteId IS NULL OR p.site_id = @SiteId)
          AND (@IdentifierSite IS NULL OR p.site_id = @IdentifierSite)
          AND (@IdentifierValue IS NULL OR p.external_ref = @IdentifierValue)
          AND (@BirthFrom IS NULL OR p.birth_year >= @BirthFrom)
          AND (@BirthTo IS NULL OR p.birth_year <= @BirthTo)
          AND (@Gender IS NULL OR p.sex = @Gender)
          AND (@UpdatedFrom IS NULL OR {PatientUpdated} >= @UpdatedFrom)
          AND (@UpdatedTo IS NULL OR {PatientUpdated} < @UpdatedTo)
        ORDER BY p.id
        {dialect.Limit("@Take")};
        """;
}

/// <summary>The parameters of <see cref="FhirSql.ObservationSearch"/>; null ones do not filter.</summary>
public sealed class ObservationQuery
{
    public long After { get; init; }
    public long? PatientId { get; init; }
    public long? SiteId { get; init; }
    public int AnyKind { get; init; } = 1;
    public IReadOnlyList<string> Kinds { get; init; } = [];
    public int AnyCode { get; init; } = 1;
    public IReadOnlyList<string> Codes { get; init; } = [];
    public DateTimeOffset? From { get; init; }
    public DateTimeOffset? To { get; init; }
    public DateTimeOffset? UpdatedFrom { get; init; }
    public DateTimeOffset? UpdatedTo { get; init; }
    public int Take { get; init; }
}

/// <summary>The parameters of <see cref="FhirSql.SessionSearch"/>; null ones do not filter.</summary>
public sealed class SessionQuery
{
    public long After { get; init; }
    public long? PatientId { get; init; }
    public long? SiteId { get; init; }
    public DateOnly? FromDate { get; init; }
    public DateOnly? ToDate { get; init; }
    public DateTimeOffset? UpdatedFrom { get; init; }
    public DateTimeOffset? UpdatedTo { get; init; }
    public int Take { get; init; }
}

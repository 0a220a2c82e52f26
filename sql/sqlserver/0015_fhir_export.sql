-- 0015 FHIR Bulk Data export jobs (see sql/sqlite/0015_fhir_export.sql).
CREATE TABLE dbo.fhir_export_job (
    id                NVARCHAR(36)       NOT NULL CONSTRAINT pk_fhir_export_job PRIMARY KEY,
    level             NVARCHAR(16)       NOT NULL,
    group_id          BIGINT             NULL,
    types             NVARCHAR(200)      NOT NULL,
    since             DATETIMEOFFSET(3)  NULL,
    de_identified     BIT                NOT NULL,
    request_url       NVARCHAR(2000)     NOT NULL,
    requested_at      DATETIMEOFFSET(3)  NOT NULL,
    requested_by      NVARCHAR(200)      NOT NULL,
    requested_role    NVARCHAR(32)       NOT NULL,
    status            NVARCHAR(16)       NOT NULL,
    claimed_until     DATETIMEOFFSET(3)  NULL,
    progress          NVARCHAR(400)      NULL,
    finished_at       DATETIMEOFFSET(3)  NULL,
    error             NVARCHAR(1000)     NULL,
    output            NVARCHAR(MAX)      NULL,
    files_removed     BIT                NOT NULL CONSTRAINT df_fhir_export_job_files_removed DEFAULT 0
);
CREATE INDEX ix_fhir_export_job_status ON dbo.fhir_export_job (status, requested_at);
CREATE INDEX ix_treatment_session_root ON dbo.treatment_session (root_id) WHERE root_id IS NOT NULL;

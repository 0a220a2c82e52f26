-- 0015 FHIR Bulk Data export jobs, and an index that finds a treatment session's versions by its record id.
-- A job row is not clinical data: its status moves from queued to running to completed, failed or cancelled.
CREATE TABLE fhir_export_job (
    id                TEXT    NOT NULL PRIMARY KEY,
    level             TEXT    NOT NULL,
    group_id          INTEGER NULL,
    types             TEXT    NOT NULL,
    since             TEXT    NULL,
    de_identified     INTEGER NOT NULL,
    request_url       TEXT    NOT NULL,
    requested_at      TEXT    NOT NULL,
    requested_by      TEXT    NOT NULL,
    requested_role    TEXT    NOT NULL,
    status            TEXT    NOT NULL,
    claimed_until     TEXT    NULL,
    progress          TEXT    NULL,
    finished_at       TEXT    NULL,
    error             TEXT    NULL,
    output            TEXT    NULL,
    files_removed     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ix_fhir_export_job_status ON fhir_export_job (status, requested_at);
CREATE INDEX ix_treatment_session_root ON treatment_session (root_id) WHERE root_id IS NOT NULL;

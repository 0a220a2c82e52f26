-- 0005 treatment sessions carry the client's submission id, so a retried POST returns the first
-- session instead of recording the visit twice. Sessions recorded before this have none.
ALTER TABLE treatment_session ADD COLUMN submission_id TEXT NULL;
ALTER TABLE treatment_session ADD COLUMN payload_hash TEXT NULL;
CREATE UNIQUE INDEX ux_treatment_session_submission ON treatment_session (patient_id, submission_id) WHERE submission_id IS NOT NULL;

-- 0005 treatment sessions carry the client's submission id (see sql/sqlite/0005_session_submission.sql).
ALTER TABLE dbo.treatment_session ADD submission_id VARCHAR(64) NULL, payload_hash CHAR(64) NULL;
GO
CREATE UNIQUE INDEX ux_treatment_session_submission ON dbo.treatment_session (patient_id, submission_id) WHERE submission_id IS NOT NULL;
GO

-- 0009 one rule for text on SQL Server: every column a query compares with a parameter is NVARCHAR.
-- Dapper sends a .NET string as NVARCHAR; against a VARCHAR column SQL Server converts the column
-- (data type precedence), and under a SQL collation (Azure SQL's default) an index seek becomes a
-- scan. So the codes, keys and submission ids become NVARCHAR of the same length. The one VARCHAR
-- left, measure_series.points, is packed ASCII that no query compares; the test suite's T-SQL rule
-- check fails any query that compares a VARCHAR column with a parameter.
-- Each index or key over a changed column is dropped first and created again after, unchanged.
-- Also: a one-row table that readiness writes to prove that a commit can reach the disk
-- (see sql/sqlite/0009_text_types_and_storage_probe.sql).

DROP INDEX ix_patient_condition_condition ON dbo.patient_condition;
ALTER TABLE dbo.patient_condition DROP CONSTRAINT pk_patient_condition;
DROP INDEX ux_treatment_session_submission ON dbo.treatment_session;
DROP INDEX ux_instrument_code_version ON dbo.instrument;
DROP INDEX ux_observation_submission ON dbo.observation;
DROP INDEX ix_observation_patient_kind ON dbo.observation;
DROP INDEX ix_observation_measure ON dbo.observation;
DROP INDEX ux_measure_series_measure ON dbo.measure_series;
GO

ALTER TABLE dbo.patient ALTER COLUMN sex NVARCHAR(16) NOT NULL;
ALTER TABLE dbo.patient_condition ALTER COLUMN condition NVARCHAR(64) NOT NULL;
ALTER TABLE dbo.treatment_session ALTER COLUMN product NVARCHAR(32) NOT NULL;
ALTER TABLE dbo.treatment_session ALTER COLUMN guidance NVARCHAR(16) NOT NULL;
ALTER TABLE dbo.treatment_session ALTER COLUMN submission_id NVARCHAR(64) NULL;
ALTER TABLE dbo.treatment_session ALTER COLUMN payload_hash NCHAR(64) NULL;
ALTER TABLE dbo.injection_site ALTER COLUMN muscle NVARCHAR(64) NOT NULL;
ALTER TABLE dbo.injection_site ALTER COLUMN side NVARCHAR(8) NOT NULL;
ALTER TABLE dbo.audit_event ALTER COLUMN role NVARCHAR(32) NOT NULL;
ALTER TABLE dbo.audit_event ALTER COLUMN action NVARCHAR(64) NOT NULL;
ALTER TABLE dbo.audit_event ALTER COLUMN resource_type NVARCHAR(64) NOT NULL;
ALTER TABLE dbo.audit_event ALTER COLUMN resource_id NVARCHAR(64) NULL;
ALTER TABLE dbo.audit_event ALTER COLUMN outcome NVARCHAR(32) NOT NULL;
ALTER TABLE dbo.audit_event ALTER COLUMN request_id NVARCHAR(128) NULL;
ALTER TABLE dbo.instrument ALTER COLUMN code NVARCHAR(64) NOT NULL;
ALTER TABLE dbo.instrument ALTER COLUMN version NVARCHAR(16) NOT NULL;
ALTER TABLE dbo.observation ALTER COLUMN kind NVARCHAR(32) NOT NULL;
ALTER TABLE dbo.observation ALTER COLUMN code NVARCHAR(64) NOT NULL;
ALTER TABLE dbo.observation ALTER COLUMN instrument_version NVARCHAR(16) NULL;
ALTER TABLE dbo.observation ALTER COLUMN qualifier NVARCHAR(32) NULL;
ALTER TABLE dbo.observation ALTER COLUMN body_side NVARCHAR(8) NULL;
ALTER TABLE dbo.observation ALTER COLUMN submission_id NVARCHAR(64) NOT NULL;
ALTER TABLE dbo.observation ALTER COLUMN payload_hash NCHAR(64) NOT NULL;
ALTER TABLE dbo.observation ALTER COLUMN recorded_role NVARCHAR(32) NOT NULL;
ALTER TABLE dbo.measure_series ALTER COLUMN kind NVARCHAR(32) NOT NULL;
ALTER TABLE dbo.measure_series ALTER COLUMN measure_key NVARCHAR(140) NOT NULL;
GO

ALTER TABLE dbo.patient_condition ADD CONSTRAINT pk_patient_condition PRIMARY KEY (patient_id, condition);
CREATE INDEX ix_patient_condition_condition ON dbo.patient_condition (condition, patient_id);
CREATE UNIQUE INDEX ux_treatment_session_submission ON dbo.treatment_session (patient_id, submission_id) WHERE submission_id IS NOT NULL;
CREATE UNIQUE INDEX ux_instrument_code_version ON dbo.instrument (code, version);
CREATE UNIQUE INDEX ux_observation_submission ON dbo.observation (patient_id, submission_id);
CREATE INDEX ix_observation_patient_kind ON dbo.observation (patient_id, kind, code, answered_at);
CREATE INDEX ix_observation_measure ON dbo.observation (kind, code, patient_id, answered_at)
    INCLUDE (qualifier, body_side, value, entered_in_error);
CREATE UNIQUE INDEX ux_measure_series_measure ON dbo.measure_series (kind, measure_key, patient_id) INCLUDE (points);
GO

CREATE TABLE dbo.storage_probe (
    id          INT                NOT NULL CONSTRAINT pk_storage_probe PRIMARY KEY,
    checked_at  DATETIMEOFFSET(3)  NOT NULL
);
INSERT INTO dbo.storage_probe (id, checked_at) VALUES (1, SYSDATETIMEOFFSET());
GO

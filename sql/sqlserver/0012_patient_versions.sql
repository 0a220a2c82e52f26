-- 0012 patient corrections as new versions (see sql/sqlite/0012_patient_versions.sql).
CREATE TABLE dbo.patient_version (
    id             BIGINT IDENTITY(1,1) NOT NULL CONSTRAINT pk_patient_version PRIMARY KEY,
    patient_id     BIGINT             NOT NULL CONSTRAINT fk_patient_version_patient REFERENCES dbo.patient (id),
    based_on       BIGINT             NOT NULL,
    external_ref   NVARCHAR(64)       NOT NULL,
    birth_year     INT                NOT NULL CONSTRAINT ck_patient_version_birth_year CHECK (birth_year BETWEEN 1900 AND 2200),
    sex            NVARCHAR(16)       NOT NULL,
    enrolled_on    DATE               NOT NULL,
    change_reason  NVARCHAR(500)      NOT NULL,
    created_at     DATETIMEOFFSET(3)  NOT NULL,
    created_by     NVARCHAR(200)      NOT NULL,
    created_role   NVARCHAR(32)       NOT NULL,
    submission_id  NVARCHAR(64)       NOT NULL,
    payload_hash   NCHAR(64)          NOT NULL
);
CREATE UNIQUE INDEX ux_patient_version_based_on ON dbo.patient_version (patient_id, based_on);
CREATE UNIQUE INDEX ux_patient_version_submission ON dbo.patient_version (patient_id, submission_id);
CREATE INDEX ix_patient_version_patient ON dbo.patient_version (patient_id, id);

CREATE TABLE dbo.patient_version_condition (
    version_id  BIGINT        NOT NULL CONSTRAINT fk_patient_version_condition_version REFERENCES dbo.patient_version (id),
    condition   NVARCHAR(64)  NOT NULL,
    CONSTRAINT pk_patient_version_condition PRIMARY KEY (version_id, condition)
);
GO
CREATE TRIGGER dbo.tr_patient_version_append_only ON dbo.patient_version INSTEAD OF UPDATE, DELETE
AS BEGIN SET NOCOUNT ON; THROW 50001, 'patient_version rows are append-only', 1; END;
GO
CREATE TRIGGER dbo.tr_patient_version_condition_append_only ON dbo.patient_version_condition INSTEAD OF UPDATE, DELETE
AS BEGIN SET NOCOUNT ON; THROW 50001, 'patient_version_condition rows are append-only', 1; END;
GO
CREATE VIEW dbo.patient_current AS
SELECT p.id, p.site_id,
       COALESCE(v.external_ref, p.external_ref) AS external_ref,
       COALESCE(v.birth_year, p.birth_year) AS birth_year,
       COALESCE(v.sex, p.sex) AS sex,
       COALESCE(v.enrolled_on, p.enrolled_on) AS enrolled_on,
       p.created_at,
       COALESCE(v.id, 0) AS version
FROM dbo.patient p
LEFT JOIN dbo.patient_version v ON v.patient_id = p.id
    AND NOT EXISTS (SELECT 1 FROM dbo.patient_version w WHERE w.patient_id = p.id AND w.id > v.id);
GO
CREATE VIEW dbo.patient_condition_current AS
SELECT pc.patient_id, pc.condition FROM dbo.patient_condition pc
WHERE NOT EXISTS (SELECT 1 FROM dbo.patient_version v WHERE v.patient_id = pc.patient_id)
UNION ALL
SELECT v.patient_id, vc.condition
FROM dbo.patient_version v JOIN dbo.patient_version_condition vc ON vc.version_id = v.id
WHERE NOT EXISTS (SELECT 1 FROM dbo.patient_version w WHERE w.patient_id = v.patient_id AND w.id > v.id);
GO

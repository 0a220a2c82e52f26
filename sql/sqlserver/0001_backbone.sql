-- 0001 backbone: sites, practitioners, pseudonymous patients, treatment sessions, audit trail.
-- Same logical schema as sql/sqlite/0001_backbone.sql. Clinical rows are append-only:
-- INSTEAD OF triggers refuse UPDATE and DELETE.

CREATE TABLE dbo.site (
    id          BIGINT IDENTITY(1,1) NOT NULL CONSTRAINT pk_site PRIMARY KEY,
    name        NVARCHAR(200)      NOT NULL,
    created_at  DATETIMEOFFSET(3)  NOT NULL,
    created_by  NVARCHAR(200)      NOT NULL
);
CREATE UNIQUE INDEX ux_site_name ON dbo.site (name);

CREATE TABLE dbo.practitioner (
    id            BIGINT IDENTITY(1,1) NOT NULL CONSTRAINT pk_practitioner PRIMARY KEY,
    site_id       BIGINT             NOT NULL CONSTRAINT fk_practitioner_site REFERENCES dbo.site (id),
    display_name  NVARCHAR(200)      NOT NULL,
    created_at    DATETIMEOFFSET(3)  NOT NULL,
    created_by    NVARCHAR(200)      NOT NULL
);
CREATE INDEX ix_practitioner_site ON dbo.practitioner (site_id, id);

CREATE TABLE dbo.patient (
    id            BIGINT IDENTITY(1,1) NOT NULL CONSTRAINT pk_patient PRIMARY KEY,
    site_id       BIGINT             NOT NULL CONSTRAINT fk_patient_site REFERENCES dbo.site (id),
    external_ref  NVARCHAR(64)       NOT NULL,
    birth_year    INT                NOT NULL CONSTRAINT ck_patient_birth_year CHECK (birth_year BETWEEN 1900 AND 2200),
    sex           VARCHAR(16)        NOT NULL,
    enrolled_on   DATE               NOT NULL,
    created_at    DATETIMEOFFSET(3)  NOT NULL,
    created_by    NVARCHAR(200)      NOT NULL
);
CREATE UNIQUE INDEX ux_patient_site_ref ON dbo.patient (site_id, external_ref);

CREATE TABLE dbo.patient_condition (
    patient_id  BIGINT       NOT NULL CONSTRAINT fk_patient_condition_patient REFERENCES dbo.patient (id),
    condition   VARCHAR(64)  NOT NULL,
    CONSTRAINT pk_patient_condition PRIMARY KEY (patient_id, condition)
);
CREATE INDEX ix_patient_condition_condition ON dbo.patient_condition (condition, patient_id);

CREATE TABLE dbo.treatment_session (
    id                     BIGINT IDENTITY(1,1) NOT NULL CONSTRAINT pk_treatment_session PRIMARY KEY,
    patient_id             BIGINT             NOT NULL CONSTRAINT fk_treatment_session_patient REFERENCES dbo.patient (id),
    practitioner_id        BIGINT             NOT NULL CONSTRAINT fk_treatment_session_practitioner REFERENCES dbo.practitioner (id),
    session_date           DATE               NOT NULL,
    product                VARCHAR(32)        NOT NULL,
    guidance               VARCHAR(16)        NOT NULL,
    dilution_units_per_ml  DECIMAL(9,2)       NOT NULL CONSTRAINT ck_treatment_session_dilution CHECK (dilution_units_per_ml > 0),
    total_units            DECIMAL(9,2)       NOT NULL CONSTRAINT ck_treatment_session_total CHECK (total_units > 0),
    created_at             DATETIMEOFFSET(3)  NOT NULL,
    created_by             NVARCHAR(200)      NOT NULL
);
CREATE INDEX ix_treatment_session_patient_date ON dbo.treatment_session (patient_id, session_date, id);

CREATE TABLE dbo.injection_site (
    id          BIGINT IDENTITY(1,1) NOT NULL CONSTRAINT pk_injection_site PRIMARY KEY,
    session_id  BIGINT        NOT NULL CONSTRAINT fk_injection_site_session REFERENCES dbo.treatment_session (id),
    muscle      VARCHAR(64)   NOT NULL,
    side        VARCHAR(8)    NOT NULL,
    units       DECIMAL(9,2)  NOT NULL CONSTRAINT ck_injection_site_units CHECK (units > 0)
);
CREATE INDEX ix_injection_site_session ON dbo.injection_site (session_id, id);

CREATE TABLE dbo.audit_event (
    id             BIGINT IDENTITY(1,1) NOT NULL CONSTRAINT pk_audit_event PRIMARY KEY,
    occurred_at    DATETIMEOFFSET(3)  NOT NULL,
    actor          NVARCHAR(200)      NOT NULL,
    role           VARCHAR(32)        NOT NULL,
    action         VARCHAR(64)        NOT NULL,
    resource_type  VARCHAR(64)        NOT NULL,
    resource_id    VARCHAR(64)        NULL,
    patient_id     BIGINT             NULL,
    outcome        VARCHAR(32)        NOT NULL,
    request_id     VARCHAR(128)       NULL
);
CREATE INDEX ix_audit_event_patient ON dbo.audit_event (patient_id, id);
CREATE INDEX ix_audit_event_occurred ON dbo.audit_event (occurred_at, id);
GO

CREATE TRIGGER dbo.tr_patient_append_only ON dbo.patient INSTEAD OF UPDATE, DELETE
AS BEGIN SET NOCOUNT ON; THROW 50001, 'patient rows are append-only', 1; END;
GO
CREATE TRIGGER dbo.tr_patient_condition_append_only ON dbo.patient_condition INSTEAD OF UPDATE, DELETE
AS BEGIN SET NOCOUNT ON; THROW 50001, 'patient_condition rows are append-only', 1; END;
GO
CREATE TRIGGER dbo.tr_treatment_session_append_only ON dbo.treatment_session INSTEAD OF UPDATE, DELETE
AS BEGIN SET NOCOUNT ON; THROW 50001, 'treatment_session rows are append-only', 1; END;
GO
CREATE TRIGGER dbo.tr_injection_site_append_only ON dbo.injection_site INSTEAD OF UPDATE, DELETE
AS BEGIN SET NOCOUNT ON; THROW 50001, 'injection_site rows are append-only', 1; END;
GO
CREATE TRIGGER dbo.tr_audit_event_append_only ON dbo.audit_event INSTEAD OF UPDATE, DELETE
AS BEGIN SET NOCOUNT ON; THROW 50001, 'audit_event rows are append-only', 1; END;
GO

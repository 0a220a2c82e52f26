-- 0002 instruments and submitted observations. Same logical schema as sql/sqlite/0002_observations.sql.

CREATE TABLE dbo.instrument (
    id          BIGINT IDENTITY(1,1) NOT NULL CONSTRAINT pk_instrument PRIMARY KEY,
    code        VARCHAR(64)        NOT NULL,
    version     VARCHAR(16)        NOT NULL,
    name        NVARCHAR(200)      NOT NULL,
    definition  NVARCHAR(MAX)      NOT NULL,
    created_at  DATETIMEOFFSET(3)  NOT NULL,
    created_by  NVARCHAR(200)      NOT NULL
);
CREATE UNIQUE INDEX ux_instrument_code_version ON dbo.instrument (code, version);

CREATE TABLE dbo.observation (
    id                  BIGINT IDENTITY(1,1) NOT NULL CONSTRAINT pk_observation PRIMARY KEY,
    patient_id          BIGINT             NOT NULL CONSTRAINT fk_observation_patient REFERENCES dbo.patient (id),
    kind                VARCHAR(32)        NOT NULL,
    code                VARCHAR(64)        NOT NULL,
    instrument_version  VARCHAR(16)        NULL,
    value               DECIMAL(9,2)       NULL,
    qualifier           VARCHAR(32)        NULL,
    body_side           VARCHAR(8)         NULL,
    onset_on            DATE               NULL,
    serious             BIT                NOT NULL CONSTRAINT df_observation_serious DEFAULT 0,
    detail              NVARCHAR(MAX)      NULL,
    answered_at         DATETIMEOFFSET(3)  NOT NULL,
    answered_offset_min SMALLINT           NOT NULL,
    received_at         DATETIMEOFFSET(3)  NOT NULL,
    submission_id       VARCHAR(64)        NOT NULL,
    payload_hash        CHAR(64)           NOT NULL,
    recorded_by         NVARCHAR(200)      NOT NULL,
    recorded_role       VARCHAR(32)        NOT NULL,
    supersedes_id       BIGINT             NULL CONSTRAINT fk_observation_supersedes REFERENCES dbo.observation (id),
    root_id             BIGINT             NULL CONSTRAINT fk_observation_root REFERENCES dbo.observation (id),
    entered_in_error    BIT                NOT NULL CONSTRAINT df_observation_entered_in_error DEFAULT 0,
    change_reason       NVARCHAR(500)      NULL
);
CREATE UNIQUE INDEX ux_observation_submission ON dbo.observation (patient_id, submission_id);
CREATE UNIQUE INDEX ux_observation_supersedes ON dbo.observation (supersedes_id) WHERE supersedes_id IS NOT NULL;
CREATE INDEX ix_observation_patient_kind ON dbo.observation (patient_id, kind, code, answered_at);
CREATE INDEX ix_observation_root ON dbo.observation (root_id) WHERE root_id IS NOT NULL;
GO

CREATE TRIGGER dbo.tr_observation_append_only ON dbo.observation INSTEAD OF UPDATE, DELETE
AS BEGIN SET NOCOUNT ON; THROW 50001, 'observation rows are append-only', 1; END;
GO
CREATE TRIGGER dbo.tr_instrument_append_only ON dbo.instrument INSTEAD OF UPDATE, DELETE
AS BEGIN SET NOCOUNT ON; THROW 50001, 'instrument rows are append-only', 1; END;
GO

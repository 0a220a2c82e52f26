-- 0016 patient devices and their tokens (see sql/sqlite/0016_device_pairing.sql).
CREATE TABLE dbo.pairing_code (
    id           BIGINT IDENTITY(1,1) NOT NULL CONSTRAINT pk_pairing_code PRIMARY KEY,
    patient_id   BIGINT             NOT NULL CONSTRAINT fk_pairing_code_patient REFERENCES dbo.patient (id),
    code_hash    NVARCHAR(64)       NOT NULL,
    created_at   DATETIMEOFFSET(3)  NOT NULL,
    created_by   NVARCHAR(200)      NOT NULL,
    expires_at   DATETIMEOFFSET(3)  NOT NULL,
    used_at      DATETIMEOFFSET(3)  NULL,
    device_id    BIGINT             NULL
);
CREATE UNIQUE INDEX ux_pairing_code_hash ON dbo.pairing_code (code_hash);
CREATE INDEX ix_pairing_code_patient ON dbo.pairing_code (patient_id, id);
CREATE TABLE dbo.patient_device (
    id             BIGINT IDENTITY(1,1) NOT NULL CONSTRAINT pk_patient_device PRIMARY KEY,
    patient_id     BIGINT             NOT NULL CONSTRAINT fk_patient_device_patient REFERENCES dbo.patient (id),
    name           NVARCHAR(100)      NOT NULL,
    paired_at      DATETIMEOFFSET(3)  NOT NULL,
    revoked_at     DATETIMEOFFSET(3)  NULL,
    revoked_by     NVARCHAR(200)      NULL,
    revoked_reason NVARCHAR(200)      NULL
);
CREATE INDEX ix_patient_device_patient ON dbo.patient_device (patient_id, id);
CREATE TABLE dbo.device_refresh_token (
    id           BIGINT IDENTITY(1,1) NOT NULL CONSTRAINT pk_device_refresh_token PRIMARY KEY,
    device_id    BIGINT             NOT NULL CONSTRAINT fk_device_refresh_token_device REFERENCES dbo.patient_device (id),
    token_hash   NVARCHAR(64)       NOT NULL,
    created_at   DATETIMEOFFSET(3)  NOT NULL,
    expires_at   DATETIMEOFFSET(3)  NOT NULL,
    used_at      DATETIMEOFFSET(3)  NULL
);
CREATE UNIQUE INDEX ux_device_refresh_token_hash ON dbo.device_refresh_token (token_hash);
CREATE INDEX ix_device_refresh_token_device ON dbo.device_refresh_token (device_id, id);

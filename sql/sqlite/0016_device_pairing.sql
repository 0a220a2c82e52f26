-- 0016 patient devices, paired with a one-time code; the refresh tokens Outcomes issues to them.
-- Codes and tokens are stored as SHA-256 hashes, never as given. A code is used once (used_at set in the
-- same transaction that pairs the device); a refresh token is used once (rotation: used_at set when it is
-- exchanged for the next). None of these rows is clinical data.
CREATE TABLE pairing_code (
    id           INTEGER PRIMARY KEY,
    patient_id   INTEGER NOT NULL REFERENCES patient (id),
    code_hash    TEXT    NOT NULL,
    created_at   TEXT    NOT NULL,
    created_by   TEXT    NOT NULL,
    expires_at   TEXT    NOT NULL,
    used_at      TEXT    NULL,
    device_id    INTEGER NULL
);
CREATE UNIQUE INDEX ux_pairing_code_hash ON pairing_code (code_hash);
CREATE INDEX ix_pairing_code_patient ON pairing_code (patient_id, id);

CREATE TABLE patient_device (
    id            INTEGER PRIMARY KEY,
    patient_id    INTEGER NOT NULL REFERENCES patient (id),
    name          TEXT    NOT NULL,
    paired_at     TEXT    NOT NULL,
    revoked_at    TEXT    NULL,
    revoked_by    TEXT    NULL,
    revoked_reason TEXT   NULL
);
CREATE INDEX ix_patient_device_patient ON patient_device (patient_id, id);

CREATE TABLE device_refresh_token (
    id           INTEGER PRIMARY KEY,
    device_id    INTEGER NOT NULL REFERENCES patient_device (id),
    token_hash   TEXT    NOT NULL,
    created_at   TEXT    NOT NULL,
    expires_at   TEXT    NOT NULL,
    used_at      TEXT    NULL
);
CREATE UNIQUE INDEX ux_device_refresh_token_hash ON device_refresh_token (token_hash);
CREATE INDEX ix_device_refresh_token_device ON device_refresh_token (device_id, id);

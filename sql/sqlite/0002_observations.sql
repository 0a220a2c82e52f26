-- 0002 instruments and submitted observations (pain scores, questionnaire responses, range of
-- motion, pressure pain thresholds, side effects).
-- Observations are append-only versions: an amendment or an entered-in-error mark is a new row
-- that supersedes the old one (at most one successor each); the current version of a record is
-- the one nobody supersedes, unless it is itself the entered-in-error mark.
-- answered_at is stored in UTC so that text order is time order; answered_offset_min keeps the
-- client's offset so the instant can be shown as the patient gave it.

CREATE TABLE instrument (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL,
    version     TEXT NOT NULL,
    name        TEXT NOT NULL,
    definition  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL
);
CREATE UNIQUE INDEX ux_instrument_code_version ON instrument (code, version);

CREATE TABLE observation (
    id                  INTEGER PRIMARY KEY,
    patient_id          INTEGER NOT NULL REFERENCES patient (id),
    kind                TEXT    NOT NULL,
    code                TEXT    NOT NULL,
    instrument_version  TEXT    NULL,
    value               NUMERIC NULL,
    qualifier           TEXT    NULL,
    body_side           TEXT    NULL,
    onset_on            TEXT    NULL,
    serious             INTEGER NOT NULL DEFAULT 0,
    detail              TEXT    NULL,
    answered_at         TEXT    NOT NULL,
    answered_offset_min INTEGER NOT NULL,
    received_at         TEXT    NOT NULL,
    submission_id       TEXT    NOT NULL,
    payload_hash        TEXT    NOT NULL,
    recorded_by         TEXT    NOT NULL,
    recorded_role       TEXT    NOT NULL,
    supersedes_id       INTEGER NULL REFERENCES observation (id),
    root_id             INTEGER NULL REFERENCES observation (id),
    entered_in_error    INTEGER NOT NULL DEFAULT 0,
    change_reason       TEXT    NULL
);
-- A retried submission finds the first one here instead of being stored twice.
CREATE UNIQUE INDEX ux_observation_submission ON observation (patient_id, submission_id);
-- A version is superseded at most once: two concurrent amendments cannot both win.
CREATE UNIQUE INDEX ux_observation_supersedes ON observation (supersedes_id) WHERE supersedes_id IS NOT NULL;
CREATE INDEX ix_observation_patient_kind ON observation (patient_id, kind, code, answered_at);
CREATE INDEX ix_observation_root ON observation (root_id) WHERE root_id IS NOT NULL;

CREATE TRIGGER tr_observation_append_only_u BEFORE UPDATE ON observation
BEGIN SELECT RAISE(ABORT, 'observation rows are append-only'); END;
CREATE TRIGGER tr_observation_append_only_d BEFORE DELETE ON observation
BEGIN SELECT RAISE(ABORT, 'observation rows are append-only'); END;
CREATE TRIGGER tr_instrument_append_only_u BEFORE UPDATE ON instrument
BEGIN SELECT RAISE(ABORT, 'instrument rows are append-only'); END;
CREATE TRIGGER tr_instrument_append_only_d BEFORE DELETE ON instrument
BEGIN SELECT RAISE(ABORT, 'instrument rows are append-only'); END;

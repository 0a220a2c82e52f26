-- 0001 backbone: sites, practitioners, pseudonymous patients, treatment sessions, audit trail.
-- Clinical rows are append-only: triggers refuse UPDATE and DELETE.
-- Dates are ISO-8601 text (yyyy-MM-dd); instants are ISO-8601 text with offset.

CREATE TABLE site (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    created_by  TEXT    NOT NULL
);
CREATE UNIQUE INDEX ux_site_name ON site (name);

CREATE TABLE practitioner (
    id            INTEGER PRIMARY KEY,
    site_id       INTEGER NOT NULL REFERENCES site (id),
    display_name  TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    created_by    TEXT    NOT NULL
);
CREATE INDEX ix_practitioner_site ON practitioner (site_id, id);

CREATE TABLE patient (
    id            INTEGER PRIMARY KEY,
    site_id       INTEGER NOT NULL REFERENCES site (id),
    external_ref  TEXT    NOT NULL,
    birth_year    INTEGER NOT NULL CHECK (birth_year BETWEEN 1900 AND 2200),
    sex           TEXT    NOT NULL,
    enrolled_on   TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    created_by    TEXT    NOT NULL
);
CREATE UNIQUE INDEX ux_patient_site_ref ON patient (site_id, external_ref);

CREATE TABLE patient_condition (
    patient_id  INTEGER NOT NULL REFERENCES patient (id),
    condition   TEXT    NOT NULL,
    PRIMARY KEY (patient_id, condition)
);
CREATE INDEX ix_patient_condition_condition ON patient_condition (condition, patient_id);

CREATE TABLE treatment_session (
    id                     INTEGER PRIMARY KEY,
    patient_id             INTEGER NOT NULL REFERENCES patient (id),
    practitioner_id        INTEGER NOT NULL REFERENCES practitioner (id),
    session_date           TEXT    NOT NULL,
    product                TEXT    NOT NULL,
    guidance               TEXT    NOT NULL,
    dilution_units_per_ml  NUMERIC NOT NULL CHECK (dilution_units_per_ml > 0),
    total_units            NUMERIC NOT NULL CHECK (total_units > 0),
    created_at             TEXT    NOT NULL,
    created_by             TEXT    NOT NULL
);
CREATE INDEX ix_treatment_session_patient_date ON treatment_session (patient_id, session_date, id);

CREATE TABLE injection_site (
    id          INTEGER PRIMARY KEY,
    session_id  INTEGER NOT NULL REFERENCES treatment_session (id),
    muscle      TEXT    NOT NULL,
    side        TEXT    NOT NULL,
    units       NUMERIC NOT NULL CHECK (units > 0)
);
CREATE INDEX ix_injection_site_session ON injection_site (session_id, id);

CREATE TABLE audit_event (
    id             INTEGER PRIMARY KEY,
    occurred_at    TEXT    NOT NULL,
    actor          TEXT    NOT NULL,
    role           TEXT    NOT NULL,
    action         TEXT    NOT NULL,
    resource_type  TEXT    NOT NULL,
    resource_id    TEXT    NULL,
    patient_id     INTEGER NULL,
    outcome        TEXT    NOT NULL,
    request_id     TEXT    NULL
);
CREATE INDEX ix_audit_event_patient ON audit_event (patient_id, id);
CREATE INDEX ix_audit_event_occurred ON audit_event (occurred_at, id);

CREATE TRIGGER tr_patient_append_only_u BEFORE UPDATE ON patient
BEGIN SELECT RAISE(ABORT, 'patient rows are append-only'); END;
CREATE TRIGGER tr_patient_append_only_d BEFORE DELETE ON patient
BEGIN SELECT RAISE(ABORT, 'patient rows are append-only'); END;
CREATE TRIGGER tr_patient_condition_append_only_u BEFORE UPDATE ON patient_condition
BEGIN SELECT RAISE(ABORT, 'patient_condition rows are append-only'); END;
CREATE TRIGGER tr_patient_condition_append_only_d BEFORE DELETE ON patient_condition
BEGIN SELECT RAISE(ABORT, 'patient_condition rows are append-only'); END;
CREATE TRIGGER tr_treatment_session_append_only_u BEFORE UPDATE ON treatment_session
BEGIN SELECT RAISE(ABORT, 'treatment_session rows are append-only'); END;
CREATE TRIGGER tr_treatment_session_append_only_d BEFORE DELETE ON treatment_session
BEGIN SELECT RAISE(ABORT, 'treatment_session rows are append-only'); END;
CREATE TRIGGER tr_injection_site_append_only_u BEFORE UPDATE ON injection_site
BEGIN SELECT RAISE(ABORT, 'injection_site rows are append-only'); END;
CREATE TRIGGER tr_injection_site_append_only_d BEFORE DELETE ON injection_site
BEGIN SELECT RAISE(ABORT, 'injection_site rows are append-only'); END;
CREATE TRIGGER tr_audit_event_append_only_u BEFORE UPDATE ON audit_event
BEGIN SELECT RAISE(ABORT, 'audit_event rows are append-only'); END;
CREATE TRIGGER tr_audit_event_append_only_d BEFORE DELETE ON audit_event
BEGIN SELECT RAISE(ABORT, 'audit_event rows are append-only'); END;

-- 0012 a patient's birth year, sex, enrolment date, conditions and external reference are corrected
-- by new versions, never in place: each correction is a row of patient_version (with its conditions in
-- patient_version_condition), based on the version it corrects (0: the original record), with a
-- reason and who made it. A version is corrected once (the unique index on based_on), so concurrent
-- corrections cannot both win. Readers take the current values from the two views below.
CREATE TABLE patient_version (
    id             INTEGER PRIMARY KEY,
    patient_id     INTEGER NOT NULL REFERENCES patient (id),
    based_on       INTEGER NOT NULL,
    external_ref   TEXT    NOT NULL,
    birth_year     INTEGER NOT NULL CHECK (birth_year BETWEEN 1900 AND 2200),
    sex            TEXT    NOT NULL,
    enrolled_on    TEXT    NOT NULL,
    change_reason  TEXT    NOT NULL,
    created_at     TEXT    NOT NULL,
    created_by     TEXT    NOT NULL,
    created_role   TEXT    NOT NULL,
    submission_id  TEXT    NOT NULL,
    payload_hash   TEXT    NOT NULL
);
CREATE UNIQUE INDEX ux_patient_version_based_on ON patient_version (patient_id, based_on);
CREATE UNIQUE INDEX ux_patient_version_submission ON patient_version (patient_id, submission_id);
CREATE INDEX ix_patient_version_patient ON patient_version (patient_id, id);

CREATE TABLE patient_version_condition (
    version_id  INTEGER NOT NULL REFERENCES patient_version (id),
    condition   TEXT    NOT NULL,
    PRIMARY KEY (version_id, condition)
);

CREATE TRIGGER tr_patient_version_append_only_u BEFORE UPDATE ON patient_version
BEGIN SELECT RAISE(ABORT, 'patient_version rows are append-only'); END;
CREATE TRIGGER tr_patient_version_append_only_d BEFORE DELETE ON patient_version
BEGIN SELECT RAISE(ABORT, 'patient_version rows are append-only'); END;
CREATE TRIGGER tr_patient_version_condition_append_only_u BEFORE UPDATE ON patient_version_condition
BEGIN SELECT RAISE(ABORT, 'patient_version_condition rows are append-only'); END;
CREATE TRIGGER tr_patient_version_condition_append_only_d BEFORE DELETE ON patient_version_condition
BEGIN SELECT RAISE(ABORT, 'patient_version_condition rows are append-only'); END;

-- The patient as currently recorded: the latest version's values, else the original record's.
CREATE VIEW patient_current AS
SELECT p.id, p.site_id,
       COALESCE(v.external_ref, p.external_ref) AS external_ref,
       COALESCE(v.birth_year, p.birth_year) AS birth_year,
       COALESCE(v.sex, p.sex) AS sex,
       COALESCE(v.enrolled_on, p.enrolled_on) AS enrolled_on,
       p.created_at,
       COALESCE(v.id, 0) AS version
FROM patient p
LEFT JOIN patient_version v ON v.patient_id = p.id
    AND NOT EXISTS (SELECT 1 FROM patient_version w WHERE w.patient_id = p.id AND w.id > v.id);

CREATE VIEW patient_condition_current AS
SELECT pc.patient_id, pc.condition FROM patient_condition pc
WHERE NOT EXISTS (SELECT 1 FROM patient_version v WHERE v.patient_id = pc.patient_id)
UNION ALL
SELECT v.patient_id, vc.condition
FROM patient_version v JOIN patient_version_condition vc ON vc.version_id = v.id
WHERE NOT EXISTS (SELECT 1 FROM patient_version w WHERE w.patient_id = v.patient_id AND w.id > v.id);

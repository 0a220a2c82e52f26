-- 0019 a change counter per patient, for the practitioner's patient list.
-- patient_change.generation grows with every row added that changes what the patient list shows of the
-- patient: an observation, a treatment session, a new version of the patient's details (with its
-- conditions, in the same transaction), a withdrawal review, an alert and an alert's acknowledgement.
-- Clinical data is append-only, so these inserts are every change there is. The service keeps each
-- patient's computed line in memory under the generation and day it was computed for, and computes it
-- again when either differs; the triggers bump the counter in the writer's transaction, so no write
-- path can forget it. A patient without a row has generation 0.
CREATE TABLE patient_change (
    patient_id  INTEGER PRIMARY KEY REFERENCES patient (id),
    generation  INTEGER NOT NULL
);

CREATE TRIGGER tr_observation_patient_change AFTER INSERT ON observation
BEGIN
    INSERT INTO patient_change (patient_id, generation) SELECT NEW.patient_id, 1 WHERE true
    ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
END;

CREATE TRIGGER tr_treatment_session_patient_change AFTER INSERT ON treatment_session
BEGIN
    INSERT INTO patient_change (patient_id, generation) SELECT NEW.patient_id, 1 WHERE true
    ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
END;

CREATE TRIGGER tr_patient_version_patient_change AFTER INSERT ON patient_version
BEGIN
    INSERT INTO patient_change (patient_id, generation) SELECT NEW.patient_id, 1 WHERE true
    ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
END;

CREATE TRIGGER tr_withdrawal_review_patient_change AFTER INSERT ON withdrawal_review
BEGIN
    INSERT INTO patient_change (patient_id, generation) SELECT NEW.patient_id, 1 WHERE true
    ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
END;

CREATE TRIGGER tr_alert_patient_change AFTER INSERT ON alert
BEGIN
    INSERT INTO patient_change (patient_id, generation) SELECT NEW.patient_id, 1 WHERE true
    ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
END;

CREATE TRIGGER tr_alert_acknowledgement_patient_change AFTER INSERT ON alert_acknowledgement
BEGIN
    INSERT INTO patient_change (patient_id, generation) SELECT (SELECT a.patient_id FROM alert a WHERE a.id = NEW.alert_id), 1 WHERE true
    ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
END;

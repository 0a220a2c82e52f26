-- 0004 a covering index for reading one measure across many patients (cohort queries): the rows
-- come in (patient, time) order straight from the index, without touching the wide table rows.
CREATE INDEX ix_observation_measure ON observation (kind, code, patient_id, answered_at, qualifier, body_side, value, entered_in_error);

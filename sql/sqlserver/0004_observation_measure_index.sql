-- 0004 a covering index for reading one measure across many patients (cohort queries).
CREATE INDEX ix_observation_measure ON dbo.observation (kind, code, patient_id, answered_at)
    INCLUDE (qualifier, body_side, value, entered_in_error);

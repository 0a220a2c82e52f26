-- 0008 treatment sessions join the cohort series: each patient's sessions are kept as one more
-- measure_series row (kind session, key session), rebuilt like the others. A new session marks its
-- patient stale in the same transaction; every patient with sessions starts stale.
CREATE TRIGGER tr_treatment_session_series_stale AFTER INSERT ON treatment_session
BEGIN
    INSERT INTO series_stale (patient_id, generation) VALUES (NEW.patient_id, 1)
    ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
END;

INSERT INTO series_stale (patient_id, generation)
SELECT DISTINCT patient_id, 1 FROM treatment_session WHERE true
ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;

-- 0007 side effects join the cohort series: each patient's current side-effect reports are kept as
-- one more measure_series row (kind sideEffect, key sideEffect; the value 1 marks a serious one).
-- Patients with side effects are marked stale, so the next rebuild adds theirs.
INSERT INTO series_stale (patient_id, generation)
SELECT DISTINCT patient_id, 1 FROM observation WHERE kind = 'sideEffect'
ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;

-- 0007 side effects join the cohort series (see sql/sqlite/0007_side_effect_series.sql).
UPDATE s SET generation = s.generation + 1
FROM dbo.series_stale s
WHERE s.patient_id IN (SELECT o.patient_id FROM dbo.observation o WHERE o.kind = 'sideEffect');
GO
INSERT INTO dbo.series_stale (patient_id, generation)
SELECT DISTINCT o.patient_id, 1 FROM dbo.observation o
WHERE o.kind = 'sideEffect' AND NOT EXISTS (SELECT 1 FROM dbo.series_stale s WHERE s.patient_id = o.patient_id);
GO

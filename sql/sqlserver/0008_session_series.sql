-- 0008 treatment sessions join the cohort series (see sql/sqlite/0008_session_series.sql).
CREATE TRIGGER dbo.tr_treatment_session_series_stale ON dbo.treatment_session AFTER INSERT AS
BEGIN
    SET NOCOUNT ON;
    UPDATE s SET generation = s.generation + 1
    FROM dbo.series_stale s
    WHERE s.patient_id IN (SELECT i.patient_id FROM inserted i);
    INSERT INTO dbo.series_stale (patient_id, generation)
    SELECT DISTINCT i.patient_id, 1 FROM inserted i
    WHERE NOT EXISTS (SELECT 1 FROM dbo.series_stale s WITH (UPDLOCK, HOLDLOCK) WHERE s.patient_id = i.patient_id);
END;
GO
UPDATE s SET generation = s.generation + 1
FROM dbo.series_stale s
WHERE s.patient_id IN (SELECT t.patient_id FROM dbo.treatment_session t);
GO
INSERT INTO dbo.series_stale (patient_id, generation)
SELECT DISTINCT t.patient_id, 1 FROM dbo.treatment_session t
WHERE NOT EXISTS (SELECT 1 FROM dbo.series_stale s WHERE s.patient_id = t.patient_id);
GO

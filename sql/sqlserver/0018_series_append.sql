-- 0018 a new value is appended to its patient's series in the writer's transaction (see
-- sql/sqlite/0018_series_append.sql for the rules). Here the append is made for a single-row insert
-- only (every write path of the service inserts one row per statement); a multi-row insert marks its
-- patients stale, as before. The appended text matches the service's rebuild: the UTC day as
-- yyyy-mm-dd (style 23) and the DECIMAL(9,2) value as SQL Server and SqlClient both write it
-- (two decimals), or 1 and 0 for a side effect.
ALTER TABLE dbo.measure_series ADD last_observation_id BIGINT NULL;
GO
DROP TRIGGER dbo.tr_observation_series_stale;
GO
CREATE TRIGGER dbo.tr_observation_series ON dbo.observation AFTER INSERT AS
BEGIN
    SET NOCOUNT ON;
    IF (SELECT COUNT(*) FROM inserted) = 1
        UPDATE ms
        SET points = ms.points + '|' + CONVERT(CHAR(10), CAST(SWITCHOFFSET(i.answered_at, '+00:00') AS DATE), 23) + ';'
                     + CASE WHEN i.kind = N'sideEffect' THEN CASE WHEN i.serious = 1 THEN '1' ELSE '0' END
                            ELSE CONVERT(VARCHAR(20), i.value) END,
            point_count = ms.point_count + 1,
            last_observation_id = i.id
        FROM dbo.measure_series ms WITH (UPDLOCK)
        JOIN inserted i ON ms.patient_id = i.patient_id AND ms.kind = i.kind
            AND ms.measure_key = CASE i.kind
                                     WHEN N'painScore' THEN CASE WHEN i.qualifier = N'average7Days' THEN N'pain_nrs'
                                                                 ELSE N'pain_nrs:' + COALESCE(i.qualifier, N'') END
                                     WHEN N'pressurePainThreshold' THEN N'ppt:' + i.code + N':' + COALESCE(i.body_side, N'')
                                     WHEN N'sideEffect' THEN N'sideEffect'
                                     ELSE i.code END
        JOIN dbo.observation l ON l.id = ms.last_observation_id
        WHERE i.supersedes_id IS NULL AND i.entered_in_error = 0
          AND (i.kind = N'sideEffect' OR i.value IS NOT NULL)
          AND (l.answered_at < i.answered_at OR (l.answered_at = i.answered_at AND l.id < i.id))
          AND NOT EXISTS (SELECT 1 FROM dbo.series_stale s WITH (UPDLOCK, HOLDLOCK) WHERE s.patient_id = i.patient_id);

    UPDATE s SET generation = s.generation + 1
    FROM dbo.series_stale s
    WHERE s.patient_id IN (SELECT i.patient_id FROM inserted i
                           WHERE NOT EXISTS (SELECT 1 FROM dbo.measure_series m WHERE m.patient_id = i.patient_id AND m.last_observation_id = i.id));
    INSERT INTO dbo.series_stale (patient_id, generation)
    SELECT DISTINCT i.patient_id, 1 FROM inserted i
    WHERE NOT EXISTS (SELECT 1 FROM dbo.measure_series m WHERE m.patient_id = i.patient_id AND m.last_observation_id = i.id)
      AND NOT EXISTS (SELECT 1 FROM dbo.series_stale s WITH (UPDLOCK, HOLDLOCK) WHERE s.patient_id = i.patient_id);
END;
GO

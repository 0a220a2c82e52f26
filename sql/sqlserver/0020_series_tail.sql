-- 0020 appended points go to a small tail row per series (see sql/sqlite/0020_series_tail.sql). As in
-- 0018, the append is made for a single-row insert only; a multi-row insert marks its patients.
CREATE TABLE dbo.measure_series_tail (
    patient_id           BIGINT        NOT NULL CONSTRAINT fk_measure_series_tail_patient REFERENCES dbo.patient (id),
    kind                 NVARCHAR(32)  NOT NULL,
    measure_key          NVARCHAR(140) NOT NULL,
    point_count          INT           NOT NULL,
    points               VARCHAR(MAX)  NOT NULL,
    last_observation_id  BIGINT        NOT NULL,
    CONSTRAINT pk_measure_series_tail PRIMARY KEY (patient_id, kind, measure_key)
);
GO
DROP TRIGGER dbo.tr_observation_series;
GO
CREATE TRIGGER dbo.tr_observation_series ON dbo.observation AFTER INSERT AS
BEGIN
    SET NOCOUNT ON;
    DECLARE @appendable TABLE (
        patient_id BIGINT NOT NULL, kind NVARCHAR(32) NOT NULL, measure_key NVARCHAR(140) NOT NULL,
        point VARCHAR(40) NOT NULL, observation_id BIGINT NOT NULL);
    IF (SELECT COUNT(*) FROM inserted) = 1
        INSERT INTO @appendable (patient_id, kind, measure_key, point, observation_id)
        SELECT m.patient_id, m.kind, m.measure_key,
               CONVERT(CHAR(10), CAST(SWITCHOFFSET(i.answered_at, '+00:00') AS DATE), 23) + ';'
               + CASE WHEN i.kind = N'sideEffect' THEN CASE WHEN i.serious = 1 THEN '1' ELSE '0' END
                      ELSE CONVERT(VARCHAR(20), i.value) END,
               i.id
        FROM inserted i
        JOIN dbo.measure_series m WITH (UPDLOCK) ON m.patient_id = i.patient_id AND m.kind = i.kind
            AND m.measure_key = CASE i.kind
                                    WHEN N'painScore' THEN CASE WHEN i.qualifier = N'average7Days' THEN N'pain_nrs'
                                                                ELSE N'pain_nrs:' + COALESCE(i.qualifier, N'') END
                                    WHEN N'pressurePainThreshold' THEN N'ppt:' + i.code + N':' + COALESCE(i.body_side, N'')
                                    WHEN N'sideEffect' THEN N'sideEffect'
                                    ELSE i.code END
        LEFT JOIN dbo.measure_series_tail t WITH (UPDLOCK, HOLDLOCK)
            ON t.patient_id = m.patient_id AND t.kind = m.kind AND t.measure_key = m.measure_key
        JOIN dbo.observation l ON l.id = COALESCE(t.last_observation_id, m.last_observation_id)
        WHERE i.supersedes_id IS NULL AND i.entered_in_error = 0
          AND (i.kind = N'sideEffect' OR i.value IS NOT NULL)
          AND (l.answered_at < i.answered_at OR (l.answered_at = i.answered_at AND l.id < i.id))
          AND NOT EXISTS (SELECT 1 FROM dbo.series_stale s WITH (UPDLOCK, HOLDLOCK) WHERE s.patient_id = i.patient_id);

    UPDATE t SET points = t.points + '|' + a.point, point_count = t.point_count + 1, last_observation_id = a.observation_id
    FROM dbo.measure_series_tail t
    JOIN @appendable a ON a.patient_id = t.patient_id AND a.kind = t.kind AND a.measure_key = t.measure_key;
    INSERT INTO dbo.measure_series_tail (patient_id, kind, measure_key, point_count, points, last_observation_id)
    SELECT a.patient_id, a.kind, a.measure_key, 1, a.point, a.observation_id FROM @appendable a
    WHERE NOT EXISTS (SELECT 1 FROM dbo.measure_series_tail t WHERE t.patient_id = a.patient_id AND t.kind = a.kind AND t.measure_key = a.measure_key);

    UPDATE s SET generation = s.generation + 1
    FROM dbo.series_stale s
    WHERE s.patient_id IN (SELECT i.patient_id FROM inserted i WHERE NOT EXISTS (SELECT 1 FROM @appendable a WHERE a.observation_id = i.id));
    INSERT INTO dbo.series_stale (patient_id, generation)
    SELECT DISTINCT i.patient_id, 1 FROM inserted i
    WHERE NOT EXISTS (SELECT 1 FROM @appendable a WHERE a.observation_id = i.id)
      AND NOT EXISTS (SELECT 1 FROM dbo.series_stale s WITH (UPDLOCK, HOLDLOCK) WHERE s.patient_id = i.patient_id);
END;
GO

-- 0006 per-patient measure series for cohort queries (see sql/sqlite/0006_measure_series.sql).
CREATE TABLE dbo.measure_series (
    id          BIGINT IDENTITY(1,1) NOT NULL CONSTRAINT pk_measure_series PRIMARY KEY,
    patient_id  BIGINT        NOT NULL CONSTRAINT fk_measure_series_patient REFERENCES dbo.patient (id),
    kind        VARCHAR(32)   NOT NULL,
    measure_key VARCHAR(140)  NOT NULL,
    point_count INT           NOT NULL,
    points      VARCHAR(MAX)  NOT NULL
);
GO
CREATE UNIQUE INDEX ux_measure_series_measure ON dbo.measure_series (kind, measure_key, patient_id) INCLUDE (points);
GO
CREATE INDEX ix_measure_series_patient ON dbo.measure_series (patient_id);
GO
CREATE TABLE dbo.series_stale (
    patient_id  BIGINT NOT NULL CONSTRAINT pk_series_stale PRIMARY KEY
                CONSTRAINT fk_series_stale_patient REFERENCES dbo.patient (id),
    generation  BIGINT NOT NULL
);
GO
-- Marks the patients of inserted observations in the writer's transaction. The UPDATE takes the
-- row lock that a rebuild's conditional delete waits on; the insert of a new mark holds its key
-- range (UPDLOCK, HOLDLOCK) so two writers for one unmarked patient cannot both insert.
CREATE TRIGGER dbo.tr_observation_series_stale ON dbo.observation AFTER INSERT AS
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
INSERT INTO dbo.series_stale (patient_id, generation) SELECT DISTINCT patient_id, 1 FROM dbo.observation;
GO

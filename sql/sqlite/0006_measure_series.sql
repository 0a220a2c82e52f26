-- 0006 per-patient measure series for cohort queries.
-- measure_series holds, for each patient and measure, the current values (day and value, in the
-- order answered) packed into one text: a cohort query then reads one row per patient instead of
-- every weekly score. It is derived data, rebuilt from observation whenever that patient's
-- observations change; clinical data stays in observation, append-only.
CREATE TABLE measure_series (
    id          INTEGER PRIMARY KEY,
    patient_id  INTEGER NOT NULL REFERENCES patient (id),
    kind        TEXT    NOT NULL,
    measure_key TEXT    NOT NULL,
    point_count INTEGER NOT NULL,
    points      TEXT    NOT NULL
);
CREATE UNIQUE INDEX ux_measure_series_measure ON measure_series (kind, measure_key, patient_id);
CREATE INDEX ix_measure_series_patient ON measure_series (patient_id);

-- Patients whose series must be rebuilt. Every insert into observation marks its patient in the
-- same transaction (the trigger below), and bumps generation if it is marked already; a rebuild
-- clears the mark only if generation is still the one it read, so a write that lands during a
-- rebuild is never missed.
CREATE TABLE series_stale (
    patient_id  INTEGER PRIMARY KEY REFERENCES patient (id),
    generation  INTEGER NOT NULL
);

CREATE TRIGGER tr_observation_series_stale AFTER INSERT ON observation
BEGIN
    INSERT INTO series_stale (patient_id, generation) VALUES (NEW.patient_id, 1)
    ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
END;

-- Every patient with observations starts stale; the first rebuild fills the series.
INSERT INTO series_stale (patient_id, generation) SELECT DISTINCT patient_id, 1 FROM observation;

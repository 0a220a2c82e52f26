-- 0020 appended points go to a small tail row per series instead of the series itself.
-- Appending to measure_series rewrote the whole row (and its overflow pages) on every new value, so a
-- write cost grew with the patient's history. measure_series_tail holds the points appended since the
-- series was last folded; the service folds every tail into its series (SeriesRefresher, before
-- every cohort query and every Cohorts:Series:RefreshSeconds) and a rebuild drops a patient's tails.
-- A reader of one patient reads the series and its tail, in one statement. The rules of 0018 hold:
-- a value is appended when it comes after the last point of series and tail together (answered_at,
-- then id), the series exists and the patient is not marked stale; anything else marks the patient.
CREATE TABLE measure_series_tail (
    patient_id           INTEGER NOT NULL REFERENCES patient (id),
    kind                 TEXT    NOT NULL,
    measure_key          TEXT    NOT NULL,
    point_count          INTEGER NOT NULL,
    points               TEXT    NOT NULL,
    last_observation_id  INTEGER NOT NULL,
    PRIMARY KEY (patient_id, kind, measure_key)
);

DROP TRIGGER tr_observation_series;

CREATE TRIGGER tr_observation_series AFTER INSERT ON observation
BEGIN
    INSERT INTO measure_series_tail (patient_id, kind, measure_key, point_count, points, last_observation_id)
    SELECT m.patient_id, m.kind, m.measure_key, 1,
           substr(NEW.answered_at, 1, 10) || ';'
           || CASE WHEN NEW.kind = 'sideEffect' THEN CASE WHEN NEW.serious <> 0 THEN '1' ELSE '0' END
                   ELSE CAST(NEW.value AS TEXT) END,
           NEW.id
    FROM measure_series m
    WHERE NEW.supersedes_id IS NULL AND NEW.entered_in_error = 0
      AND (NEW.kind = 'sideEffect' OR NEW.value IS NOT NULL)
      AND m.patient_id = NEW.patient_id
      AND m.kind = NEW.kind
      AND m.measure_key = CASE NEW.kind
                              WHEN 'painScore' THEN CASE WHEN NEW.qualifier = 'average7Days' THEN 'pain_nrs'
                                                         ELSE 'pain_nrs:' || COALESCE(NEW.qualifier, '') END
                              WHEN 'pressurePainThreshold' THEN 'ppt:' || NEW.code || ':' || COALESCE(NEW.body_side, '')
                              WHEN 'sideEffect' THEN 'sideEffect'
                              ELSE NEW.code END
      AND NOT EXISTS (SELECT 1 FROM series_stale s WHERE s.patient_id = NEW.patient_id)
      AND EXISTS (SELECT 1 FROM observation l
                  WHERE l.id = COALESCE((SELECT t.last_observation_id FROM measure_series_tail t
                                         WHERE t.patient_id = m.patient_id AND t.kind = m.kind AND t.measure_key = m.measure_key),
                                        m.last_observation_id)
                    AND (l.answered_at < NEW.answered_at OR (l.answered_at = NEW.answered_at AND l.id < NEW.id)))
    ON CONFLICT (patient_id, kind, measure_key) DO UPDATE
        SET points = points || '|' || excluded.points,
            point_count = point_count + 1,
            last_observation_id = excluded.last_observation_id;

    INSERT INTO series_stale (patient_id, generation)
    SELECT NEW.patient_id, 1
    WHERE NOT EXISTS (SELECT 1 FROM measure_series_tail t WHERE t.patient_id = NEW.patient_id AND t.last_observation_id = NEW.id)
    ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
END;

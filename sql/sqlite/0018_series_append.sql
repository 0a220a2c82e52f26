-- 0018 a new value is appended to its patient's series in the writer's transaction, instead of
-- marking the patient for a rebuild from every observation they have.
--
-- measure_series.last_observation_id is the observation behind the series' last point (NULL for the
-- session series, and for rows written before this migration: those rebuild at the next mark). The
-- trigger below appends a new observation to its series when all of these hold: it is a first version
-- (no supersedes_id) and not entered in error; it has a value, or is a side-effect report; its series
-- exists; the patient is not marked stale; and it comes after the series' last point in the series'
-- order (answered_at, then id). Anything else (an amendment, a withdrawal, an out-of-order value, a
-- first value of a measure) marks the patient stale as before, and the refresher rebuilds them.
--
-- The appended text is what the rebuild writes (PointSeries.Encode in the service): the UTC day of
-- answered_at (stored in UTC) and the value as stored, or 1 and 0 for a serious and a non-serious
-- side effect; the key is the service's measure key (MeasureCatalog.KeyOf). A test compares the
-- appended series with rebuilt ones, for every kind of observation.
ALTER TABLE measure_series ADD COLUMN last_observation_id INTEGER NULL;

DROP TRIGGER tr_observation_series_stale;

CREATE TRIGGER tr_observation_series AFTER INSERT ON observation
BEGIN
    UPDATE measure_series
    SET points = points || '|' || substr(NEW.answered_at, 1, 10) || ';'
                 || CASE WHEN NEW.kind = 'sideEffect' THEN CASE WHEN NEW.serious <> 0 THEN '1' ELSE '0' END
                         ELSE CAST(NEW.value AS TEXT) END,
        point_count = point_count + 1,
        last_observation_id = NEW.id
    WHERE NEW.supersedes_id IS NULL AND NEW.entered_in_error = 0
      AND (NEW.kind = 'sideEffect' OR NEW.value IS NOT NULL)
      AND patient_id = NEW.patient_id
      AND kind = NEW.kind
      AND measure_key = CASE NEW.kind
                            WHEN 'painScore' THEN CASE WHEN NEW.qualifier = 'average7Days' THEN 'pain_nrs'
                                                       ELSE 'pain_nrs:' || COALESCE(NEW.qualifier, '') END
                            WHEN 'pressurePainThreshold' THEN 'ppt:' || NEW.code || ':' || COALESCE(NEW.body_side, '')
                            WHEN 'sideEffect' THEN 'sideEffect'
                            ELSE NEW.code END
      AND NOT EXISTS (SELECT 1 FROM series_stale s WHERE s.patient_id = NEW.patient_id)
      AND EXISTS (SELECT 1 FROM observation l
                  WHERE l.id = measure_series.last_observation_id
                    AND (l.answered_at < NEW.answered_at OR (l.answered_at = NEW.answered_at AND l.id < NEW.id)));

    INSERT INTO series_stale (patient_id, generation)
    SELECT NEW.patient_id, 1
    WHERE NOT EXISTS (SELECT 1 FROM measure_series m WHERE m.patient_id = NEW.patient_id AND m.last_observation_id = NEW.id)
    ON CONFLICT (patient_id) DO UPDATE SET generation = generation + 1;
END;

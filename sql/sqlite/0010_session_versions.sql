-- 0010 treatment sessions are corrected as new versions, like observations: an amendment is a new
-- row that supersedes the current one (supersedes_id, unique, so a version is amended once), an
-- entered-in-error mark is a new row with entered_in_error = 1; every version of a record shares
-- root_id (null on the first). Nothing is updated or deleted. A session whose dose is above the
-- product's plausibility ceiling carries the reason the practitioner confirmed it with.
ALTER TABLE treatment_session ADD COLUMN supersedes_id INTEGER NULL REFERENCES treatment_session (id);
ALTER TABLE treatment_session ADD COLUMN root_id INTEGER NULL REFERENCES treatment_session (id);
ALTER TABLE treatment_session ADD COLUMN entered_in_error INTEGER NOT NULL DEFAULT 0;
ALTER TABLE treatment_session ADD COLUMN change_reason TEXT NULL;
ALTER TABLE treatment_session ADD COLUMN high_dose_reason TEXT NULL;
CREATE UNIQUE INDEX ux_treatment_session_supersedes ON treatment_session (supersedes_id) WHERE supersedes_id IS NOT NULL;

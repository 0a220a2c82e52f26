-- 0011 a serious side effect that the patient withdraws (entered-in-error) stays flagged, "withdrawn by
-- the patient, awaiting review", until a practitioner of the site confirms the withdrawal. Each row is
-- that confirmation for one entered-in-error mark (unique: a mark is reviewed once). Append-only.
CREATE TABLE withdrawal_review (
    id              INTEGER PRIMARY KEY,
    observation_id  INTEGER NOT NULL REFERENCES observation (id),
    patient_id      INTEGER NOT NULL REFERENCES patient (id),
    reviewed_at     TEXT    NOT NULL,
    reviewed_by     TEXT    NOT NULL,
    reviewed_role   TEXT    NOT NULL,
    note            TEXT    NULL
);
CREATE UNIQUE INDEX ux_withdrawal_review_observation ON withdrawal_review (observation_id);
CREATE TRIGGER tr_withdrawal_review_no_update BEFORE UPDATE ON withdrawal_review
BEGIN SELECT RAISE(ABORT, 'withdrawal_review rows are append-only'); END;
CREATE TRIGGER tr_withdrawal_review_no_delete BEFORE DELETE ON withdrawal_review
BEGIN SELECT RAISE(ABORT, 'withdrawal_review rows are append-only'); END;

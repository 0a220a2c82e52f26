-- 0017 the clinic's licensed wording of an instrument version, added by an admin. Append-only: the latest row of an
-- instrument version is its wording; earlier ones stay, as the record of what patients were shown when.
CREATE TABLE instrument_wording (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL,
    version     TEXT NOT NULL,
    wording     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL
);
CREATE INDEX ix_instrument_wording ON instrument_wording (code, version, id);
CREATE TRIGGER tr_instrument_wording_append_only_u BEFORE UPDATE ON instrument_wording
BEGIN SELECT RAISE(ABORT, 'instrument_wording rows are append-only'); END;
CREATE TRIGGER tr_instrument_wording_append_only_d BEFORE DELETE ON instrument_wording
BEGIN SELECT RAISE(ABORT, 'instrument_wording rows are append-only'); END;

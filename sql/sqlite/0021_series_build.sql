-- 0021 each stored series carries the number of the rebuild that wrote it (build_number).
-- Between two rebuilds a series only grows by appended points (0018, 0020): the same build number and
-- a larger point count (series and tail together) mean the earlier points are unchanged. A reader that
-- keeps something computed from a series (the patient list's cycle state) advances it by the new
-- points under the same build number, and computes it again under another. series_build holds the last
-- number given; a rebuild takes the next one in its write transaction. Series written before this
-- migration carry 0, which no rebuild gives.
ALTER TABLE measure_series ADD COLUMN build_number INTEGER NOT NULL DEFAULT 0;

CREATE TABLE series_build (
    id      INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    number  INTEGER NOT NULL
);

INSERT INTO series_build (id, number) VALUES (1, 0);

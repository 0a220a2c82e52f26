-- 0022 a long series is kept in closed segments and one open segment, so that no write rewrites a
-- long text. A fold (0020) appended a tail to the whole series text, rewriting all of it (some 200 KB
-- after a day of heavy writes) every 128 values, and a reader that needed only the end still loaded
-- the whole text. Now measure_series.points holds only the open segment: the points after those of
-- the closed segments. measure_series.point_count still counts every point of the series (closed and
-- open, not the tail); closed_count counts those in closed segments. A fold appends a tail to the open
-- segment and, once the open segment holds Cohorts:Series:SegmentPoints points or more, moves it whole
-- into a new closed segment (the next seq) and leaves the open one empty. Closed segments are never
-- changed: a rebuild deletes a patient's series with their segments and writes them anew. The whole
-- series is its closed segments in seq order, then the open segment, joined by '|'.
-- Series written before this migration are open segments of closed_count 0; their next fold closes them.
ALTER TABLE measure_series ADD COLUMN closed_count INTEGER NOT NULL DEFAULT 0;

CREATE TABLE measure_series_segment (
    series_id    INTEGER NOT NULL REFERENCES measure_series (id),
    seq          INTEGER NOT NULL,
    point_count  INTEGER NOT NULL,
    points       TEXT    NOT NULL,
    PRIMARY KEY (series_id, seq)
);

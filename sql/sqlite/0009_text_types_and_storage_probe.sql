-- 0009 a one-row table that readiness writes, while the last write failed for want of space, to
-- learn whether a commit reaches the disk again. (On SQL Server this migration also makes the
-- compared text columns NVARCHAR; SQLite has one text type, so nothing else changes here.)
CREATE TABLE storage_probe (
    id          INTEGER PRIMARY KEY,
    checked_at  TEXT NOT NULL
);
INSERT INTO storage_probe (id, checked_at) VALUES (1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));

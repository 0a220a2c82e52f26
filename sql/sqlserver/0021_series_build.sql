-- 0021 each stored series carries the number of the rebuild that wrote it (see
-- sql/sqlite/0021_series_build.sql). A rebuild takes the next number by updating the one row of
-- series_build in its write transaction, which also keeps two rebuilds from sharing a number.
ALTER TABLE dbo.measure_series ADD build_number BIGINT NOT NULL CONSTRAINT df_measure_series_build_number DEFAULT 0;
GO
CREATE TABLE dbo.series_build (
    id      INT    NOT NULL CONSTRAINT pk_series_build PRIMARY KEY CONSTRAINT ck_series_build_one CHECK (id = 1),
    number  BIGINT NOT NULL
);
GO
INSERT INTO dbo.series_build (id, number) VALUES (1, 0);

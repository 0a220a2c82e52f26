-- 0022 a long series is kept in closed segments and one open segment (see
-- sql/sqlite/0022_series_segments.sql): measure_series.points holds the open segment only.
ALTER TABLE dbo.measure_series ADD closed_count INT NOT NULL CONSTRAINT df_measure_series_closed_count DEFAULT 0;
GO
CREATE TABLE dbo.measure_series_segment (
    series_id    BIGINT        NOT NULL CONSTRAINT fk_measure_series_segment_series REFERENCES dbo.measure_series (id),
    seq          INT           NOT NULL,
    point_count  INT           NOT NULL,
    points       VARCHAR(MAX)  NOT NULL,
    CONSTRAINT pk_measure_series_segment PRIMARY KEY (series_id, seq)
);

-- 0010 treatment sessions are corrected as new versions (see sql/sqlite/0010_session_versions.sql).
ALTER TABLE dbo.treatment_session ADD
    supersedes_id     BIGINT         NULL CONSTRAINT fk_treatment_session_supersedes REFERENCES dbo.treatment_session (id),
    root_id           BIGINT         NULL CONSTRAINT fk_treatment_session_root REFERENCES dbo.treatment_session (id),
    entered_in_error  BIT            NOT NULL CONSTRAINT df_treatment_session_entered_in_error DEFAULT 0,
    change_reason     NVARCHAR(500)  NULL,
    high_dose_reason  NVARCHAR(500)  NULL;
GO
CREATE UNIQUE INDEX ux_treatment_session_supersedes ON dbo.treatment_session (supersedes_id) WHERE supersedes_id IS NOT NULL;
GO

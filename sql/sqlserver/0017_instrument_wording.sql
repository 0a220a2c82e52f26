-- 0017 the clinic's licensed wording of an instrument version (see sql/sqlite/0017_instrument_wording.sql).
CREATE TABLE dbo.instrument_wording (
    id          BIGINT IDENTITY(1,1) NOT NULL CONSTRAINT pk_instrument_wording PRIMARY KEY,
    code        NVARCHAR(64)       NOT NULL,
    version     NVARCHAR(16)       NOT NULL,
    wording     NVARCHAR(MAX)      NOT NULL,
    created_at  DATETIMEOFFSET(3)  NOT NULL,
    created_by  NVARCHAR(200)      NOT NULL
);
CREATE INDEX ix_instrument_wording ON dbo.instrument_wording (code, version, id);
GO
CREATE TRIGGER dbo.tr_instrument_wording_append_only ON dbo.instrument_wording INSTEAD OF UPDATE, DELETE
AS BEGIN SET NOCOUNT ON; THROW 50001, 'instrument_wording rows are append-only', 1; END;

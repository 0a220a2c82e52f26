-- 0011 review of a serious side effect withdrawn by the patient (see sql/sqlite/0011_withdrawal_review.sql).
CREATE TABLE dbo.withdrawal_review (
    id              BIGINT IDENTITY(1,1) NOT NULL CONSTRAINT pk_withdrawal_review PRIMARY KEY,
    observation_id  BIGINT             NOT NULL CONSTRAINT fk_withdrawal_review_observation REFERENCES dbo.observation (id),
    patient_id      BIGINT             NOT NULL CONSTRAINT fk_withdrawal_review_patient REFERENCES dbo.patient (id),
    reviewed_at     DATETIMEOFFSET(3)  NOT NULL,
    reviewed_by     NVARCHAR(200)      NOT NULL,
    reviewed_role   NVARCHAR(32)       NOT NULL,
    note            NVARCHAR(500)      NULL
);
CREATE UNIQUE INDEX ux_withdrawal_review_observation ON dbo.withdrawal_review (observation_id);
GO
CREATE TRIGGER dbo.tr_withdrawal_review_append_only ON dbo.withdrawal_review INSTEAD OF UPDATE, DELETE
AS BEGIN SET NOCOUNT ON; THROW 50001, 'withdrawal_review rows are append-only', 1; END;
GO

-- 0019 a change counter per patient, for the practitioner's patient list (see
-- sql/sqlite/0019_patient_change.sql). Each trigger bumps the counters of the patients of the inserted
-- rows; the insert of a first row holds its key range (UPDLOCK, HOLDLOCK) so two writers for one
-- patient cannot both insert it.
CREATE TABLE dbo.patient_change (
    patient_id  BIGINT NOT NULL CONSTRAINT pk_patient_change PRIMARY KEY
                CONSTRAINT fk_patient_change_patient REFERENCES dbo.patient (id),
    generation  BIGINT NOT NULL
);
GO
CREATE TRIGGER dbo.tr_observation_patient_change ON dbo.observation AFTER INSERT AS
BEGIN
    SET NOCOUNT ON;
    UPDATE c SET generation = c.generation + 1
    FROM dbo.patient_change c
    WHERE c.patient_id IN (SELECT i.patient_id FROM inserted i);
    INSERT INTO dbo.patient_change (patient_id, generation)
    SELECT DISTINCT i.patient_id, 1 FROM inserted i
    WHERE NOT EXISTS (SELECT 1 FROM dbo.patient_change c WITH (UPDLOCK, HOLDLOCK) WHERE c.patient_id = i.patient_id);
END;
GO
CREATE TRIGGER dbo.tr_treatment_session_patient_change ON dbo.treatment_session AFTER INSERT AS
BEGIN
    SET NOCOUNT ON;
    UPDATE c SET generation = c.generation + 1
    FROM dbo.patient_change c
    WHERE c.patient_id IN (SELECT i.patient_id FROM inserted i);
    INSERT INTO dbo.patient_change (patient_id, generation)
    SELECT DISTINCT i.patient_id, 1 FROM inserted i
    WHERE NOT EXISTS (SELECT 1 FROM dbo.patient_change c WITH (UPDLOCK, HOLDLOCK) WHERE c.patient_id = i.patient_id);
END;
GO
CREATE TRIGGER dbo.tr_patient_version_patient_change ON dbo.patient_version AFTER INSERT AS
BEGIN
    SET NOCOUNT ON;
    UPDATE c SET generation = c.generation + 1
    FROM dbo.patient_change c
    WHERE c.patient_id IN (SELECT i.patient_id FROM inserted i);
    INSERT INTO dbo.patient_change (patient_id, generation)
    SELECT DISTINCT i.patient_id, 1 FROM inserted i
    WHERE NOT EXISTS (SELECT 1 FROM dbo.patient_change c WITH (UPDLOCK, HOLDLOCK) WHERE c.patient_id = i.patient_id);
END;
GO
CREATE TRIGGER dbo.tr_withdrawal_review_patient_change ON dbo.withdrawal_review AFTER INSERT AS
BEGIN
    SET NOCOUNT ON;
    UPDATE c SET generation = c.generation + 1
    FROM dbo.patient_change c
    WHERE c.patient_id IN (SELECT i.patient_id FROM inserted i);
    INSERT INTO dbo.patient_change (patient_id, generation)
    SELECT DISTINCT i.patient_id, 1 FROM inserted i
    WHERE NOT EXISTS (SELECT 1 FROM dbo.patient_change c WITH (UPDLOCK, HOLDLOCK) WHERE c.patient_id = i.patient_id);
END;
GO
CREATE TRIGGER dbo.tr_alert_patient_change ON dbo.alert AFTER INSERT AS
BEGIN
    SET NOCOUNT ON;
    UPDATE c SET generation = c.generation + 1
    FROM dbo.patient_change c
    WHERE c.patient_id IN (SELECT i.patient_id FROM inserted i);
    INSERT INTO dbo.patient_change (patient_id, generation)
    SELECT DISTINCT i.patient_id, 1 FROM inserted i
    WHERE NOT EXISTS (SELECT 1 FROM dbo.patient_change c WITH (UPDLOCK, HOLDLOCK) WHERE c.patient_id = i.patient_id);
END;
GO
CREATE TRIGGER dbo.tr_alert_acknowledgement_patient_change ON dbo.alert_acknowledgement AFTER INSERT AS
BEGIN
    SET NOCOUNT ON;
    UPDATE c SET generation = c.generation + 1
    FROM dbo.patient_change c
    WHERE c.patient_id IN (SELECT a.patient_id FROM inserted i JOIN dbo.alert a ON a.id = i.alert_id);
    INSERT INTO dbo.patient_change (patient_id, generation)
    SELECT DISTINCT a.patient_id, 1 FROM inserted i JOIN dbo.alert a ON a.id = i.alert_id
    WHERE NOT EXISTS (SELECT 1 FROM dbo.patient_change c WITH (UPDLOCK, HOLDLOCK) WHERE c.patient_id = a.patient_id);
END;
GO

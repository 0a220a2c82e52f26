-- 0014 alerts, acknowledgements and webhooks (see sql/sqlite/0014_alerts.sql).
CREATE TABLE dbo.alert (
    id              BIGINT IDENTITY(1,1) NOT NULL CONSTRAINT pk_alert PRIMARY KEY,
    kind            NVARCHAR(32)       NOT NULL,
    cause_key       NVARCHAR(200)      NOT NULL,
    patient_id      BIGINT             NOT NULL CONSTRAINT fk_alert_patient REFERENCES dbo.patient (id),
    site_id         BIGINT             NOT NULL CONSTRAINT fk_alert_site REFERENCES dbo.site (id),
    observation_id  BIGINT             NULL CONSTRAINT fk_alert_observation REFERENCES dbo.observation (id),
    session_date    DATE               NULL,
    week            INT                NULL,
    occurred_on     DATE               NOT NULL,
    created_at      DATETIMEOFFSET(3)  NOT NULL
);
CREATE UNIQUE INDEX ux_alert_cause ON dbo.alert (cause_key);
CREATE INDEX ix_alert_site ON dbo.alert (site_id, id);
CREATE INDEX ix_alert_patient ON dbo.alert (patient_id, id);
GO
CREATE TRIGGER dbo.tr_alert_append_only ON dbo.alert INSTEAD OF UPDATE, DELETE
AS BEGIN SET NOCOUNT ON; THROW 50001, 'alert rows are append-only', 1; END;
GO
CREATE TABLE dbo.alert_acknowledgement (
    id                 BIGINT IDENTITY(1,1) NOT NULL CONSTRAINT pk_alert_acknowledgement PRIMARY KEY,
    alert_id           BIGINT             NOT NULL CONSTRAINT fk_alert_acknowledgement_alert REFERENCES dbo.alert (id),
    acknowledged_at    DATETIMEOFFSET(3)  NOT NULL,
    acknowledged_by    NVARCHAR(200)      NOT NULL,
    acknowledged_role  NVARCHAR(32)       NOT NULL,
    practitioner_id    BIGINT             NULL,
    note               NVARCHAR(500)      NULL
);
CREATE UNIQUE INDEX ux_alert_acknowledgement ON dbo.alert_acknowledgement (alert_id);
GO
CREATE TRIGGER dbo.tr_alert_acknowledgement_append_only ON dbo.alert_acknowledgement INSTEAD OF UPDATE, DELETE
AS BEGIN SET NOCOUNT ON; THROW 50001, 'alert_acknowledgement rows are append-only', 1; END;
GO
CREATE TABLE dbo.site_alert_setting (
    site_id                  BIGINT             NOT NULL CONSTRAINT pk_site_alert_setting PRIMARY KEY
                                                CONSTRAINT fk_site_alert_setting_site REFERENCES dbo.site (id),
    no_weekly_score_weeks    INT                NOT NULL,
    updated_at               DATETIMEOFFSET(3)  NOT NULL,
    updated_by               NVARCHAR(200)      NOT NULL
);
CREATE TABLE dbo.webhook (
    id           BIGINT IDENTITY(1,1) NOT NULL CONSTRAINT pk_webhook PRIMARY KEY,
    site_id      BIGINT             NOT NULL CONSTRAINT fk_webhook_site REFERENCES dbo.site (id),
    url          NVARCHAR(2000)     NOT NULL,
    kinds        NVARCHAR(200)      NOT NULL,
    secret       NVARCHAR(200)      NOT NULL,
    created_at   DATETIMEOFFSET(3)  NOT NULL,
    created_by   NVARCHAR(200)      NOT NULL,
    disabled_at  DATETIMEOFFSET(3)  NULL,
    disabled_by  NVARCHAR(200)      NULL
);
CREATE INDEX ix_webhook_site ON dbo.webhook (site_id, id);
CREATE TABLE dbo.webhook_delivery (
    id               BIGINT IDENTITY(1,1) NOT NULL CONSTRAINT pk_webhook_delivery PRIMARY KEY,
    message_id       NVARCHAR(64)       NOT NULL,
    webhook_id       BIGINT             NOT NULL CONSTRAINT fk_webhook_delivery_webhook REFERENCES dbo.webhook (id),
    alert_id         BIGINT             NOT NULL CONSTRAINT fk_webhook_delivery_alert REFERENCES dbo.alert (id),
    status           NVARCHAR(16)       NOT NULL,
    attempts         INT                NOT NULL,
    next_attempt_at  DATETIMEOFFSET(3)  NULL,
    claimed_until    DATETIMEOFFSET(3)  NULL,
    last_attempt_at  DATETIMEOFFSET(3)  NULL,
    last_status      INT                NULL,
    last_error       NVARCHAR(500)      NULL,
    created_at       DATETIMEOFFSET(3)  NOT NULL,
    delivered_at     DATETIMEOFFSET(3)  NULL
);
CREATE UNIQUE INDEX ux_webhook_delivery ON dbo.webhook_delivery (webhook_id, alert_id);
CREATE UNIQUE INDEX ux_webhook_delivery_message ON dbo.webhook_delivery (message_id);
CREATE INDEX ix_webhook_delivery_due ON dbo.webhook_delivery (status, next_attempt_at);

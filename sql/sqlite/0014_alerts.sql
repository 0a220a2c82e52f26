-- 0014 alerts, their acknowledgements, and webhooks that push them to a clinic's own systems.
-- An alert is written in the same transaction as its cause (a serious side-effect report), or by the
-- time-based scan; its cause_key is unique, so two writers (or two instances of the scan) never raise
-- the same alert twice. Alerts and acknowledgements are append-only.
CREATE TABLE alert (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL,
    cause_key       TEXT    NOT NULL,
    patient_id      INTEGER NOT NULL REFERENCES patient (id),
    site_id         INTEGER NOT NULL REFERENCES site (id),
    observation_id  INTEGER NULL REFERENCES observation (id),
    session_date    TEXT    NULL,
    week            INTEGER NULL,
    occurred_on     TEXT    NOT NULL,
    created_at      TEXT    NOT NULL
);
CREATE UNIQUE INDEX ux_alert_cause ON alert (cause_key);
CREATE INDEX ix_alert_site ON alert (site_id, id);
CREATE INDEX ix_alert_patient ON alert (patient_id, id);
CREATE TRIGGER tr_alert_no_update BEFORE UPDATE ON alert
BEGIN SELECT RAISE(ABORT, 'alert rows are append-only'); END;
CREATE TRIGGER tr_alert_no_delete BEFORE DELETE ON alert
BEGIN SELECT RAISE(ABORT, 'alert rows are append-only'); END;

CREATE TABLE alert_acknowledgement (
    id                 INTEGER PRIMARY KEY,
    alert_id           INTEGER NOT NULL REFERENCES alert (id),
    acknowledged_at    TEXT    NOT NULL,
    acknowledged_by    TEXT    NOT NULL,
    acknowledged_role  TEXT    NOT NULL,
    practitioner_id    INTEGER NULL,
    note               TEXT    NULL
);
CREATE UNIQUE INDEX ux_alert_acknowledgement ON alert_acknowledgement (alert_id);
CREATE TRIGGER tr_alert_acknowledgement_no_update BEFORE UPDATE ON alert_acknowledgement
BEGIN SELECT RAISE(ABORT, 'alert_acknowledgement rows are append-only'); END;
CREATE TRIGGER tr_alert_acknowledgement_no_delete BEFORE DELETE ON alert_acknowledgement
BEGIN SELECT RAISE(ABORT, 'alert_acknowledgement rows are append-only'); END;

-- A site's setting for the time-based alerts: weeks without a weekly pain score before an alert.
CREATE TABLE site_alert_setting (
    site_id                  INTEGER PRIMARY KEY REFERENCES site (id),
    no_weekly_score_weeks    INTEGER NOT NULL,
    updated_at               TEXT    NOT NULL,
    updated_by               TEXT    NOT NULL
);

CREATE TABLE webhook (
    id           INTEGER PRIMARY KEY,
    site_id      INTEGER NOT NULL REFERENCES site (id),
    url          TEXT    NOT NULL,
    kinds        TEXT    NOT NULL,
    secret       TEXT    NOT NULL,
    created_at   TEXT    NOT NULL,
    created_by   TEXT    NOT NULL,
    disabled_at  TEXT    NULL,
    disabled_by  TEXT    NULL
);
CREATE INDEX ix_webhook_site ON webhook (site_id, id);

-- One delivery of one alert to one webhook: its message id (the webhook-id header) stays the same
-- across every attempt, so receivers can drop duplicates. Created with the alert (the outbox).
CREATE TABLE webhook_delivery (
    id               INTEGER PRIMARY KEY,
    message_id       TEXT    NOT NULL,
    webhook_id       INTEGER NOT NULL REFERENCES webhook (id),
    alert_id         INTEGER NOT NULL REFERENCES alert (id),
    status           TEXT    NOT NULL,
    attempts         INTEGER NOT NULL,
    next_attempt_at  TEXT    NULL,
    claimed_until    TEXT    NULL,
    last_attempt_at  TEXT    NULL,
    last_status      INTEGER NULL,
    last_error       TEXT    NULL,
    created_at       TEXT    NOT NULL,
    delivered_at     TEXT    NULL
);
CREATE UNIQUE INDEX ux_webhook_delivery ON webhook_delivery (webhook_id, alert_id);
CREATE UNIQUE INDEX ux_webhook_delivery_message ON webhook_delivery (message_id);
CREATE INDEX ix_webhook_delivery_due ON webhook_delivery (status, next_attempt_at);

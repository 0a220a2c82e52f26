-- 0013 an audit event names the practitioner record of a practitioner's token (see sql/sqlite/0013_audit_practitioner.sql).
ALTER TABLE dbo.audit_event ADD actor_practitioner_id BIGINT NULL;
